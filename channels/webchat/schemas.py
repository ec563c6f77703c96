"""Request and response bodies of the webchat routes (frames are plain dicts, see api.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.text import MAX_INT32
from gateway.validation import InboundModel


class SessionCreate(InboundModel):
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    language: str | None = Field(None, max_length=35)
    user_id: str | None = Field(None, max_length=200)
    user_hash: str | None = Field(None, max_length=200)
    email_hash: str | None = Field(
        None,
        max_length=200,
        description="hex HMAC-SHA256(identity secret, 'email\\0' + email lowercased): the "
        "exchange vouches for the address; only a vouched address gets reply copies by mail",
    )


class SessionPublic(BaseModel):
    token: str
    visitor_id: str
    expires_at: int
    verified: bool


class MessageCreate(InboundModel):
    client_id: str = Field(min_length=1, max_length=64)
    text: str = ""
    attachments: list[str] = Field(default_factory=list)


class SeenCreate(InboundModel):
    """The widget showed every reply up to this message."""

    message_id: int = Field(ge=1, le=MAX_INT32)


class Ack(BaseModel):
    type: str = "ack"
    client_id: str
    message_id: int
    ticket: str


class AttachmentMeta(BaseModel):
    filename: str
    content_type: str
    size: int | None


class ChoiceFrame(BaseModel):
    """A one-tap answer offered with a message (a survey rating)."""

    label: str
    value: str


class ChoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=200)


class ChoiceAnswer(BaseModel):
    """What to show after a tap; `comment_prompt` and `skip` (the label of the button
    that declines) when the card may now ask for the optional comment."""

    text: str
    comment_prompt: str | None = None
    skip: str | None = None


class ChoiceComment(BaseModel):
    """The optional comment after a rating, sent with the rating button's value."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(min_length=1, max_length=200)
    comment: str = Field(min_length=1, max_length=20000)


class CommentAnswer(BaseModel):
    text: str


class MessageFrame(BaseModel):
    """One message of the visitor's conversation, as the `message` frame carries it."""

    type: str = "message"
    message_id: int
    author: str  # "agent" or "customer"
    text: str
    created_at: str
    client_id: str | None = None
    attachments: list[AttachmentMeta] = Field(default_factory=list)
    # Buttons to show under the message while they can still be answered.
    choices: list[ChoiceFrame] = Field(default_factory=list)


class History(BaseModel):
    items: list[MessageFrame]
    last_message_id: int


class AttachmentUploaded(BaseModel):
    attachment_id: str
    filename: str
    content_type: str
    size: int
