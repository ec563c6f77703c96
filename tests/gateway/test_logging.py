"""One log format: with JSON logs on, every line any logger writes is a JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.processes import free_port, gateway_env, gateway_process


def test_serve_writes_only_json_lines_uvicorn_and_alembic_included(tmp_path: Path) -> None:
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}", tmp_path)
    port = free_port()
    with gateway_process(env, tmp_path, port=port):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
    (log,) = tmp_path.glob("gateway-serve-*.log")
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    loggers = {r.get("logger") for r in records}
    # The migration (alembic) and the HTTP server (uvicorn) both spoke, as JSON.
    assert any(name and name.startswith("alembic") for name in loggers), loggers
    assert "uvicorn.error" in loggers, loggers
    assert {"gateway.listening", "gateway.stopped"} <= {r["event"] for r in records}
    assert all({"event", "level", "timestamp"} <= r.keys() for r in records)
