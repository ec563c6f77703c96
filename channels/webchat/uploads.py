"""Webchat uploads: a visitor's file is sniffed, kept in the blob store and handed back
as a signed id that only that visitor can attach to a message."""

from __future__ import annotations

import re

import structlog

from channels.webchat import tokens
from channels.webchat.schemas import AttachmentUploaded
from channels.webchat.sessions import Sessions, Visitor
from gateway.channel_ports import ChannelPorts
from gateway.errors import InvalidInbound, PayloadTooLarge, UnsupportedMediaType
from gateway.ports import InboundAttachment
from gateway.sniff import sniff as sniff_mime

log = structlog.get_logger()

# What a visitor may attach, recognised by its first bytes (gateway.sniff), never by the
# name or the declared type: screenshots, PDFs, and screen recordings of a payment.
_ALLOWED: dict[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of an allowed file type by its magic bytes, else None."""
    content_type = sniff_mime(data)
    if content_type is None or content_type not in _ALLOWED:
        return None
    return content_type, _ALLOWED[content_type]


class Uploads:
    def __init__(self, ports: ChannelPorts, sessions: Sessions) -> None:
        self.ports = ports
        self.sessions = sessions
        self.settings = ports.settings.webchat

    async def store(
        self, visitor: Visitor, data: bytes, filename: str | None
    ) -> AttachmentUploaded:
        """Keep an uploaded file's bytes and return an id only this visitor can send."""
        if len(data) > self.settings.max_attachment_bytes:
            raise PayloadTooLarge(f"file is larger than {self.settings.max_attachment_bytes} bytes")
        if not data:
            raise InvalidInbound("empty file")
        kind = sniff(data)
        if kind is None:
            raise UnsupportedMediaType(
                "only PNG, JPEG, WebP, GIF, PDF and MP4, MOV or WebM videos can be attached"
            )
        content_type, ext = kind
        stem = re.sub(r"[^\w.-]+", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
        stem = stem.strip("._")[:100].rsplit(".", 1)[0] or "screenshot"
        name = f"{stem}.{ext}"
        blob_key = await self.ports.blobs.put(data)
        attachment_id = tokens.sign(
            await self.sessions.key(),
            tokens.ATTACHMENT,
            {"v": visitor.visitor_id, "k": blob_key, "t": content_type, "n": name, "s": len(data)},
            ttl_seconds=24 * 3600,
        )
        log.info("webchat.attachment_stored", visitor_id=visitor.visitor_id, size=len(data))
        return AttachmentUploaded(
            attachment_id=attachment_id, filename=name, content_type=content_type, size=len(data)
        )

    async def attached(
        self, visitor: Visitor, attachment_ids: object
    ) -> tuple[InboundAttachment, ...]:
        """The files a message names by upload id: each must be this visitor's."""
        if attachment_ids is None:
            return ()
        if not isinstance(attachment_ids, list | tuple) or not all(
            isinstance(a, str) for a in attachment_ids
        ):
            raise InvalidInbound("attachments must be a list of attachment ids")
        if len(attachment_ids) > self.settings.max_attachments_per_message:
            raise InvalidInbound(
                f"at most {self.settings.max_attachments_per_message} attachments a message"
            )
        result = []
        for attachment_id in attachment_ids:
            try:
                payload = tokens.verify(await self.sessions.key(), tokens.ATTACHMENT, attachment_id)
            except tokens.InvalidToken as exc:
                raise InvalidInbound(f"attachment id rejected: {exc}") from exc
            # An upload belongs to the visitor who made it: no one else can send it on.
            if payload.get("v") != visitor.visitor_id:
                raise InvalidInbound("attachment id rejected: not this visitor's upload")
            result.append(
                InboundAttachment(
                    filename=str(payload["n"]),
                    content_type=str(payload["t"]),
                    size=int(payload["s"]),
                    blob_key=str(payload["k"]),
                    sha256=str(payload["k"]),
                )
            )
        return tuple(result)
