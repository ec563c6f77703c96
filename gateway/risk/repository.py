"""All SQL of risk: one account's facts, the stored scores, reports. Functions flush only.

Every read is bounded by an index on the account (order_fact buyer/seller, payer name,
receiving account, customer email, case_ticket case) and a LIMIT, so refreshing one
account costs about ten indexed queries however long its history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from gateway.cases.models import CaseTicket, DisputeCase
from gateway.db import lock_key
from gateway.orders.models import OrderFact
from gateway.risk.models import RiskAccount, RiskIdentityLink, RiskReport
from gateway.risk.signals import AccountFacts, Dispute, Linked, Shared
from gateway.tickets.models import Category, Customer, Ticket

# Bounds of one account's reads (a heavy trader has thousands of orders).
MAX_DISPUTES = 500
MAX_VALUES = 50
MAX_SHARING_ROWS = 500
MAX_HITS = 50
# An order fact or case link refreshes at most this many accounts that share its payer
# name or receiving account (beyond it the value is plainly shared; its holders show
# anyway, refreshed by their own next order).
MAX_FANOUT = 50


def _party(user_id: str) -> sa.ColumnElement[bool]:
    return sa.or_(col(OrderFact.buyer_user_id) == user_id, col(OrderFact.seller_user_id) == user_id)


async def account_facts(
    session: AsyncSession,
    user_id: str,
    *,
    now: datetime,
    window_days: int,
    sensitive_words: Sequence[str],
    dismissals: dict[str, int],
) -> AccountFacts:
    since = now - timedelta(days=window_days)

    def count(*where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).select_from(OrderFact).where(*where).scalar_subquery()

    # Three counts, each on its own index (an OR of the two party columns defeats one).
    bought_recently, sold_recently, buys = (
        await session.execute(
            sa.select(
                count(
                    col(OrderFact.buyer_user_id) == user_id,
                    col(OrderFact.order_created_at) >= since,
                ),
                count(
                    col(OrderFact.seller_user_id) == user_id,
                    col(OrderFact.order_created_at) >= since,
                ),
                count(col(OrderFact.buyer_user_id) == user_id),
            )
        )
    ).one()
    in_window = int(bought_recently or 0) + int(sold_recently or 0)
    third, remarks = await _payments(session, user_id, sensitive_words)
    return AccountFacts(
        user_id=user_id,
        now=now,
        orders_in_window=int(in_window or 0),
        buys=int(buys or 0),
        disputes=await _disputes(session, user_id),
        third_party_orders=third,
        remark_orders=remarks,
        shared_payer_names=await _shared(
            session, user_id, col(OrderFact.payer_account_name), col(OrderFact.buyer_user_id)
        ),
        shared_receiving_accounts=await _shared(
            session, user_id, col(OrderFact.receiving_account), col(OrderFact.seller_user_id)
        ),
        linked=await _linked(session, user_id),
        dismissals=dismissals,
    )


async def _disputes(session: AsyncSession, user_id: str) -> list[Dispute]:
    rows = (
        await session.execute(
            sa.select(
                col(DisputeCase.id),
                col(DisputeCase.order_ref),
                col(DisputeCase.opened_at),
                col(OrderFact.buyer_user_id),
                col(OrderFact.seller_user_id),
                col(OrderFact.released_at),
            )
            .join(OrderFact, col(OrderFact.order_ref) == col(DisputeCase.order_ref))
            .where(_party(user_id))
            .order_by(col(DisputeCase.opened_at).desc())
            .limit(MAX_DISPUTES)
        )
    ).all()
    if not rows:
        return []
    links = (
        await session.execute(
            sa.select(col(CaseTicket.case_id), col(CaseTicket.party_user_id), col(Ticket.category))
            .join(Ticket, col(Ticket.id) == col(CaseTicket.ticket_id))
            .where(
                col(CaseTicket.case_id).in_([r.id for r in rows]),
                col(CaseTicket.unlinked_at).is_(None),
            )
            .order_by(col(CaseTicket.id))
        )
    ).all()
    first: dict[int, str] = {}
    chargeback: set[int] = set()
    parties = {r.id: (r.buyer_user_id, r.seller_user_id) for r in rows}
    for link in links:
        if link.party_user_id in parties[link.case_id]:
            first.setdefault(link.case_id, link.party_user_id)
        if link.category == Category.chargeback:
            chargeback.add(link.case_id)
    return [
        Dispute(
            case_id=r.id,
            order_ref=r.order_ref,
            opened_at=r.opened_at,
            counterparty=r.seller_user_id if r.buyer_user_id == user_id else r.buyer_user_id,
            complainant=first.get(r.id),
            as_buyer=r.buyer_user_id == user_id,
            released=r.released_at is not None,
            chargeback=r.id in chargeback,
        )
        for r in rows
    ]


async def _payments(
    session: AsyncSession, user_id: str, words: Sequence[str]
) -> tuple[list[str], list[tuple[str, str]]]:
    """The account's buys paid by a third party, and those whose remark names a word."""
    remark = sa.func.lower(col(OrderFact.transfer_remark))
    flagged: list[sa.ColumnElement[bool]] = [col(OrderFact.payer_name_matches).is_(False)]
    if words:
        flagged.append(sa.or_(*(remark.contains(word, autoescape=True) for word in words)))
    rows = await session.execute(
        sa.select(
            col(OrderFact.order_ref),
            col(OrderFact.payer_name_matches),
            col(OrderFact.transfer_remark),
        )
        .where(col(OrderFact.buyer_user_id) == user_id, sa.or_(*flagged))
        .order_by(col(OrderFact.order_created_at).desc())
        .limit(2 * MAX_HITS)
    )
    third: list[str] = []
    hits: list[tuple[str, str]] = []
    for ref, matches, text in rows:
        if matches is False and len(third) < MAX_HITS:
            third.append(ref)
        lowered = (text or "").lower()
        word = next((w for w in words if w in lowered), None)
        if word is not None and len(hits) < MAX_HITS:
            hits.append((ref, word))
    return third, hits


