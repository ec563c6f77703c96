"""A visitor's message frame -> InboundMessage (the channel contract, gateway/ports.py).
Pure: no I/O. Refuses with the reason (4xx) what cannot be a message; the widget has
nothing to ignore, so it never answers Ignored."""

from __future__ import annotations

import re

from channels.webchat.sessions import Visitor
from gateway.errors import InvalidInbound, PayloadTooLarge
from gateway.ports import Channel, InboundAttachment, InboundMessage
from gateway.text import problem_in

CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def normalise(
    visitor: Visitor,
    client_id: object,
    text: object,
    *,
    max_chars: int,
    attachments: tuple[InboundAttachment, ...] = (),
) -> InboundMessage:
    """The message a visitor sent: stored once per (visitor, client_id), on the visitor's
    one conversation, with what their session token says about them."""
    if not isinstance(client_id, str) or not CLIENT_ID.match(client_id):
        raise InvalidInbound("client_id must be 1-64 characters of A-Z a-z 0-9 _ -")
    if not isinstance(text, str):
        raise InvalidInbound("text must be a string")
    if problem := problem_in(text):
        raise InvalidInbound(f"text {problem}")
    if len(text) > max_chars:
        raise PayloadTooLarge(f"message is {len(text)} characters; the limit is {max_chars}")
    language = visitor.language
    return InboundMessage(
        channel=Channel.webchat,
        external_id=f"{visitor.visitor_id}:{client_id}",
        sender=visitor.visitor_id,
        sender_name=visitor.name,
        text=text,
        thread_key=visitor.visitor_id,
        language_hint=language.split("-")[0].split("_")[0].lower() if language else None,
        verified_user_id=visitor.user_id,
        contact_email=visitor.email if visitor.email_vouched else None,
        attachments=attachments,
    )
