"""`gateway serve --workers N`: N processes on one port, and they fall together."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, gateway_env, gateway_process, run_cli


def _serving_children(parent: int) -> list[int]:
    """The spawned serving processes under `parent` (not multiprocessing's helpers)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and "spawn_main" in cmdline:
            found.append(int(proc.name))
    return found


def test_two_workers_serve_one_port_and_stop_together_when_one_dies(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("several serving processes need PostgreSQL")
    port = free_port()
    env = gateway_env(database_url, tmp_path)
    base = f"http://127.0.0.1:{port}"
    with gateway_process(env, tmp_path, port=port, args=["--workers", "2"]) as parent:
        deadline = time.monotonic() + 60
        while len(children := _serving_children(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(children) == 2
        session = httpx.post(f"{base}/channels/webchat/sessions", json={"name": "Wu"}).json()
        for _ in range(20):  # new connections each, spread by the kernel
            assert httpx.get(f"{base}/healthz").status_code == 200
        assert "token" in session
        os.kill(children[0], signal.SIGKILL)
        assert parent.wait(timeout=60) == 1
        assert _serving_children(parent.pid) == []
    log = next(tmp_path.glob("gateway-serve-*.log")).read_text()
    assert log.count('"gateway.listening"') == 2


def test_workers_refuse_sqlite_in_one_line(tmp_path: Path) -> None:
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}", tmp_path)
    result = run_cli(["serve", "--workers", "2"], env, tmp_path)
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr and "Traceback" not in result.stderr
