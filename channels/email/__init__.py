"""The email channel: SMTP listener, IMAP poller, MIME parsing, threaded replies."""

from __future__ import annotations

from channels.email.ids import domain_of
from channels.email.imap import ImapPoller
from channels.email.outbound import EmailAdapter
from channels.email.service import EmailIntake
from channels.email.smtp import SmtpListener
from gateway.ports import BackgroundService, Channel, ChannelPlugin
from gateway.runtime import Runtime


def install(runtime: Runtime) -> ChannelPlugin:
    """The email channel for this runtime: listener (port 0 = off), IMAP poller (when a
    host is set) and the reply adapter (when a relay is set)."""
    settings = runtime.settings
    intake = EmailIntake(runtime)
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
        EmailAdapter(settings.smtp, settings.mail, runtime.blobs)
        if settings.smtp.relay_host
        else None
    )
    return ChannelPlugin(channel=Channel.email, adapter=adapter, services=services)
