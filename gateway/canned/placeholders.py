"""Placeholders in canned replies: which exist, and filling them for one ticket.

A value the ticket does not have (no order reference yet, no SLA deadline) leaves the
placeholder in the text as written, so the agent sees what is left to fill before
sending. Braces that are not one of the names are an error when a reply is saved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

NAMES = ("customer_name", "order_ref", "amount", "agent_name", "deadline")
PATTERN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_placeholders(body: str) -> set[str]:
    return {name for name in PATTERN.findall(body) if name not in NAMES}


def fill(body: str, values: Mapping[str, str | None]) -> str:
    """The body with every known placeholder that has a value replaced (plain text)."""

    def replace(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        return value if value else match.group(0)

    return PATTERN.sub(replace, body)
