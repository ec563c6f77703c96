"""Real gateway processes for end-to-end tests: start, wait until healthy, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(database_url: str, workdir: Path, **extra: str) -> dict[str, str]:
    """Environment for a gateway subprocess: only GATEWAY_* values we set, no host leaks."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        GATEWAY_DATABASE_URL=database_url,
        GATEWAY_BLOB_DIR=str(workdir / "blobs"),
        GATEWAY_SMTP_PORT="0",
        GATEWAY_LOG_LEVEL="INFO",
        # The suite's connection budget (tests/conftest.py: TEST_POOL).
        GATEWAY_DATABASE_POOL_SIZE="1",
        GATEWAY_DATABASE_MAX_OVERFLOW="3",
    )
    env.update(extra)
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextlib.contextmanager
def gateway_process(
    env: dict[str, str],
    cwd: Path,
    *,
    command: str = "serve",
    port: int | None = None,
    executable: str | None = None,
    args: list[str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `gateway <command>` (`python -m gateway`, or the installed `executable`); with
    a port, wait for /healthz. Stops it on exit."""
    log_path = cwd / f"gateway-{command}-{port or os.getpid()}-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*([executable] if executable else [sys.executable, "-m", "gateway"]), command]
            + (args or []),
            env=env | ({"GATEWAY_HTTP_PORT": str(port)} if port else {}),
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if port is not None:
                wait_healthy(f"http://127.0.0.1:{port}", proc, log_path)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_healthy(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"gateway did not become healthy:\n{log_path.read_text()}")
