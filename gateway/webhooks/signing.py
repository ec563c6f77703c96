"""`X-Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

During a secret rotation the header carries one `v1` per active secret (new first), so a
receiver holding either secret verifies; the README's snippet accepts any matching v1.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """256 random bits, prefixed so a leaked one is recognisable in logs and scanners."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(active_secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    if not active_secrets:
        raise ValueError("a delivery needs at least one signing secret")
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in active_secrets)])
