"""Risk use cases: keep each account's signals current, read them, route on them.

Incremental, not batch: an order fact stored (push or pull) refreshes its buyer, its
seller and the accounts sharing its payer name or receiving account; a ticket linked to
a case refreshes both parties of the order. Each refresh recomputes the account whole
(about ten indexed queries, see repository.py) in the transaction that changed the
facts, so the stored score never lags the facts it came from. What time alone changes
(a dispute leaving the window) shows at the account's next refresh, and every read of
one account (`GET /api/v1/risk/accounts/{user_id}`) recomputes it first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.db import utcnow
from gateway.orders.models import OrderFact
from gateway.risk import repository as repo
from gateway.risk.models import RiskAccount
from gateway.risk.signals import Thresholds, score, signals
from gateway.settings import RiskSettings

# Where a session finds the risk settings (code deep in a transaction refreshes scores).
SETTINGS_KEY = "parley.risk"


@dataclass(frozen=True, slots=True)
class Limits:
    thresholds: Thresholds
    sensitive_words: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: RiskSettings) -> Limits:
        words = tuple(w.strip().lower() for w in settings.sensitive_words.split(",") if w.strip())
        return cls(
            Thresholds(
                window_days=settings.window_days,
                min_dispute_rate=settings.min_dispute_rate,
                min_share=settings.min_share,
                burst_disputes=settings.burst_disputes,
                burst_hours=settings.burst_hours,
                dismiss_factor=settings.dismiss_factor,
            ),
            words,
        )


def install(sessionmaker: async_sessionmaker[AsyncSession], settings: RiskSettings) -> None:
    """Let every session of this gateway know its risk settings."""
    sessionmaker.kw.setdefault("info", {})[SETTINGS_KEY] = Limits.from_settings(settings)


def limits_of(session: AsyncSession) -> Limits:
    found = session.info.get(SETTINGS_KEY)
    return found if isinstance(found, Limits) else Limits.from_settings(RiskSettings())


async def refresh(
    session: AsyncSession, user_ids: Iterable[str], *, now: datetime | None = None
) -> dict[str, RiskAccount]:
    """Recompute and store these accounts' signals (locked one by one, in id order, so
    concurrent refreshes never deadlock). An account with nothing against it and no
    row yet gets none. Flushes."""
    limits = limits_of(session)
    now = now or utcnow()
    stored: dict[str, RiskAccount] = {}
    for user_id in sorted(set(user_ids)):
        row = await repo.account(session, user_id, lock=True)
        facts = await repo.account_facts(
            session,
            user_id,
            now=now,
            window_days=limits.thresholds.window_days,
            sensitive_words=limits.sensitive_words,
            dismissals=dict(row.dismissals) if row else {},
        )
        found = signals(facts, limits.thresholds)
        total = score(found)
        if row is None:
            if total == 0:
                continue
            row = RiskAccount(user_id=user_id)
            session.add(row)
        row.score = total
        row.signals = [s.as_json() for s in found]
        row.computed_at = now
        stored[user_id] = row
    await session.flush()
    return stored


async def on_order(session: AsyncSession, order: OrderFact, *, now: datetime | None = None) -> None:
    """New or changed order facts: refresh both parties and the accounts sharing the
    order's payer name or receiving account. Flushes."""
    affected = {order.buyer_user_id, order.seller_user_id}
    affected |= await repo.sharing_accounts(session, order)
    await refresh(session, affected, now=now)


async def on_case_change(
    session: AsyncSession, order_ref: str, *, now: datetime | None = None
) -> None:
    """A ticket joined or left the case of this order: refresh both parties. Flushes."""
    parties = await repo.order_parties(session, order_ref)
    if parties is not None:
        await refresh(session, parties, now=now)


async def on_identity_link(
    session: AsyncSession, channel: str, address: str, user_id: str, other_user_id: str
) -> None:
    """One channel address proved two exchange ids: remember it, refresh both. Flushes."""
    if await repo.record_identity_link(session, channel, address, user_id, other_user_id):
        await refresh(session, [user_id, other_user_id])


@dataclass(frozen=True, slots=True)
class CounterpartyScore:
    user_id: str
    score: float
    watchlisted: bool


async def counterparty(
    session: AsyncSession, order_ref: str, customer_user_id: str | None
) -> CounterpartyScore | None:
    """The stored score of the other party of an order, from the customer's side; with
    an unverified customer, the riskier of the two parties. None without order facts or
    a scored party."""
    parties = await repo.order_parties(session, order_ref)
    if parties is None:
        return None
    if customer_user_id in parties:
        candidates = [p for p in parties if p != customer_user_id]
    else:
        candidates = list(parties)
    rows = await repo.accounts(session, candidates)
    if not rows:
        return None
    best = max(rows.values(), key=lambda r: (r.watchlisted, r.score, r.user_id))
    return CounterpartyScore(best.user_id, best.score, best.watchlisted)


async def watchlisted(session: AsyncSession, user_id: str | None) -> bool:
    if not user_id:
        return False
    row = await repo.account(session, user_id)
    return bool(row and row.watchlisted)
