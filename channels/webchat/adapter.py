"""Delivery of agent replies to the widget: the reply is already a message row, so
delivering it means waking every socket of the visitor, in every gateway process."""

from __future__ import annotations

import structlog

from gateway import topics
from gateway.channel_ports import ChannelPorts
from gateway.ports import Channel, DeliveryError, DeliveryReceipt, OutboundMessage

log = structlog.get_logger()


class WebchatAdapter:
    channel = Channel.webchat

    def __init__(self, ports: ChannelPorts) -> None:
        self.ports = ports

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Signal the visitor's sockets (at commit); they read the reply from the database.

        A visitor who is offline gets it from history on their next connect."""
        async with self.ports.sessionmaker.begin() as session:
            identity_id = await self.ports.history.identity_of_message(
                session, Channel.webchat, message.message_id
            )
            if identity_id is None:
                raise DeliveryError(
                    f"message {message.message_id} is not in a webchat conversation",
                    retryable=False,
                )
            await self.ports.notifier.publish(session, topics.WEBCHAT, str(identity_id))
        log.info(
            "webchat.reply_signalled",
            message_id=message.message_id,
            ticket=message.ticket_ref,
            identity_id=identity_id,
        )
        return DeliveryReceipt(provider_id=f"webchat:{message.message_id}")
