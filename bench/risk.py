"""Risk signals on a SYNTHETIC exchange: how well the top accounts by score find the
planted fraud, and how long scoring takes.

Everything here is made up by a seeded random generator: no real users, orders or
names. It builds an exchange (by default 20,000 users, 200,000 orders over 90 days,
10,000 disputes) with planted patterns:

- rings of accounts paying from shared third-party payer names and selling into one
  shared receiving account,
- sellers disputed by many different buyers,
- serial chargeback buyers (chargebacks after the crypto was released),
- a burst of disputes after an account takeover,
- groups of exchange accounts behind one vouched email, paying from third parties,

and decoys: honest heavy traders (hundreds of orders, a normal dispute rate), honest
users with an occasional third-party payment, remark or chargeback. It loads the rows
into a migrated database (SQLite file by default, PostgreSQL with --pg), scores every
candidate account with the gateway's own refresh (the code the order and case hooks
run), and prints precision and recall of the top N against the planted accounts, the
time to score, and the cost of one incremental refresh (an order fact arriving).

    python bench/risk.py [--users 20000] [--orders 200000] [--disputes 10000] [--top 100]
                         [--pg] [--seed 7]

tests/bench/test_risk_bench.py runs it at a small size in CI (no timing asserted).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

import gateway.models  # noqa: E402, F401  every table registered
from gateway import migrate  # noqa: E402
from gateway.cases.models import CaseTicket, DisputeCase  # noqa: E402
from gateway.db import create_engine, create_sessionmaker  # noqa: E402
from gateway.orders.models import OrderFact  # noqa: E402
from gateway.queues.models import Queue  # noqa: E402
from gateway.risk import repository as risk_repo  # noqa: E402
from gateway.risk import service as risk_service  # noqa: E402
from gateway.risk.models import RiskAccount  # noqa: E402
from gateway.settings import RiskSettings  # noqa: E402
from gateway.tickets.models import ChannelIdentity, Customer, Ticket  # noqa: E402

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAYS = 90


@dataclass(frozen=True)
class Plan:
    """How much fraud to plant (the default plants 100 accounts)."""

    rings: int = 3
    ring_size: int = 10
    sellers: int = 10  # disputed by many buyers
    chargebackers: int = 30
    takeovers: int = 15
    linked_groups: int = 5  # of 3 accounts each

    @property
    def planted(self) -> int:
        return (
            self.rings * self.ring_size
            + self.sellers
            + self.chargebackers
            + self.takeovers
            + 3 * self.linked_groups
        )


@dataclass
class Exchange:
    orders: list[dict[str, Any]] = field(default_factory=list)
    # (order index, complainant user id or None, category, opened at)
    disputes: list[tuple[int, str | None, str, datetime]] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)  # user id -> vouched email
    planted: dict[str, str] = field(default_factory=dict)  # user id -> pattern
    decoys: set[str] = field(default_factory=set)


class Generator:
    def __init__(self, users: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids = [f"u{n:06d}" for n in range(users)]
        self.rng.shuffle(self.ids)
        self.free = list(self.ids)
        self.ex = Exchange()

    def take(self, n: int) -> list[str]:
        taken, self.free = self.free[:n], self.free[n:]
        return taken

    def at(self, days: float = DAYS) -> datetime:
        return NOW - timedelta(seconds=self.rng.uniform(60, days * 86400))

    def order(
        self,
        buyer: str,
        seller: str,
        at: datetime,
        *,
        payer: str | None = None,
        matches: bool = True,
        receiving: str | None = None,
        remark: str = "order payment",
        released: bool = True,
    ) -> int:
        crypto = Decimal(self.rng.randrange(20, 3000))
        price = Decimal("0.92")
        self.ex.orders.append(
            {
                "order_ref": f"{len(self.ex.orders) + 10**15}",
                "buyer_user_id": buyer,
                "seller_user_id": seller,
                "side": "buy",
                "asset": "USDT",
                "crypto_amount": crypto,
                "fiat_currency": "EUR",
                "fiat_amount": crypto * price,
                "price": price,
                "payment_method": self.rng.choice(["SEPA", "Revolut", "Wise", "N26"]),
                "status": "released" if released else "paid_marked",
                "order_created_at": at,
                "marked_paid_at": at + timedelta(minutes=8),
                "released_at": at + timedelta(minutes=20) if released else None,
                "payer_account_name": payer or f"NAME OF {buyer}",
                "payer_name_matches": matches,
                "receiving_account": receiving or f"IBAN-{seller}",
                "transfer_remark": remark,
                "source": "push",
                "fetched_at": NOW,
                "created_at": at,
                "updated_at": at,
            }
        )
        return len(self.ex.orders) - 1

    def dispute(self, index: int, complainant: str | None, category: str, hours: float) -> None:
        opened = self.ex.orders[index]["order_created_at"] + timedelta(hours=hours)
        self.ex.disputes.append((index, complainant, category, min(opened, NOW)))

    def plant(self, plan: Plan) -> None:
        rng, ex = self.rng, self.ex
        rings = [self.take(plan.ring_size) for _ in range(plan.rings)]
        sellers = self.take(plan.sellers)
        chargebackers = self.take(plan.chargebackers)
        takeovers = self.take(plan.takeovers)
        groups = [self.take(3) for _ in range(plan.linked_groups)]
        honest = self.free  # every planted order's other side is an honest account
        for r, members in enumerate(rings):
            names = [f"RING {r} PAYER {k}" for k in range(2)]
            account = f"RING-{r}-IBAN"
            for member in members:
                ex.planted[member] = "ring"
                for _ in range(6):
                    self.order(member, rng.choice(honest), self.at(), payer=rng.choice(names),
                               matches=False)  # fmt: skip
                for _ in range(3):
                    self.order(rng.choice(honest), member, self.at(), receiving=account)
        for seller in sellers:
            ex.planted[seller] = "many_buyers"
            for k in range(60):
                i = self.order(rng.choice(honest), seller, self.at(30))
                if k < 15:
                    self.dispute(i, ex.orders[i]["buyer_user_id"], "crypto_not_released", 2)
        for buyer in chargebackers:
            ex.planted[buyer] = "chargebacks"
            for k in range(12):
                i = self.order(buyer, rng.choice(honest), self.at())
                if k < 3:
                    self.dispute(i, ex.orders[i]["seller_user_id"], "chargeback", 24 * 10)
        for victim in takeovers:
            ex.planted[victim] = "takeover"
            for _ in range(20):
                self.order(victim, rng.choice(honest), self.at())
            start = self.at(20)
            for k in range(5):
                i = self.order(victim, rng.choice(honest), start + timedelta(hours=2 * k),
                               released=False)  # fmt: skip
                self.dispute(i, ex.orders[i]["seller_user_id"], "payment_not_received", 1)
        for g, members in enumerate(groups):
            for member in members:
                ex.planted[member] = "linked"
                ex.emails[member] = f"shared-{g}@mail.example"
                for k in range(8):
                    self.order(member, rng.choice(honest), self.at(), matches=k >= 2,
                               payer=f"SOMEONE ELSE {member}-{k}" if k < 2 else None)  # fmt: skip

    def fill(self, orders: int, disputes: int) -> None:
        """Honest trading up to `orders`, honest disputes up to `disputes`."""
        rng, ex = self.rng, self.ex
        honest = self.free
        heavy = honest[: max(5, len(self.ids) // 100)]
        ex.decoys = set(heavy)
        first_honest = len(ex.orders)
        remarks = ["order payment", "invoice 2291", "for goods", "thanks", "rent share"]
        while len(ex.orders) < orders:
            trader = rng.choice(heavy) if rng.random() < 0.3 else rng.choice(honest)
            other = rng.choice(honest)
            if other == trader:
                continue
            buyer, seller = (trader, other) if rng.random() < 0.5 else (other, trader)
            third = rng.random() < 0.01
            self.order(
                buyer, seller, self.at(),
                matches=not third,
                payer=f"RELATIVE OF {buyer}" if third else None,
                remark="usdt payment" if rng.random() < 0.005 else rng.choice(remarks),
                released=rng.random() < 0.9,
            )  # fmt: skip
        disputed = rng.sample(
            range(first_honest, len(ex.orders)), max(0, disputes - len(ex.disputes))
        )
        for i in disputed:
            o = ex.orders[i]
            chargeback = o["released_at"] is not None and rng.random() < 0.03
            if chargeback:
                complainant, category = o["seller_user_id"], "chargeback"
            else:
                side = "buyer_user_id" if rng.random() < 0.6 else "seller_user_id"
                complainant, category = o[side], "payment_not_received"
            if rng.random() < 0.2:
                complainant = None  # wrote without proving who they are
            self.dispute(i, complainant, category, rng.uniform(0.2, 48))


def generate(users: int, orders: int, disputes: int, plan: Plan, seed: int) -> Exchange:
    gen = Generator(users, seed)
    gen.plant(plan)
    gen.fill(orders, disputes)
    return gen.ex


async def load(url: str, ex: Exchange) -> None:
    """Insert the exchange's rows (orders, customers, tickets, cases, links)."""
    engine = create_engine(url)
    chunk = 2000
    async with engine.begin() as conn:
        for start in range(0, len(ex.orders), chunk):
            await conn.execute(sa.insert(OrderFact.__table__), ex.orders[start : start + chunk])
        queue_id = await conn.scalar(sa.select(Queue.id).where(Queue.name == "general"))
        if queue_id is None:
            queue_id = (
                await conn.execute(
                    sa.insert(Queue.__table__).values(name="general", created_at=NOW)
                )
            ).inserted_primary_key[0]
        people = sorted({c for _i, c, _k, _t in ex.disputes if c} | set(ex.emails))
        await conn.execute(
            sa.insert(Customer.__table__),
            [{"exchange_user_id": u, "email": ex.emails.get(u), "created_at": NOW} for u in people],
        )
        customer_ids = dict(
            (await conn.execute(sa.select(Customer.exchange_user_id, Customer.id))).all()
        )
        anonymous = (
            await conn.execute(sa.insert(Customer.__table__).values(created_at=NOW))
        ).inserted_primary_key[0]
        await conn.execute(
            sa.insert(ChannelIdentity.__table__),
            [{"customer_id": c, "channel": "webchat", "address": f"bench-{c}", "created_at": NOW}
             for c in [*customer_ids.values(), anonymous]],
        )  # fmt: skip
        identity_ids = dict(
            (await conn.execute(sa.select(ChannelIdentity.customer_id, ChannelIdentity.id))).all()
        )
        await conn.execute(
            sa.insert(DisputeCase.__table__),
            [{"order_ref": ex.orders[i]["order_ref"], "opened_at": t, "updated_at": t}
             for i, _c, _k, t in ex.disputes],
        )  # fmt: skip
        case_ids = dict(
            (await conn.execute(sa.select(DisputeCase.order_ref, DisputeCase.id))).all()
        )
        tickets = []
        for i, complainant, category, opened in ex.disputes:
            cid = customer_ids[complainant] if complainant else anonymous
            tickets.append({
                "customer_id": cid, "identity_id": identity_ids[cid], "channel": "webchat",
                "category": category, "order_ref": ex.orders[i]["order_ref"], "queue_id": queue_id,
                "created_at": opened, "updated_at": opened,
            })  # fmt: skip
        for start in range(0, len(tickets), chunk):
            await conn.execute(sa.insert(Ticket.__table__), tickets[start : start + chunk])
        ticket_ids = (
            await conn.execute(
                sa.select(Ticket.id, Ticket.order_ref).where(Ticket.order_ref.is_not(None))
            )
        ).all()
        links = []
        by_ref = {ex.orders[i]["order_ref"]: (c, ex.orders[i]) for i, c, _k, _t in ex.disputes}
        for ticket_id, ref in ticket_ids:
            if ref not in by_ref:
                continue
            complainant, order = by_ref[ref]
            party = "unknown"
            if complainant == order["buyer_user_id"]:
                party = "buyer"
            elif complainant == order["seller_user_id"]:
                party = "seller"
            links.append({
                "case_id": case_ids[ref], "ticket_id": ticket_id, "party": party,
                "party_source": "verified" if complainant else "none",
                "party_user_id": complainant, "linked_at": order["order_created_at"],
            })  # fmt: skip
        for start in range(0, len(links), chunk):
            await conn.execute(sa.insert(CaseTicket.__table__), links[start : start + chunk])
    # A desk gathers its rows over months and autovacuum analyses them; a bulk load
    # scored at once must collect the planner's statistics itself.
    async with engine.connect() as conn:
        await conn.execute(sa.text("ANALYZE"))
        await conn.commit()
    await engine.dispose()


