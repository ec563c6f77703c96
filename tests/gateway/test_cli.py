"""The command line as an operator uses it, against a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, gateway_env, gateway_process, run_cli


def test_help_explains_every_command(tmp_path: Path) -> None:
    result = run_cli(["--help"], gateway_env("sqlite+aiosqlite:///x.db", tmp_path), tmp_path)
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "agents"):
        assert command in result.stdout


def test_serve_on_the_embedded_default_answers_health_and_metrics(tmp_path: Path) -> None:
    """No database URL at all: the default SQLite file appears in the working folder."""
    env = gateway_env("", tmp_path)
    del env["GATEWAY_DATABASE_URL"]
    port = free_port()
    with gateway_process(env, tmp_path, port=port):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        assert "parley_messages_ingested_total" in metrics
    assert (tmp_path / "parley.db").exists()


def test_agents_create_prints_a_token_once_and_refuses_a_duplicate(tmp_path: Path) -> None:
    """On a fresh install, before any `serve` or `migrate`: the command makes the schema."""
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}", tmp_path)
    created = run_cli(
        ["agents", "create", "--name", "mei", "--languages", "zh,en", "--queues", "general,zh"],
        env,
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("prl_") and len(token) > 40
    again = run_cli(["agents", "create", "--name", "mei"], env, tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_installed_console_script_serves_from_any_folder(tmp_path: Path) -> None:
    """README's first command: the `gateway` script pip installed, run outside the repo
    with nothing of the repo on the path, must find all of its parts (migrations too)."""
    script = Path(sys.executable).parent / "gateway"
    if not script.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{script} missing: CI installs the project into its venv")
        pytest.skip(f"the project is not installed next to {sys.executable}")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") and k != "PYTHONPATH"
    }
    port = free_port()
    env.update(
        GATEWAY_HTTP_PORT=str(port), GATEWAY_SMTP_PORT="0", GATEWAY_BLOB_DIR=str(tmp_path / "b")
    )
    with subprocess.Popen(
        [str(script), "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE
    ) as proc:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
