"""Reading headers that may be malformed in any way, without raising. Pure."""

from __future__ import annotations

from email.header import decode_header, make_header
from email.message import Message


def header_text(msg: Message, name: str) -> str:
    """A header's decoded text ('' when absent); never raises, whatever the bytes are."""
    try:
        value = msg.get(name)
    except Exception:  # the policy's parser chokes on some real-world headers
        value = None
        for key, raw in msg.raw_items():
            if key.lower() == name.lower():
                value = _decode_raw(str(raw))
                break
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:
        text = _decode_raw(repr(value))
    return " ".join(clean_text(text).split())


def raw_all(msg: Message, name: str) -> list[str]:
    """Every occurrence of a header exactly as sent (encoded words left encoded, folding
    undone, 8-bit bytes repaired); never raises. Addresses are parsed from this form."""
    return [
        " ".join(clean_text(str(raw)).split())
        for key, raw in msg.raw_items()
        if key.lower() == name.lower()
    ]


def decode_words(value: str) -> str:
    """RFC 2047 encoded words in one piece of a header (a display name) decoded."""
    return clean_text(_decode_raw(value))


def clean_text(value: str) -> str:
    """Text safe to store: undecodable 8-bit header bytes (kept by the parser as lone
    surrogates) become UTF-8 or cp1252 characters; NULs are dropped."""
    value = value.replace("\x00", "")
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _decode_raw(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw
