"""The starter set of canned replies: a TOML file, loaded by `gateway canned load`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.canned import service
from gateway.canned.schemas import CannedCreate

SAMPLE = Path(__file__).parent / "canned.sample.toml"


class StarterError(ValueError):
    """A canned-replies file that cannot be loaded; the message says where."""


def parse(source: str) -> list[CannedCreate]:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise StarterError(f"not TOML: {exc}") from None
    items = data.get("canned")
    if not isinstance(items, list) or not items:
        raise StarterError("no [[canned]] entries")
    replies = []
    for index, item in enumerate(items, start=1):
        try:
            replies.append(CannedCreate.model_validate(item))
        except ValidationError as exc:
            raise StarterError(f"entry {index}: {exc.errors()[0]['msg']}") from None
    return replies


async def load(session: AsyncSession, replies: list[CannedCreate]) -> tuple[int, int]:
    """Create or refresh each reply by name; (created, updated). Flushes."""
    created = 0
    for reply in replies:
        created += await service.upsert(session, reply)
    return created, len(replies) - created