def _unconfirmed(column: Mapped[str | None]) -> sa.ColumnElement[bool]:
    """A payer name the exchange confirmed as the buyer's own is someone's real name: two
    people may share it. Only names it did not confirm count as shared."""
    if column is col(OrderFact.payer_account_name):
        return col(OrderFact.payer_name_matches).is_not(True)
    return sa.true()


async def _shared(
    session: AsyncSession,
    user_id: str,
    column: Mapped[str | None],
    owner: Mapped[str],
) -> list[Shared]:
    """The account's values of `column` that other owners have too, with one order of
    each other owner (one query: the account's values are a subquery)."""
    mine = (
        sa.select(column)
        .where(owner == user_id, column.is_not(None), _unconfirmed(column))
        .distinct()
        .limit(MAX_VALUES)
        .scalar_subquery()
    )
    rows = await session.execute(
        sa.select(column, owner, sa.func.min(col(OrderFact.order_ref)))
        .where(column.in_(mine), owner != user_id, _unconfirmed(column))
        .group_by(column, owner)
        .limit(MAX_SHARING_ROWS)
    )
    by_value: dict[str, list[str]] = defaultdict(list)
    for value, _other, ref in rows:
        assert value is not None  # matched by `in_(values)`
        by_value[value].append(ref)
    return [
        Shared(value, len(refs), tuple(sorted(refs)[:5]))
        for value, refs in sorted(by_value.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


async def _linked(session: AsyncSession, user_id: str) -> list[Linked]:
    found: list[Linked] = []
    email = (
        sa.select(col(Customer.email))
        .where(col(Customer.exchange_user_id) == user_id, col(Customer.email).is_not(None))
        .scalar_subquery()
    )
    others = await session.scalars(
        sa.select(col(Customer.exchange_user_id))
        .where(
            col(Customer.email) == email,
            col(Customer.exchange_user_id).is_not(None),
            col(Customer.exchange_user_id) != user_id,
        )
        .limit(MAX_HITS)
    )
    ids = tuple(sorted(o for o in others if o))
    if ids:
        found.append(Linked("email", ids))
    rows = await session.execute(
        sa.select(col(RiskIdentityLink.channel), col(RiskIdentityLink.linked_user_id))
        .where(col(RiskIdentityLink.user_id) == user_id)
        .union(
            sa.select(col(RiskIdentityLink.channel), col(RiskIdentityLink.user_id)).where(
                col(RiskIdentityLink.linked_user_id) == user_id
            )
        )
        .limit(MAX_HITS)
    )
    by_channel: dict[str, set[str]] = defaultdict(set)
    for channel, other in rows:
        by_channel[channel].add(other)
    found += [Linked(channel, tuple(sorted(ids))) for channel, ids in sorted(by_channel.items())]
    return found


async def sharing_accounts(session: AsyncSession, order: OrderFact) -> set[str]:
    """Accounts whose shared-name signals this order may change."""
    found: set[str] = set()
    if order.payer_account_name and order.payer_name_matches is not True:
        found |= set(
            await session.scalars(
                sa.select(col(OrderFact.buyer_user_id))
                .where(
                    col(OrderFact.payer_account_name) == order.payer_account_name,
                    col(OrderFact.payer_name_matches).is_not(True),
                )
                .distinct()
                .limit(MAX_FANOUT)
            )
        )
    if order.receiving_account:
        found |= set(
            await session.scalars(
                sa.select(col(OrderFact.seller_user_id))
                .where(col(OrderFact.receiving_account) == order.receiving_account)
                .distinct()
                .limit(MAX_FANOUT)
            )
        )
    return found


async def order_parties(session: AsyncSession, order_ref: str) -> tuple[str, str] | None:
    row = (
        await session.execute(
            sa.select(col(OrderFact.buyer_user_id), col(OrderFact.seller_user_id)).where(
                col(OrderFact.order_ref) == order_ref
            )
        )
    ).first()
    return (row[0], row[1]) if row else None


async def account(session: AsyncSession, user_id: str, *, lock: bool = False) -> RiskAccount | None:
    if lock:
        await lock_key(session, "risk_account", user_id)
    return await session.get(RiskAccount, user_id, populate_existing=lock)


async def accounts(session: AsyncSession, user_ids: Iterable[str]) -> dict[str, RiskAccount]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = await session.scalars(sa.select(RiskAccount).where(col(RiskAccount.user_id).in_(ids)))
    return {row.user_id: row for row in rows}


async def ranked(
    session: AsyncSession, *, min_score: float, limit: int, after: tuple[float, str] | None
) -> list[RiskAccount]:
    """Accounts by score, highest first (ties by user id), from a keyset cursor."""
    stmt = sa.select(RiskAccount).where(
        sa.or_(col(RiskAccount.score) >= min_score, col(RiskAccount.watchlisted).is_(True))
        if min_score <= 0
        else col(RiskAccount.score) >= min_score
    )
    if after is not None:
        score, user_id = after
        stmt = stmt.where(
            sa.or_(
                col(RiskAccount.score) < score,
                sa.and_(col(RiskAccount.score) == score, col(RiskAccount.user_id) > user_id),
            )
        )
    stmt = stmt.order_by(col(RiskAccount.score).desc(), col(RiskAccount.user_id)).limit(limit)
    return list(await session.scalars(stmt))


async def record_identity_link(
    session: AsyncSession, channel: str, address: str, user_id: str, linked_user_id: str
) -> bool:
    """Remember that one channel address proved two exchange ids; False when known."""
    a, b = sorted((user_id, linked_user_id))
    known = await session.scalar(
        sa.select(col(RiskIdentityLink.id)).where(
            col(RiskIdentityLink.channel) == channel,
            col(RiskIdentityLink.address) == address,
            col(RiskIdentityLink.user_id) == a,
            col(RiskIdentityLink.linked_user_id) == b,
        )
    )
    if known is not None:
        return False
    session.add(RiskIdentityLink(channel=channel, address=address, user_id=a, linked_user_id=b))
    await session.flush()
    return True


async def report(
    session: AsyncSession, report_id: int, *, for_update: bool = False
) -> RiskReport | None:
    stmt = sa.select(RiskReport).where(col(RiskReport.id) == report_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def reports_of(session: AsyncSession, user_id: str) -> list[RiskReport]:
    rows = await session.scalars(
        sa.select(RiskReport).where(col(RiskReport.user_id) == user_id).order_by(col(RiskReport.id))
    )
    return list(rows)


async def candidates(session: AsyncSession, sensitive_words: Sequence[str]) -> list[str]:
    """Every account some signal could fire for (a full rescore reads only these): a
    party of a disputed order, a third-party or flagged-remark buyer, a holder of a
    shared payer name or receiving account, a shared email, an identity link, or an
    account already scored or watchlisted."""
    disputed = sa.select(col(OrderFact.buyer_user_id), col(OrderFact.seller_user_id)).join(
        DisputeCase, col(DisputeCase.order_ref) == col(OrderFact.order_ref)
    )
    found: set[str] = set()
    for buyer, seller in await session.execute(disputed):
        found |= {buyer, seller}
    remark = sa.func.lower(col(OrderFact.transfer_remark))
    flagged: list[sa.ColumnElement[bool]] = [col(OrderFact.payer_name_matches).is_(False)]
    if sensitive_words:
        flagged.append(sa.or_(*(remark.contains(w, autoescape=True) for w in sensitive_words)))
    found |= set(
        await session.scalars(sa.select(col(OrderFact.buyer_user_id)).where(sa.or_(*flagged)))
    )
    payer = (
        sa.select(col(OrderFact.payer_account_name))
        .where(
            col(OrderFact.payer_account_name).is_not(None),
            col(OrderFact.payer_name_matches).is_not(True),
        )
        .group_by(col(OrderFact.payer_account_name))
        .having(sa.func.count(sa.distinct(col(OrderFact.buyer_user_id))) > 1)
    )
    found |= set(
        await session.scalars(
            sa.select(col(OrderFact.buyer_user_id)).where(
                col(OrderFact.payer_account_name).in_(payer),
                col(OrderFact.payer_name_matches).is_not(True),
            )
        )
    )
    receiving = (
        sa.select(col(OrderFact.receiving_account))
        .where(col(OrderFact.receiving_account).is_not(None))
        .group_by(col(OrderFact.receiving_account))
        .having(sa.func.count(sa.distinct(col(OrderFact.seller_user_id))) > 1)
    )
    found |= set(
        await session.scalars(
            sa.select(col(OrderFact.seller_user_id)).where(
                col(OrderFact.receiving_account).in_(receiving)
            )
        )
    )
    shared_email = (
        sa.select(col(Customer.email))
        .where(col(Customer.email).is_not(None), col(Customer.exchange_user_id).is_not(None))
        .group_by(col(Customer.email))
        .having(sa.func.count() > 1)
    )
    found |= {
        u
        for u in await session.scalars(
            sa.select(col(Customer.exchange_user_id)).where(col(Customer.email).in_(shared_email))
        )
        if u
    }
    for a, b in await session.execute(
        sa.select(col(RiskIdentityLink.user_id), col(RiskIdentityLink.linked_user_id))
    ):
        found |= {a, b}
    found |= set(await session.scalars(sa.select(col(RiskAccount.user_id))))
    return sorted(found)
