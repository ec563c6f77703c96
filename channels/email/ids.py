"""Message-IDs: the one form Parley stores, and the ids of our own replies.

Stored form (`Message.external_id` on the email channel): the Message-ID without angle
brackets or surrounding whitespace, e.g. `CAF=abc@mail.gmail.com`. Our replies carry
`<{idempotency_key}@{domain}>` and their stored external id is the bare key (see
`external_id_for_reply`). Inbound references to our own domain are matched under both
forms, so threading works whichever of the two the reply row holds.
"""

from __future__ import annotations

import hashlib
import re

# A mail without a Message-ID gets an id derived from its bytes: a re-send of the same
# bytes is still stored once. The prefix never contains "@", so it never looks like a
# real Message-ID and is never written into References.
SYNTHETIC_PREFIX = "sha256:"

_ID_RE = re.compile(r"<([^<>\s]+)>")
_SAFE_KEY_RE = re.compile(r"^[A-Za-z0-9._=+-]{1,200}$")


def normalise_message_id(value: str | None) -> str | None:
    """`<a@b>` (with any folding, comments or junk around it) -> `a@b`; None when empty."""
    if not value:
        return None
    found = _ID_RE.search(value)
    bare = found.group(1) if found else value.strip().strip("<>").strip()
    bare = "".join(bare.split())
    return bare or None


def message_ids_in(value: str | None) -> list[str]:
    """Every `<id>` in a References / In-Reply-To value, in order, without duplicates.

    A value without angle brackets (broken clients) counts as one id.
    """
    if not value:
        return []
    found = _ID_RE.findall(value)
    if not found:
        single = normalise_message_id(value)
        found = [single] if single and " " not in single else []
    seen: dict[str, None] = {}
    for item in found:
        seen.setdefault(item, None)
    return list(seen)


def synthetic_id(raw: bytes) -> str:
    """The stable external id of a mail that has no Message-ID."""
    return SYNTHETIC_PREFIX + hashlib.sha256(raw).hexdigest()


def reply_key(idempotency_key: str) -> str:
    """The outbox row's key as a Message-ID local part (hashed if it has unsafe chars)."""
    if _SAFE_KEY_RE.match(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The Message-ID header of our reply for one outbox row: `<key@domain>`, stable."""
    return f"<{reply_key(idempotency_key)}@{domain}>"


def external_id_for_reply(idempotency_key: str) -> str:
    """What the reply code stores in `Message.external_id` for an email reply."""
    return reply_key(idempotency_key)


def header_id(external_id: str, domain: str) -> str | None:
    """A stored external id as it goes into In-Reply-To / References; None for synthetic
    ids, which were never on the wire."""
    if not external_id or external_id.startswith(SYNTHETIC_PREFIX):
        return None
    if "@" in external_id:
        return f"<{external_id}>"
    return f"<{external_id}@{domain}>"


def lookup_forms(message_id: str, our_domains: frozenset[str]) -> list[str]:
    """The stored external ids a referenced Message-ID may be found under: itself, and
    the bare key when the id is one of ours (`key@our.domain`)."""
    forms = [message_id]
    local, at, domain = message_id.rpartition("@")
    if at and local and domain.lower() in our_domains:
        forms.append(local)
    return forms


def domain_of(address: str) -> str:
    """The domain of an address like `support@desk.example` (lowercased), or `localhost`."""
    _, at, domain = address.strip().strip("<>").rpartition("@")
    return domain.lower() if at and domain else "localhost"
