"""`gateway email ...` commands of the channel (the core adds `email dead-letters`)."""

from __future__ import annotations

import argparse
from typing import Any

from gateway.channel_ports import OpenPorts
from gateway.settings import Settings


def add_commands(subcommands: argparse._SubParsersAction[Any], open_ports: OpenPorts) -> None:
    async def retry(settings: Settings, args: argparse.Namespace) -> int:
        from channels.email.service import EmailIntake

        async with open_ports(settings) as ports:
            stored = await EmailIntake(ports).retry_dead_letter(
                args.id, accept_loops=args.accept_loop
            )
        if stored.message_id is not None:
            print(
                f"dead letter {args.id} is now message {stored.message_id} in {stored.ticket_ref}"
            )
            return 0
        print(f"dead letter {args.id} set aside again: {stored.reason}")
        return 1

    p = subcommands.add_parser(
        "retry-dead-letter", help="run a set-aside mail through parsing and intake again"
    )
    p.add_argument("id", type=int, help="dead_letter id")
    p.add_argument(
        "--accept-loop",
        action="store_true",
        help="store it even if it looks like an auto-reply, bounce or bulk mail",
    )
    p.set_defaults(func=retry)