@dataclass
class Result:
    users: int
    orders: int
    disputes: int
    planted: int
    top: list[tuple[str, float]]
    found: int
    precision: float
    recall: float
    candidates: int
    score_seconds: float
    refresh_ms_p50: float
    refresh_ms_p95: float
    missed: dict[str, str]
    false_positives: list[tuple[str, float, list[str]]]


async def score(url: str, ex: Exchange, top_n: int, users: int) -> Result:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    risk_service.install(sessionmaker, RiskSettings())
    words = risk_service.limits_of(sessionmaker()).sensitive_words
    started = time.perf_counter()
    async with sessionmaker() as session:
        candidates = await risk_repo.candidates(session, words)
    batch = 250
    for start in range(0, len(candidates), batch):
        async with sessionmaker.begin() as session:
            await risk_service.refresh(session, candidates[start : start + batch], now=NOW)
    seconds = time.perf_counter() - started
    # One incremental refresh: an order fact arriving rescored its parties and sharers.
    rng = random.Random(1)
    timings = []
    for index in rng.sample(range(len(ex.orders)), min(200, len(ex.orders))):
        async with sessionmaker.begin() as session:
            order = (
                await session.execute(
                    sa.select(OrderFact).where(OrderFact.order_ref == ex.orders[index]["order_ref"])
                )
            ).scalar_one()
            t0 = time.perf_counter()
            await risk_service.on_order(session, order, now=NOW)
            timings.append((time.perf_counter() - t0) * 1000)
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                sa.select(RiskAccount.user_id, RiskAccount.score, RiskAccount.signals)
                .order_by(RiskAccount.score.desc(), RiskAccount.user_id)
                .limit(top_n)
            )
        ).all()
    await engine.dispose()
    top = [(u, s) for u, s, _sig in rows]
    hits = {u for u, _s in top if u in ex.planted}
    timings.sort()
    return Result(
        users=users,
        orders=len(ex.orders),
        disputes=len(ex.disputes),
        planted=len(ex.planted),
        top=top,
        found=len(hits),
        precision=len(hits) / len(top) if top else 0.0,
        recall=len(hits) / len(ex.planted) if ex.planted else 0.0,
        candidates=len(candidates),
        score_seconds=seconds,
        refresh_ms_p50=statistics.median(timings) if timings else 0.0,
        refresh_ms_p95=timings[int(len(timings) * 0.95) - 1] if timings else 0.0,
        missed={u: p for u, p in ex.planted.items() if u not in hits},
        false_positives=[
            (u, s, [x["kind"] for x in sig]) for u, s, sig in rows if u not in ex.planted
        ],
    )


