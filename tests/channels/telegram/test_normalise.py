"""normalise() on real Update samples, the /start token, and reply splitting."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telegram import Update

from channels.telegram.adapter import split_text, utf16_len
from channels.telegram.normalise import ChoiceTapped, Ignored, MemberStatus, normalise
from channels.telegram.tokens import sign_start_token, verify_start_token
from gateway.ports import Channel, InboundMessage

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = b"exchange-start-secret"


def load(name: str) -> Update:
    return Update.de_json(json.loads((DATA / f"nutgram_{name}.json").read_text()), None)


@pytest.mark.parametrize(
    ("name", "external_id", "sender", "text", "attachments"),
    [
        ("text", "12345678:123456", "12345678", "aaaaaaaaaa", []),
        ("photo", "11111111:456901", "11111111", "asdasdasdasdasdasd", [("SAAS", "image/jpeg")]),
        ("document", "456:123", "456", "", [("a1b2c34d5e6f7g8h9i", "application/pdf")]),
        ("voice", "12345:123456", "12345", "", [("voice", "audio/ogg")]),
        ("video", "12345:123456", "12345", "", [("video", "video/mp4")]),
        ("sticker", "12345:123456", "12345", "[sticker 🤣]", []),
        ("location", "12345:123456", "12345", "[location: 41.899977, 12.501028]", []),
        ("command_with_parameters", "456:123", "456", "/register HR John Doe", []),
    ],
)
def test_private_messages_become_inbound(
    name: str, external_id: str, sender: str, text: str, attachments: list[tuple[str, str]]
) -> None:
    parsed = normalise(load(name), now=NOW)
    assert isinstance(parsed, InboundMessage)
    assert parsed.channel is Channel.telegram
    assert (parsed.external_id, parsed.sender, parsed.thread_key) == (
        external_id,
        sender,
        external_id.split(":")[0],
    )
    assert parsed.text == text
    assert parsed.language_hint in ("it", "en")
    got = [(a.source_ref or "", a.content_type) for a in parsed.attachments]
    assert len(got) == len(attachments)
    for (ref, mime), (want_ref, want_mime) in zip(got, attachments, strict=True):
        assert want_ref in ref or want_ref in {"voice", "video"}
        assert mime == want_mime
    assert all(a.blob_key is None and a.data is None for a in parsed.attachments)


def test_photo_keeps_only_the_largest_size() -> None:
    parsed = normalise(load("photo"), now=NOW)
    assert isinstance(parsed, InboundMessage)
    assert [a.source_ref for a in parsed.attachments] == ["SAAS"]


def test_edited_message_is_marked_and_dated_by_the_edit() -> None:
    parsed = normalise(load("edited_message"), now=NOW)
    assert isinstance(parsed, InboundMessage)
    assert parsed.metadata["edited"] == "true"
    assert parsed.text == "Editing this message"
    assert parsed.received_at == datetime.fromtimestamp(1584985245, UTC)


@pytest.mark.parametrize(
    ("name", "reason_part"),
    [
        ("channel_post", "channel_post"),
        ("message_topic", "supergroup"),
        ("new_chat_members", "no customer content"),
        ("my_chat_member", "status creator"),
    ],
)
def test_everything_else_is_ignored_with_a_reason(name: str, reason_part: str) -> None:
    parsed = normalise(load(name), now=NOW)
    assert isinstance(parsed, Ignored)
    assert reason_part in parsed.reason


def test_a_tapped_button_is_a_choice_from_its_user() -> None:
    parsed = normalise(load("callback_query"), now=NOW)
    assert parsed == ChoiceTapped(
        address="222222222",
        value="thedata",
        callback_id="666728699048485871",
        chat_id=222222222,
        message_id=69587,
    )


def _member_update(status: str) -> Update:
    data = json.loads((DATA / "nutgram_my_chat_member.json").read_text())
    data["my_chat_member"]["new_chat_member"]["status"] = status
    if status == "kicked":
        data["my_chat_member"]["new_chat_member"]["until_date"] = 0
    return Update.de_json(data, None)


def test_blocking_and_unblocking_the_bot() -> None:
    assert normalise(_member_update("kicked"), now=NOW) == MemberStatus("987654321", True)
    assert normalise(_member_update("member"), now=NOW) == MemberStatus("987654321", False)


def _start(text: str) -> Update:
    data = json.loads((DATA / "nutgram_text.json").read_text())
    data["message"]["text"] = text
    return Update.de_json(data, None)


def test_start_with_a_signed_token_verifies_the_exchange_user_and_drops_the_token() -> None:
    token = sign_start_token(SECRET, "user-8841", NOW + timedelta(hours=1))
    parsed = normalise(_start(f"/start {token}"), start_secret=SECRET, now=NOW)
    assert isinstance(parsed, InboundMessage)
    assert parsed.verified_user_id == "user-8841"
    assert parsed.text == "/start"
    assert parsed.metadata == {"command": "start", "start_token": "valid"}


@pytest.mark.parametrize("forged", ["nonsense", "A" * 64, "", "bad token!"])
def test_start_with_a_bad_token_verifies_nobody(forged: str) -> None:
    parsed = normalise(_start(f"/start {forged}"), start_secret=SECRET, now=NOW)
    assert isinstance(parsed, InboundMessage)
    assert parsed.verified_user_id is None
    assert parsed.text == "/start"


def test_start_tokens_fit_telegram_and_expire() -> None:
    token = sign_start_token(SECRET, "u" * 29, NOW + timedelta(days=7))
    assert len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)
    assert verify_start_token(SECRET, token, NOW) == "u" * 29
    assert verify_start_token(SECRET, token, NOW + timedelta(days=8)) is None
    assert verify_start_token(b"other key", token, NOW) is None
    tampered = ("B" if token[0] != "B" else "C") + token[1:]
    assert verify_start_token(SECRET, tampered, NOW) is None


def test_split_keeps_paragraphs_whole_and_respects_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "x" * 1500 for i in range(6)]
    parts = split_text("\n\n".join(paragraphs))
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)
    assert all(part.startswith("Paragraph") for part in parts)


def test_split_counts_utf16_units_and_never_cuts_a_character() -> None:
    text = "🙂" * 5000  # two UTF-16 units each, no spaces or breaks
    parts = split_text(text)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == text
    assert split_text("short") == ["short"]
