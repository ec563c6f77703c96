"""Operator commands against a real database: listings, token rotation, dry runs."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

from fastapi import FastAPI

from gateway.__main__ import sample_rules
from gateway.deadletters.repository import set_aside
from gateway.routing import rules as routing_rules
from gateway.runtime import Runtime
from tests.desk import client, make_agent
from tests.processes import gateway_env, run_cli


def test_agents_list_shows_each_agent_and_rotate_token_replaces_the_old_one(
    database_url: str, tmp_path: Path, unique: str
) -> None:
    env = gateway_env(database_url, tmp_path)
    name = f"ana-{unique}"
    created = run_cli(
        ["agents", "create", "--name", name, "--languages", "en,ru", "--queues", "general"],
        env,
        tmp_path,
    )
    assert created.returncode == 0, created.stderr
    old = created.stdout.strip().splitlines()[-1]
    listed = run_cli(["agents", "list"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(name))
    assert row.split() == [name, "agent", "yes", "10", "en,ru", "general"]
    assert old not in listed.stdout

    rotated = run_cli(["agents", "rotate-token", name], env, tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip().splitlines()[-1]
    assert new.startswith("prl_") and new != old
    missing = run_cli(["agents", "rotate-token", f"nobody-{unique}"], env, tmp_path)
    assert missing.returncode == 2 and "no agent named" in missing.stderr


async def test_a_rotated_token_works_and_the_old_one_is_refused(
    app: FastAPI, runtime: Runtime, database_url: str, tmp_path: Path, unique: str
) -> None:
    name = f"rot-{unique}"
    old = await make_agent(runtime, ["general"], name=name)
    env = gateway_env(database_url, tmp_path)
    rotated = run_cli(["agents", "rotate-token", name], env, tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip().splitlines()[-1]
    for token, status in ((old, 401), (new, 200)):
        async with client(app, token) as http:
            assert (await http.get("/api/v1/me")).status_code == status


async def test_email_dead_letters_lists_set_aside_mail_by_reason(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    bouncer, replier = f"mailer-{uuid.uuid4().hex[:8]}@x.test", f"ooo-{uuid.uuid4().hex[:8]}@x.test"
    async with runtime.sessionmaker.begin() as session:
        for sender, reason in ((bouncer, "bounce"), (replier, "auto_reply")):
            await set_aside(
                session,
                channel="email",
                external_id=f"<{uuid.uuid4().hex}@x.test>",
                reason=reason,
                error=f"looks like a {reason}",
                raw_blob_key=None,
                sender=sender,
            )
    env = gateway_env(database_url, tmp_path)
    everything = run_cli(["email", "dead-letters"], env, tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert bouncer in everything.stdout and replier in everything.stdout
    bounces = run_cli(["email", "dead-letters", "--reason", "bounce"], env, tmp_path)
    assert bounces.returncode == 0, bounces.stderr
    line = next(x for x in bounces.stdout.splitlines() if bouncer in x)
    assert "bounce" in line and "set aside" in line and "looks like a bounce" in line
    assert replier not in bounces.stdout
    assert "in all:" in bounces.stdout


async def test_the_email_channels_own_command_runs_a_dead_letter_again(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    # `gateway email retry-dead-letter` is registered by the email channel itself.
    async with runtime.sessionmaker.begin() as session:
        letter = await set_aside(
            session,
            channel="email",
            external_id=f"<{uuid.uuid4().hex}@x.test>",
            reason="unparseable",
            error="no raw bytes kept",
            raw_blob_key=None,
        )
    env = gateway_env(database_url, tmp_path)
    again = run_cli(["email", "retry-dead-letter", str(letter.id)], env, tmp_path)
    assert again.returncode == 2
    assert f"dead letter {letter.id} has no raw mail to run again" in again.stderr
    missing = run_cli(["email", "retry-dead-letter", "2000000000"], env, tmp_path)
    assert missing.returncode == 2 and "not found" in missing.stderr


def test_rules_sample_prints_a_file_rules_load_accepts(tmp_path: Path) -> None:
    env = gateway_env(f"sqlite+aiosqlite:///{tmp_path / 'r.db'}", tmp_path)
    sample = run_cli(["rules", "sample"], env, tmp_path)
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout == sample_rules()
    assert routing_rules.parse_toml(sample.stdout).queues
    path = tmp_path / "rules.toml"
    path.write_text(sample.stdout, encoding="utf-8")
    loaded = run_cli(["rules", "load", str(path)], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    unnamed = run_cli(["rules", "load"], env, tmp_path)
    assert unnamed.returncode == 2 and "gateway rules sample" in unnamed.stderr


def test_route_is_a_dry_run_that_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "route.db"
    env = gateway_env(f"sqlite+aiosqlite:///{db}", tmp_path)
    assert run_cli(["migrate"], env, tmp_path).returncode == 0

    def dump() -> str:
        with sqlite3.connect(db) as conn:
            return hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()

    before = dump()
    routed = run_cli(["route", "I paid 2000 USDT and the seller did not release"], env, tmp_path)
    assert routed.returncode == 0, routed.stderr
    fields = dict(line.split(":", 1) for line in routed.stdout.splitlines() if ":" in line)
    assert fields["category"].strip() == "crypto_not_released"
    assert fields["queue"].strip() == "general"
    assert dump() == before
