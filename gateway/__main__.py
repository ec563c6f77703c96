"""The `gateway` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

import channels.email
import channels.telegram
from gateway import audit_chain, migrate, serve_workers, server
from gateway.agents.models import Role
from gateway.agents.service import agent_by_name, create_agent, list_agents, rotate_token
from gateway.canned import starter as canned_starter
from gateway.cli.database import open_ports, open_runtime, read_only_session
from gateway.cli.errors import explain
from gateway.cli.listings import agent_lines, dead_letter_lines
from gateway.cli.settings_table import current_values, markdown_table
from gateway.deadletters import repository as dead_letters
from gateway.errors import GatewayError
from gateway.integrations.service import create_service_token
from gateway.logging import configure_logging
from gateway.reports import cli as reports_cli
from gateway.routing import cli as routing_cli
from gateway.routing import rules as routing_rules
from gateway.routing.language import LanguageHints
from gateway.routing.service import RulesRouter, load_rules
from gateway.settings import Settings

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


SAMPLE_RULES = "rules.sample.toml"


async def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.workers > 1:
        return serve_workers.run_workers(settings, args.workers)
    await server.run(settings, http=True)
    return 0


async def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    await server.run(settings, http=False)
    return 0


async def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    await asyncio.to_thread(migrate.upgrade, settings.database.url)
    print("database is at the newest schema")
    return 0


async def cmd_agents_create(settings: Settings, args: argparse.Namespace) -> int:
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            agent, token = await create_agent(
                session,
                name=args.name,
                role=Role(args.role),
                languages=_csv(args.languages),
                queues=_csv(args.queues),
                capacity=args.capacity or settings.queue.default_capacity,
            )
    finally:
        await runtime.close()
    print(f"agent {agent.name} (id {agent.id}, role {agent.role}) created.")
    print("API token (shown once, store it now):")
    print(token)
    return 0


async def cmd_agents_list(settings: Settings, _args: argparse.Namespace) -> int:
    async with read_only_session(settings) as session:
        agents = await list_agents(session)
    print("\n".join(agent_lines(agents)))
    return 0


async def cmd_agents_rotate_token(settings: Settings, args: argparse.Namespace) -> int:
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            agent = await agent_by_name(session, args.name)
            token = await rotate_token(session, agent)
    finally:
        await runtime.close()
    print(f"agent {agent.name}: new API token (the old one no longer works; shown once):")
    if not agent.active:
        print("(the agent is deactivated: the token works once an admin re-activates it)")
    print(token)
    return 0


async def cmd_integrations_create(settings: Settings, args: argparse.Namespace) -> int:
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            row, token = await create_service_token(session, name=args.name)
    finally:
        await runtime.close()
    print(f"service token {row.name} (id {row.id}, role {row.role}) created.")
    print("token (shown once, store it now):")
    print(token)
    return 0


async def cmd_audit_verify(settings: Settings, _args: argparse.Namespace) -> int:
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker() as session:
            report = await audit_chain.verify(session)
    finally:
        await runtime.close()
    for problem in report.problems:
        print(f"event {problem.event_id} ({problem.chain}): {problem.what}")
    verdict = "intact" if report.ok else f"BROKEN ({len(report.problems)} problems)"
    print(f"{report.events} events in {report.chains} chains: {verdict}")
    return 0 if report.ok else 1


async def cmd_rules_load(settings: Settings, args: argparse.Namespace) -> int:
    path = args.file or settings.routing.rules_file
    if path is None:
        print(
            "error: name a rules file (or set GATEWAY_ROUTING_RULES_FILE); "
            "`gateway rules sample > rules.toml` writes one to start from",
            file=sys.stderr,
        )
        return 2
    try:
        source = await asyncio.to_thread(Path(path).read_text, encoding="utf-8")
        rule_set = routing_rules.parse_toml(source)
    except (OSError, routing_rules.RulesError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            version = await load_rules(session, rule_set)
    finally:
        await runtime.close()
    print(
        f"loaded {len(rule_set.queues)} queues and {len(rule_set.rules)} rules (version {version})"
    )
    return 0


async def cmd_canned_load(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else canned_starter.SAMPLE
    try:
        source = await asyncio.to_thread(path.read_text, encoding="utf-8")
        replies = canned_starter.parse(source)
    except (OSError, canned_starter.StarterError) as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    runtime = await open_runtime(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            created, updated = await canned_starter.load(session, replies)
    finally:
        await runtime.close()
    print(f"canned replies: {created} created, {updated} updated")
    return 0


async def cmd_rules_show(settings: Settings, _args: argparse.Namespace) -> int:
    async with read_only_session(settings) as session:
        rule_set, _ids = await RulesRouter(settings.routing).rules(session)
    print(routing_rules.to_toml(rule_set))
    return 0


async def cmd_rules_sample(_settings: Settings, _args: argparse.Namespace) -> int:
    print(sample_rules(), end="")
    return 0


def sample_rules() -> str:
    """The shipped sample rules file: a queue per language, `critical`, `escalation`."""
    return resources.files("gateway.routing").joinpath(SAMPLE_RULES).read_text(encoding="utf-8")


async def cmd_route(settings: Settings, args: argparse.Namespace) -> int:
    router = RulesRouter(settings.routing)
    if args.rules:
        try:
            source = await asyncio.to_thread(Path(args.rules).read_text, encoding="utf-8")
            rule_set = routing_rules.parse_toml(source)
        except (OSError, routing_rules.RulesError) as exc:
            print(f"error: {args.rules}: {exc}", file=sys.stderr)
            return 2
    else:
        # A dry run: no migration, a read-only connection, and the rules read before the
        # language models load (a database problem is reported at once).
        async with read_only_session(settings) as session:
            rule_set, _ids = await router.rules(session)
    await router.warm_up()
    outcome = router.evaluate(
        args.text, rule_set, channel=args.channel, hints=LanguageHints(channel=args.lang_hint)
    )
    print(routing_cli.describe(outcome))
    return 0


async def cmd_settings(settings: Settings, args: argparse.Namespace) -> int:
    if args.values:
        for variable, value in current_values(settings):
            print(f"{variable}={value}")
    else:
        print(markdown_table())
    return 0


async def cmd_email_dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    async with read_only_session(settings) as session:
        letters = await dead_letters.list_dead_letters(
            session,
            channel="email",
            reason=args.reason,
            pending_only=args.pending,
            limit=args.limit,
        )
        counts = await dead_letters.reason_counts(session, channel="email")
    print("\n".join(dead_letter_lines(letters, counts)))
    return 0


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gateway",
        description="Parley: the support gateway of a P2P dispute desk. "
        "Settings come from GATEWAY_* environment variables and ./.env (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "serve",
        help="migrate the database, then run HTTP, SMTP and the workers in the foreground",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="serving processes on the one HTTP port (PostgreSQL only; the first also "
        "runs the SMTP listener and pollers)",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser(
        "worker",
        help="run only the delivery, claim-lease and SLA workers (no HTTP), in the foreground",
    )
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("migrate", help="bring the database schema to the newest version")
    p.set_defaults(func=cmd_migrate)

    agents = sub.add_parser("agents", help="manage desk agents").add_subparsers(
        dest="agents_command", required=True, metavar="SUBCOMMAND"
    )
    p = agents.add_parser("create", help="create an agent and print its API token once")
    p.add_argument("--name", required=True, help="unique agent name")
    p.add_argument("--role", choices=[r.value for r in Role], default=Role.agent.value)
    p.add_argument("--languages", default="", help="languages the agent reads, e.g. en,ru")
    p.add_argument("--queues", default="general", help="queues the agent works, e.g. general,ru")
    p.add_argument(
        "--capacity", type=int, help="most tickets held at once (GATEWAY_QUEUE_DEFAULT_CAPACITY)"
    )
    p.set_defaults(func=cmd_agents_create)
    p = agents.add_parser("list", help="list every agent: role, active, capacity, queues")
    p.set_defaults(func=cmd_agents_list)
    p = agents.add_parser(
        "rotate-token", help="issue an agent a new API token, printed once; the old one ends"
    )
    p.add_argument("name", help="the agent's name")
    p.set_defaults(func=cmd_agents_rotate_token)

    integrations = sub.add_parser(
        "integrations", help="service tokens for the exchange backend (role integration)"
    ).add_subparsers(dest="integrations_command", required=True, metavar="SUBCOMMAND")
    p = integrations.add_parser("create", help="create a service token and print it once")
    p.add_argument("--name", required=True, help="unique caller name, e.g. exchange-backend")
    p.set_defaults(func=cmd_integrations_create)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True, metavar="SUBCOMMAND"
    )
    p = audit.add_parser("verify", help="check every audit hash chain; exit 1 if one is broken")
    p.set_defaults(func=cmd_audit_verify)

    telegram = sub.add_parser("telegram", help="Telegram bot setup").add_subparsers(
        dest="telegram_command", required=True, metavar="SUBCOMMAND"
    )
    channels.telegram.commands(telegram, open_ports)
    rules = sub.add_parser("rules", help="queues and routing rules").add_subparsers(
        dest="rules_command", required=True, metavar="SUBCOMMAND"
    )
    p = rules.add_parser("load", help="replace the routing rules with a TOML file's")
    p.add_argument("file", nargs="?", help="rules file (default: GATEWAY_ROUTING_RULES_FILE)")
    p.set_defaults(func=cmd_rules_load)
    p = rules.add_parser("show", help="print the stored queues and rules as TOML")
    p.set_defaults(func=cmd_rules_show)
    p = rules.add_parser(
        "sample", help="print the sample rules file (`gateway rules sample > rules.toml`)"
    )
    p.set_defaults(func=cmd_rules_sample)

    canned = sub.add_parser("canned", help="canned replies for the console").add_subparsers(
        dest="canned_command", required=True, metavar="SUBCOMMAND"
    )
    p = canned.add_parser(
        "load", help="create or refresh canned replies from a TOML file (default: starter set)"
    )
    p.add_argument("file", nargs="?", help="canned replies file (default: the shipped sample)")
    p.set_defaults(func=cmd_canned_load)

    p = sub.add_parser(
        "route",
        help="show what routing decides for a message, and why (a dry run: writes nothing)",
    )
    p.add_argument("text", help="the message text")
    p.add_argument("--channel", choices=["email", "telegram", "webchat"], default="email")
    p.add_argument("--lang-hint", help="the channel's language hint (Telegram language_code)")
    p.add_argument("--rules", help="evaluate against this rules file instead of the database")
    p.set_defaults(func=cmd_route)
    routing_cli.add_commands(sub, open_runtime)
    reports_cli.add_commands(sub)

    email = sub.add_parser("email", help="email channel operations").add_subparsers(
        dest="email_command", required=True, metavar="SUBCOMMAND"
    )
    channels.email.commands(email, open_ports)
    p = email.add_parser(
        "dead-letters", help="list mails set aside instead of stored, newest first"
    )
    p.add_argument("--reason", help="only this reason (auto_reply, bounce, unparseable, ...)")
    p.add_argument("--pending", action="store_true", help="only those not stored since")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_email_dead_letters)

    p = sub.add_parser(
        "settings", help="print every GATEWAY_* setting with its meaning and default"
    )
    p.add_argument(
        "--values", action="store_true", help="print the values in effect instead (secrets hidden)"
    )
    p.set_defaults(func=cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"error: {explain(exc, '')}", file=sys.stderr)
        return 2
    configure_logging(settings.log.level, json_format=settings.log.json_format)
    func: Command = args.func
    # The long-running processes run on uvloop (see server.run_serving).
    run = server.run_serving if func in (cmd_serve, cmd_worker) else asyncio.run
    try:
        return run(func(settings, args))
    except GatewayError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # An operator's problem (database down or full, schema behind) is one line with
        # its fix; anything else is a bug and keeps its traceback.
        message = explain(exc, settings.database.url)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
