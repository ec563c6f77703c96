from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, drop_pg_database, make_database


@pytest.fixture(params=BACKENDS)
async def fresh_database_url(request: pytest.FixtureRequest, tmp_root: Path) -> AsyncIterator[str]:
    """A database of the test's own: an end-to-end test claims "the next ticket", which
    must be its own, whatever other tests left in the shared one."""
    url = await make_database(request.param, tmp_root)
    yield url
    if request.param == "postgresql":
        await drop_pg_database(url)