async def run(
    url: str,
    *,
    users: int = 20_000,
    orders: int = 200_000,
    disputes: int = 10_000,
    top: int | None = None,
    plan: Plan | None = None,
    seed: int = 7,
) -> Result:
    """Generate, migrate `url`, load, score. `top` defaults to the planted count (100
    with the default plan)."""
    plan = plan or Plan()
    ex = generate(users, orders, disputes, plan, seed)
    await asyncio.to_thread(migrate.upgrade, url)
    await load(url, ex)
    return await score(url, ex, top or plan.planted, users)


def report(result: Result, backend: str) -> str:
    lines = [
        f"risk bench (synthetic exchange), {backend}: {result.users:,} users, "
        f"{result.orders:,} orders, {result.disputes:,} disputes, {result.planted} planted",
        f"top {len(result.top)} by score: {result.found} planted -> precision "
        f"{result.precision:.1%}, recall {result.recall:.1%} (target >= 90 % / >= 95 %)",
        f"time to score: {result.score_seconds:.1f} s for {result.candidates:,} candidate "
        f"accounts ({result.candidates / max(result.score_seconds, 1e-9):,.0f} accounts/s)",
        f"incremental refresh (one order fact arriving): p50 {result.refresh_ms_p50:.1f} ms, "
        f"p95 {result.refresh_ms_p95:.1f} ms",
    ]
    if result.missed:
        lines.append(f"missed: {sorted(result.missed.items())[:10]}")
    if result.false_positives:
        lines.append(f"false positives in the top: {result.false_positives[:10]}")
    return "\n".join(lines)


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--disputes", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=None, help="default: the planted count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL database")
    args = parser.parse_args()
    if args.pg:
        import asyncpg
        from _common import DEFAULT_DSN

        name = f"parley_bench_risk_{uuid.uuid4().hex[:8]}"
        conn = await asyncpg.connect(DEFAULT_DSN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        url = DEFAULT_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{url}/{name}"
        try:
            result = await run(url, users=args.users, orders=args.orders,
                               disputes=args.disputes, top=args.top, seed=args.seed)  # fmt: skip
        finally:
            conn = await asyncpg.connect(DEFAULT_DSN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
        print(report(result, "PostgreSQL"))
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/risk.db"
        result = await run(url, users=args.users, orders=args.orders,
                           disputes=args.disputes, top=args.top, seed=args.seed)  # fmt: skip
    print(report(result, "SQLite"))


if __name__ == "__main__":
    asyncio.run(_main())
