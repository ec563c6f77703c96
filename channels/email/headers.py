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
    return " ".join(text.replace("\x00", "").split())


def header_all(msg: Message, name: str) -> list[str]:
    """Every occurrence of a header as decoded text; never raises."""
    out: list[str] = []
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            out.append(" ".join(_decode_raw(str(raw)).split()))
    return out


def _decode_raw(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:
        return raw
