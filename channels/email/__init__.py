"""The email channel: SMTP listener, IMAP poller, MIME parsing, threaded replies.

Its pure modules (parse, ids, loops, quotes, headers) import alone: nothing here is
loaded before `install` or `commands` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from gateway.channel_ports import ChannelPorts, OpenPorts
    from gateway.ports import ChannelPlugin


def install(ports: ChannelPorts) -> ChannelPlugin:
    """The email channel for these ports: listener (port 0 = off), IMAP poller (when a
    host is set) and the reply adapter (when a relay is set)."""
    from channels.email.ids import domain_of
    from channels.email.imap import ImapPoller
    from channels.email.outbound import EmailAdapter
    from channels.email.service import EmailIntake
    from channels.email.smtp import SmtpListener
    from gateway.ports import BackgroundService, Channel, ChannelPlugin

    settings = ports.settings
    intake = EmailIntake(ports)
    services: list[BackgroundService] = []
    if settings.smtp.port:
        services.append(
            SmtpListener(
                intake,
                host=settings.smtp.host,
                port=settings.smtp.port,
                max_message_bytes=settings.smtp.max_message_bytes,
                hostname=domain_of(settings.mail.from_address),
            )
        )
    if settings.imap.host:
        services.append(ImapPoller(intake, settings.imap))
    adapter = (
        EmailAdapter(settings.smtp, settings.mail, ports.blobs)
        if settings.smtp.relay_host
        else None
    )
    return ChannelPlugin(channel=Channel.email, adapter=adapter, services=services)


def commands(subcommands: argparse._SubParsersAction[Any], open_ports: OpenPorts) -> None:
    """Add the channel's `gateway email ...` commands (channels/email/cli.py)."""
    from channels.email.cli import add_commands

    add_commands(subcommands, open_ports)
