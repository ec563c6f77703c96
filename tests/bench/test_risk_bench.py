"""bench/risk.py at a small size: the synthetic exchange's planted ring is found by the
gateway's own scoring (figures are printed, never timed here)."""

from __future__ import annotations

from pathlib import Path

from bench import risk

SMALL = risk.Plan(rings=1, ring_size=6, sellers=2, chargebackers=4, takeovers=3, linked_groups=1)


async def test_the_small_synthetic_exchange_finds_the_planted_ring(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'risk-bench.db'}"
    result = await risk.run(url, users=600, orders=5000, disputes=250, plan=SMALL, seed=3)
    print(risk.report(result, "SQLite"))
    top = {user for user, _score in result.top}
    ex = risk.generate(600, 5000, 250, SMALL, 3)  # the same seed: the same exchange
    ring = {user for user, pattern in ex.planted.items() if pattern == "ring"}
    assert len(ring) == 6 and ring <= top
    assert len(result.top) == SMALL.planted == result.planted
    assert result.recall >= 0.9 and result.precision >= 0.9, risk.report(result, "SQLite")
    assert not top & ex.decoys  # honest heavy traders stay out
