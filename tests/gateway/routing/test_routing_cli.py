"""`gateway routing eval` and `gateway routing train` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.routing.model import TriageModel
from tests.processes import gateway_env, run_cli

LINES = [
    ("seller did not release my usdt i paid an hour ago", "en", "crypto_not_released", "high"),
    ("my account was hacked and all my btc withdrawn", "en", "account_takeover", "critical"),
    ("продавец не отпускает usdt", "ru", "crypto_not_released", "high"),
    ("thanks for the quick help", "en", "other", "low"),
]


def write_set(path: Path) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {"text": t, "language": lang, "category": c, "severity": s, "source": "test"}
            )
            + "\n"
            for t, lang, c, s in LINES
        )
    )
    return path


def test_eval_prints_accuracy_confusion_recall_and_speed(tmp_path: Path) -> None:
    data = write_set(tmp_path / "set.jsonl")
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    result = run_cli(
        ["routing", "eval", str(data), "--all", "--json", str(tmp_path / "f.json")], env, tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for heading in (
        "category accuracy",
        "severity accuracy",
        "critical recall:   1/1",
        "per language",
        "per category",
        "confusion",
        "low confidence (triage queue)",
        "slowest",
    ):
        assert heading in out, heading
    figures = json.loads((tmp_path / "f.json").read_text())
    assert figures["examples"] == len(LINES)
    assert figures["critical_recall"] == 1.0
    # Nothing was migrated or created: eval reads files only.
    assert not (tmp_path / "x.db").exists()


def test_eval_refuses_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    result = run_cli(["routing", "eval", str(bad)], env, tmp_path)
    assert result.returncode == 2 and "bad.jsonl:1" in result.stderr


def test_train_writes_a_model_that_loads(tmp_path: Path) -> None:
    data = write_set(tmp_path / "set.jsonl")
    out = tmp_path / "model.json.gz"
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    result = run_cli(["routing", "train", str(data), "--out", str(out)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    model = TriageModel.load(out)
    assert model.meta["trained_on"] + model.meta["held_out"] == len(LINES)


def test_export_corrections_writes_jsonl_from_the_database(tmp_path: Path) -> None:
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", tmp_path)
    out = tmp_path / "corrections.jsonl"
    result = run_cli(["routing", "export-corrections", "--out", str(out)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote 0 corrections" in result.stdout and out.read_text() == ""
