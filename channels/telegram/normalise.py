"""Telegram Update -> what the desk does with it. Pure: no I/O, no clock of its own.

A private message (or an edit of one) becomes an `InboundMessage`; a private chat's
my_chat_member change becomes a `MemberStatus`; everything else is `Ignored` with the
reason, so the webhook can acknowledge it and log why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from telegram import Message, Update

from channels.telegram.tokens import verify_start_token
from gateway.ports import Channel, Ignored, InboundAttachment, InboundMessage
from gateway.text import clean_text, display_line, display_name, problem_in

PRIVATE = "private"
START = "/start"
# The metadata key naming the fields of an update that were cut or cleaned to be stored.
SCRUBBED = "scrubbed"
LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")


@dataclass(frozen=True, slots=True)
class MemberStatus:
    """The user blocked (`blocked=True`) or unblocked the bot in their private chat."""

    address: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class ChoiceTapped:
    """The user tapped an inline keyboard button of ours (a survey rating)."""

    address: str
    value: str
    callback_id: str
    chat_id: int | None
    message_id: int | None


Parsed = InboundMessage | MemberStatus | ChoiceTapped | Ignored


def update_kind(update: Update) -> str:
    """The update's payload field (`message`, `callback_query`, a kind newer than us...)."""
    return next((key for key in update.to_dict() if key != "update_id"), "empty")


def normalise(update: Update, *, start_secret: bytes | None = None, now: datetime) -> Parsed:
    """Decide what one Update means for the desk (`now` checks /start token expiry)."""
    if update.message is not None:
        return _message(update.message, edited=False, start_secret=start_secret, now=now)
    if update.edited_message is not None:
        return _message(update.edited_message, edited=True, start_secret=start_secret, now=now)
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if change.chat.type != PRIVATE:
            return Ignored(f"my_chat_member in a {change.chat.type} chat")
        status = change.new_chat_member.status
        if status in ("kicked", "left"):
            return MemberStatus(str(change.chat.id), blocked=True)
        if status == "member":
            return MemberStatus(str(change.chat.id), blocked=False)
        return Ignored(f"my_chat_member status {status}")
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        if chat is not None and chat.type != PRIVATE:
            return Ignored(f"callback_query in a {chat.type} chat")
        if not query.data:
            return Ignored("callback_query without data")
        return ChoiceTapped(
            address=str(query.from_user.id),
            value=query.data,
            callback_id=query.id,
            chat_id=chat.id if chat is not None else None,
            message_id=query.message.message_id if query.message is not None else None,
        )
    return Ignored(f"update kind {update_kind(update)} is not handled")


def _message(
    message: Message, *, edited: bool, start_secret: bytes | None, now: datetime
) -> Parsed:
    if message.chat.type != PRIVATE:
        return Ignored(f"message in a {message.chat.type} chat: private chats only")
    user = message.from_user
    if user is None:
        return Ignored("private message without a sender")
    if user.is_bot:
        return Ignored("message from a bot")

    # Telegram re-posts an update it did not get a 200 for, for a day: what cannot be
    # stored as sent is stored cleaned (and the raw update kept, see `SCRUBBED`).
    altered: list[str] = []
    sent_text = message.text or message.caption or ""
    text = clean_text(sent_text)
    if text != sent_text:
        altered.append("text")
    attachments = _attachments(message)
    placeholder = None if text else _placeholder(message)
    if placeholder:
        text = placeholder
    if not text.strip() and not attachments:
        return Ignored(f"no customer content in message kinds {_kinds(message)}")

    metadata: dict[str, str] = {}
    verified_user_id: str | None = None
    command, _, argument = text.strip().partition(" ")
    if command.split("@", 1)[0] == START and message.text:
        metadata["command"] = "start"
        # The token is a credential: it proves the link, it is not kept as message text.
        text = START
        token = argument.strip()
        if token:
            verified_user_id = (
                verify_start_token(start_secret, token, now) if start_secret else None
            )
            metadata["start_token"] = "valid" if verified_user_id else "invalid"
    if edited:
        metadata["edited"] = "true"
    if placeholder:
        # A sticker, location or contact shown as text: not words the customer wrote.
        metadata["placeholder"] = "true"

    code = user.language_code or ""
    language = code.split("-", 1)[0].lower() if LANGUAGE_CODE.match(code) else None
    if code and language is None:
        altered.append("language_code")
    name = display_name(user.full_name, max_chars=200)
    if (name or "") != (user.full_name or "").strip():
        altered.append("name")
    if altered:
        metadata[SCRUBBED] = ",".join(altered)
    when = (message.edit_date if edited else None) or message.date
    return InboundMessage(
        channel=Channel.telegram,
        external_id=f"{message.chat.id}:{message.message_id}",
        sender=str(user.id),
        sender_name=name,
        text=text,
        received_at=when,
        thread_key=str(message.chat.id),
        language_hint=language,
        verified_user_id=verified_user_id,
        attachments=attachments,
        metadata=metadata,
    )


