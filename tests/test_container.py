"""The Dockerfile and compose.yaml describe an image that works.

No image registry is reachable where the tests run (the base image cannot be pulled),
so the image is not built here; instead the build is replayed: exactly the files the
Dockerfile copies are built into a wheel the way `pip install .` in the image does, and
the installed package migrates a database and answers `--help` from the image's
working folder. The compose file's commands and settings must be real ones.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

from gateway.__main__ import build_parser
from gateway.cli.settings_table import settings_docs
from tests.processes import REPO_ROOT

SETTINGS = {doc.variable for doc in settings_docs()}


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (REPO_ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def _commands() -> set[str]:
    parser = build_parser()
    return set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


def _copied_sources() -> list[str]:
    sources: list[str] = []
    for keyword, arguments in dockerfile():
        if keyword == "COPY":
            parts = [p for p in shlex.split(arguments) if not p.startswith("--")]
            sources.extend(parts[:-1])
    return sources


def test_the_dockerfile_copies_files_that_exist_and_every_package_pyproject_ships() -> None:
    keywords = [keyword for keyword, _ in dockerfile()]
    assert keywords[0] == "FROM"
    assert set(keywords) <= {
        "FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK",
        "ENTRYPOINT", "CMD", "ARG", "LABEL",
    }  # fmt: skip
    sources = _copied_sources()
    for source in sources:
        assert (REPO_ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {p.rstrip("*") for p in patterns}
    assert packages <= {s.rstrip("/") for s in sources}, "a shipped package is not copied"


def test_the_dockerfile_runs_a_real_command_with_real_settings() -> None:
    instructions = dict(dockerfile())
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    entrypoint = yaml.safe_load(instructions["ENTRYPOINT"])
    assert entrypoint == ["gateway"] and "gateway" in pyproject["project"]["scripts"]
    assert yaml.safe_load(instructions["CMD"])[0] in _commands()
    env = [
        word.split("=", 1)[0]
        for keyword, arguments in dockerfile()
        if keyword == "ENV"
        for word in shlex.split(arguments)
    ]
    unknown = [name for name in env if name.startswith("GATEWAY_") and name not in SETTINGS]
    assert unknown == []
    exposed = {int(port) for port in instructions["EXPOSE"].split()}
    assert exposed == {8000, 2525}


def test_the_image_build_replayed_installs_a_gateway_that_migrates(tmp_path: Path) -> None:
    """`COPY` these files, `pip install .` (a wheel, built in isolation as pip does in
    the image), run from /data: all the image does."""
    app = tmp_path / "app"
    app.mkdir()
    for source in _copied_sources():
        origin = REPO_ROOT / source
        if origin.is_dir():
            shutil.copytree(
                origin, app / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(origin, app / source)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(app)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("parley-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    assert "channels/webchat/static/widget.js" in names
    assert "gateway/routing/rules.sample.toml" in names
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | {
        "PYTHONPATH": str(site),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'parley.db'}",
    }
    probe = "import gateway, migrations; print(gateway.__file__, migrations.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=data, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert where.returncode == 0 and where.stdout.count(str(site)) == 2, where.stdout
    for args in (["migrate"], ["agents", "list"], ["rules", "sample"]):
        result = subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            cwd=data, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (args, result.stderr)


def test_the_compose_file_runs_two_gateways_a_worker_and_postgresql() -> None:
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    services = compose["services"]
    commands = _commands()
    roles = {name: (service.get("command") or [None])[0] for name, service in services.items()}
    assert sorted(r for r in roles.values() if r == "serve") == ["serve", "serve"]
    assert "worker" in roles.values() and "postgres" in services
    for name, service in services.items():
        if "build" in service:
            assert service["build"] == "." and roles[name] in commands
            env = service["environment"]
            unknown = [k for k in env if k.startswith("GATEWAY_") and k not in SETTINGS]
            assert unknown == [], (name, unknown)
            assert env["GATEWAY_DATABASE_URL"].startswith("postgresql+asyncpg://")
