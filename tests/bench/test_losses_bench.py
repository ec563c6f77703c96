"""bench/losses.py at a small size on PostgreSQL: the bulk fill runs, every report is
built and printed (figures only; nothing is timed here)."""

from __future__ import annotations

import os

import pytest

from bench import losses
from tests.conftest import PG_ADMIN_DSN, _pg_available


async def test_the_loss_bench_fills_and_builds_every_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = await _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    args = losses.parse(["--cases", "3000", "--runs", "1", "--dsn", PG_ADMIN_DSN])
    assert await losses.main(args) == 0
    out = capsys.readouterr().out
    assert "filled 3,000 decided cases" in out
    lines = [line for line in out.splitlines() if line.startswith(("last 8 weeks", "whole year"))]
    assert len(lines) == 2 * len(losses.REPORTS)
    # Every case of the synthetic year is in the whole-year reports.
    assert all(line.split()[-2] == "3,000" for line in lines if line.startswith("whole year"))