def _attachments(message: Message) -> tuple[InboundAttachment, ...]:
    """The files worth keeping, to fetch later by file_id (largest photo size only)."""
    found: list[InboundAttachment] = []
    seen: set[str] = set()

    def add(file_id: str, unique: str, name: str, mime: str, size: int | None) -> None:
        if unique in seen:
            return
        seen.add(unique)
        # Names and types are the sender's text: cleaned like any display text. A file_id
        # that is not clean text names no file Telegram could serve.
        if problem_in(file_id, max_chars=500):
            return
        found.append(
            InboundAttachment(
                filename=display_line(name, max_chars=255) or "file",
                content_type=display_line(mime, max_chars=255) or "application/octet-stream",
                size=size,
                source_ref=file_id,
            )
        )

    if message.photo:
        best = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        add(
            best.file_id,
            best.file_unique_id,
            f"photo_{best.file_unique_id}.jpg",
            "image/jpeg",
            best.file_size,
        )
    for media, default_name, default_mime in (
        (message.animation, "animation.mp4", "video/mp4"),
        (message.document, "document", "application/octet-stream"),
        (message.video, "video.mp4", "video/mp4"),
        (message.audio, "audio.mp3", "audio/mpeg"),
        (message.voice, "voice.ogg", "audio/ogg"),
    ):
        if media is not None:
            name = getattr(media, "file_name", None) or f"{media.file_unique_id}_{default_name}"
            add(
                media.file_id,
                media.file_unique_id,
                name,
                media.mime_type or default_mime,
                media.file_size,
            )
    if message.video_note is not None:
        note = message.video_note
        add(
            note.file_id,
            note.file_unique_id,
            f"{note.file_unique_id}_video_note.mp4",
            "video/mp4",
            note.file_size,
        )
    return tuple(found)


def _placeholder(message: Message) -> str | None:
    """Readable text for content that is not text or a file, so the agent sees it."""
    if message.sticker is not None:
        return f"[sticker {message.sticker.emoji or ''}]".replace(" ]", "]")
    if message.venue is not None:
        return f"[venue: {message.venue.title}, {message.venue.address}]"
    if message.location is not None:
        return f"[location: {message.location.latitude}, {message.location.longitude}]"
    if message.contact is not None:
        c = message.contact
        name = " ".join(part for part in (c.first_name, c.last_name) if part)
        return f"[contact: {name} {c.phone_number}]"
    if message.poll is not None:
        return f"[poll: {message.poll.question}]"
    if message.dice is not None:
        return f"[dice {message.dice.emoji} {message.dice.value}]"
    return None


def _kinds(message: Message) -> list[str]:
    skip = {"message_id", "from", "chat", "date", "edit_date", "entities", "sender_chat"}
    return [key for key, value in message.to_dict().items() if value and key not in skip]
