"""`gateway report losses` prints the report as a table or CSV, or writes a PNG chart."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

from PIL import Image

from gateway.runtime import Runtime
from tests.gateway.reports.seed import Loss, fresh_monday, seed
from tests.processes import gateway_env, run_cli


async def test_table_csv_and_png(database_url: str, runtime: Runtime, tmp_path: Path) -> None:
    start = fresh_monday()
    await seed(
        runtime,
        start,
        [
            Loss(0, "chargeback", "SEPA", lost_exchange=120_000, reason_code="10.4"),
            Loss(1, "fraud_or_scam", "card", lost_buyer=50_050),
            Loss(8, "chargeback", "SEPA", lost_exchange=30_000, recovered=10_000),
        ],
    )
    env = gateway_env(database_url, tmp_path)
    window = [
        "--from",
        start.date().isoformat(),
        "--to",
        (start + timedelta(days=13)).date().isoformat(),
    ]

    shown = run_cli(["report", "losses", *window, "--group-by", "week,category"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].split()[:3] == ["week", "category", "cases"]
    total = next(line for line in lines if line.startswith("total"))
    assert total.split() == ["total", "3", "2,000.50", "100.00", "1,900.50"]
    assert "last week against the one before: -1,500.50 (-88.2%)" in shown.stdout
    assert "top movers" in shown.stdout and "chargeback: 200.00 USD, -1,000.00" in shown.stdout

    as_csv = run_cli(
        ["report", "losses", *window, "--group-by", "payment_method", "--format", "csv"],
        env,
        tmp_path,
    )
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["payment_method"], r["cases"], r["net_loss"]) for r in rows] == [
        ("SEPA", "2", "1400.00"),
        ("card", "1", "500.50"),
    ]

    out = tmp_path / "losses.png"
    drawn = run_cli(
        [
            "report",
            "losses",
            *window,
            "--group-by",
            "week,category",
            "--format",
            "png",
            "--out",
            str(out),
        ],
        env,
        tmp_path,
    )
    assert drawn.returncode == 0, drawn.stderr
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (1520, 720)
        # Not blank: the bars' colours are in it.
        assert len(image.getcolors(1_000_000) or []) > 10
    bars = tmp_path / "groups.png"
    assert (
        run_cli(
            [
                "report",
                "losses",
                *window,
                "--group-by",
                "category",
                "--format",
                "png",
                "--out",
                str(bars),
            ],
            env,
            tmp_path,
        ).returncode
        == 0
    )
    assert bars.read_bytes().startswith(b"\x89PNG")


def test_bad_arguments_name_the_fix(database_url: str, tmp_path: Path) -> None:
    env = gateway_env(database_url, tmp_path)
    no_out = run_cli(["report", "losses", "--format", "png"], env, tmp_path)
    assert no_out.returncode == 2 and "--out FILE.png" in no_out.stderr
    unknown = run_cli(["report", "losses", "--group-by", "colour"], env, tmp_path)
    assert unknown.returncode == 2 and "group_by colour is not one of" in unknown.stderr
    backwards = run_cli(
        ["report", "losses", "--from", "2026-12-01", "--to", "2026-11-01"], env, tmp_path
    )
    assert backwards.returncode == 2 and "from must be before to" in backwards.stderr
