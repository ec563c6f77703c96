"""The `gateway` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from channels.telegram import cli as telegram_cli
from gateway import migrate, server
from gateway.agents.models import Role
from gateway.agents.service import create_agent
from gateway.errors import GatewayError
from gateway.logging import configure_logging
from gateway.runtime import Runtime
from gateway.settings import Settings

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


async def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
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
    runtime = Runtime.from_settings(settings)
    try:
        async with runtime.sessionmaker.begin() as session:
            agent, token = await create_agent(
                session,
                name=args.name,
                role=Role(args.role),
                languages=_csv(args.languages),
                queues=_csv(args.queues),
                capacity=args.capacity,
            )
    finally:
        await runtime.close()
    print(f"agent {agent.name} (id {agent.id}, role {agent.role}) created.")
    print("API token (shown once, store it now):")
    print(token)
    return 0


async def cmd_telegram_set_webhook(settings: Settings, args: argparse.Namespace) -> int:
    await telegram_cli.set_webhook(settings.telegram, args.url)
    print(f"Telegram webhook set to {args.url} (with the secret token)")
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

    p = sub.add_parser("serve", help="migrate the database, then run HTTP, SMTP and workers")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="run only the delivery and SLA workers (no HTTP)")
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
    p.add_argument("--capacity", type=int, default=10, help="most tickets held at once")
    p.set_defaults(func=cmd_agents_create)

    telegram = sub.add_parser("telegram", help="Telegram bot setup").add_subparsers(
        dest="telegram_command", required=True, metavar="SUBCOMMAND"
    )
    p = telegram.add_parser(
        "set-webhook",
        help="register URL as the bot's webhook, with GATEWAY_TELEGRAM_WEBHOOK_SECRET",
    )
    p.add_argument("url", help="public HTTPS URL of /channels/telegram/webhook")
    p.set_defaults(func=cmd_telegram_set_webhook)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log.level, json_format=settings.log.json_format)
    func: Command = args.func
    try:
        return asyncio.run(func(settings, args))
    except GatewayError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
