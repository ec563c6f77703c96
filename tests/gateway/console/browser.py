"""Headless Debian Chromium for the console tests, and a PostgreSQL database of their own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gateway import migrate
from tests.conftest import _pg_available, create_pg_database, drop_pg_database

CHROMIUM = Path(os.environ.get("PARLEY_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe-4.10.3.min.js"
# Screenshots of the main pages land here (CI can keep the folder as an artifact).
SCREENSHOTS = Path(os.environ.get("PARLEY_SCREENSHOTS", "test-screenshots"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} missing: .ci/install-chromium.sh installs it")
    pytest.skip(f"{CHROMIUM} missing: run .ci/install-chromium.sh (apt-get install chromium)")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def pg_database() -> AsyncIterator[str]:
    """PostgreSQL, so several gateway processes share it and wake each other (NOTIFY)."""
    reason = await _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    url = await create_pg_database()
    await asyncio.to_thread(migrate.upgrade, url)
    try:
        yield url
    finally:
        await drop_pg_database(url)


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => JSON.stringify((await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)})))"
    )
    return [v for v in json.loads(result) if v["impact"] in ("serious", "critical")]


async def screenshot(page: Any, name: str) -> Path:
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
