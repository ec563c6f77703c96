# ruff: noqa: RUF001  (the patterns match Cyrillic, Turkish and CJK reply headers)
"""Separate the new text of a mail from quoted history and the signature. Pure.

Conservative on purpose: a line is cut only after a recognised reply header ("On ...
wrote:", "-----Original Message-----", an Outlook "From:/Sent:" block), a trailing run of
"> " lines, or a signature delimiter. Forwarded messages are evidence, never cut. When
cutting would leave nothing, the whole text stays the new text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "On <date>, <name> wrote:" and its translations; may be wrapped over two lines.
_WROTE = re.compile(
    r"^\s*(on|am|le|el|il|op|em|den|på|w dniu|dne|в|el día|il giorno)\b.{0,300}?"
    r"(wrote|schrieb|a écrit|escribió|ha scritto|schreef|escreveu|skrev|napisał|napsal|"
    r"написал|написала|написал\(а\)|пишет|yazdı|kirjoitti)(\s.{0,200})?\s*:\s*$",
    re.IGNORECASE,
)
_WROTE_TAIL = re.compile(r"^.{0,300}\s(wrote|пишет|написал\(а\)|написал|написала)\s*:\s*$", re.I)
_CJK_WROTE = re.compile(r"^.{0,200}(写道|寫道|のメッセージ|님이 작성)\s*[:：]?\s*$")
_ORIGINAL = re.compile(
    r"^\s*[-_=]{2,}\s*(original message|original|ursprüngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|"
    r"исходное сообщение|пересланное сообщение от .*?)\s*[-_=]{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
_FROM_LINE = re.compile(
    r"^\s*\*?(from|von|de|da|van|от|od|från|fra|发件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE
)
_SENT_LINE = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|отправлено|дата|"
    r"发送时间|日期|to|an|à|para|a|aan|кому|收件人|subject|betreff|objet|asunto|oggetto|"
    r"onderwerp|тема|主题)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_FORWARD = re.compile(r"forwarded message|weitergeleitete nachricht|message transféré", re.I)
_SIGNATURE_DELIM = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w[\w ]{0,30}|get outlook for \w+|sent from (mail|yahoo mail|"
    r"outlook)( for \w+)?|von meinem \w[\w ]{0,30} gesendet|envoyé de mon \w[\w ]{0,30})\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SplitText:
    new: str
    quoted: str = ""
    signature: str = ""


def split_reply(text: str) -> SplitText:
    """The new text of a mail body, with quoted history and signature set apart."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines)
    body, quoted = lines[:cut], lines[cut:]
    sig_at = _signature_start(body)
    body, signature = body[:sig_at], body[sig_at:]
    new = "\n".join(body).strip("\n").rstrip()
    if not new.strip():
        return SplitText(new=text.strip())
    return SplitText(
        new=new,
        quoted="\n".join(quoted).strip("\n"),
        signature="\n".join(signature).strip("\n"),
    )


def _history_start(lines: list[str]) -> int:
    """Index of the first line of quoted history, or len(lines)."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(">"):
            continue
        if _FORWARD.search(stripped):
            # Everything after a forward marker is content the customer chose to send.
            return len(lines)
        joined = stripped + " " + lines[i + 1].strip() if i + 1 < len(lines) else stripped
        if (_WROTE.match(stripped) or _CJK_WROTE.match(stripped)) and _quoted_after(lines, i + 1):
            return i
        if _WROTE.match(joined) and _quoted_after(lines, i + 2):
            return i
        if _WROTE_TAIL.match(stripped) and _quoted_after(lines, i + 1):
            return i
        if _ORIGINAL.match(stripped):
            return i
        if _OUTLOOK_RULE.match(stripped) and _outlook_header(lines, i + 1):
            return i
        if _FROM_LINE.match(stripped) and _outlook_header(lines, i):
            return i
    return _trailing_quote_start(lines)


def _quoted_after(lines: list[str], start: int) -> bool:
    """True when the next non-blank line from `start` is a "> " quote (or there is none)."""
    for line in lines[start:]:
        if line.strip():
            return line.lstrip().startswith(">")
    return True


def _outlook_header(lines: list[str], start: int) -> bool:
    """A "From:" line followed closely by two of Sent/Date/To/Subject: a reply header."""
    window = [line for line in lines[start : start + 6] if line.strip()]
    if not window or not _FROM_LINE.match(window[0]):
        return False
    return sum(1 for line in window[1:] if _SENT_LINE.match(line)) >= 2


def _trailing_quote_start(lines: list[str]) -> int:
    """Start of a final block made only of "> " lines and blanks, or len(lines)."""
    start = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        stripped = lines[i].strip()
        if stripped.startswith(">"):
            start = i
        elif stripped:
            break
    return start


def _signature_start(lines: list[str]) -> int:
    """Index of a signature ("-- " delimiter or a mobile footer) near the end, or len."""
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if _SIGNATURE_DELIM.match(lines[i]):
            return i
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].strip():
            continue
        return i if _MOBILE_SIGNATURE.match(lines[i]) else len(lines)
    return len(lines)
