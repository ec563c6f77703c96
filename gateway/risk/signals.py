"""Suspicious-account signals: one account's facts in, weighted signals out. Pure.

Each signal has a weight (its share of the score) and a sentence an agent can read
aloud. The score is the sum of the weights. Weights are fixed here, so one score means
the same on every desk; a dismissed report lowers the weights of the signals it named
for that account only (`dismissals`, `dismiss_factor`).

Signals and weights (the README has the same table):

- repeat_disputes: >= 3 disputes as complainant or counterparty in the window, at
  >= min_dispute_rate of the account's orders: 15, +5 per further dispute, at most 40
- many_complainants: counterparty of >= 3 different complainants in the window, at
  >= min_dispute_rate: 30, +10 per further complainant, at most 50
- shared_payer_name: a payer name on the account's buys, not confirmed as the buyer's
  own, paid other buyer accounts' orders too: 30, +10 per further account, at most 50
- shared_receiving_account: the account's receiving account received for other
  sellers too: 30, +10 per further account, at most 50
- third_party_payment: the payer's name is not the buyer's: 10 per order, at most 30
- sensitive_remark: a transfer remark on a buy names crypto or fraud words: 10 per
  order, at most 30
  (these two and chargeback_after_release need >= min_share of the account's buys:
  a heavy honest trader meets each now and then, a fraudster on every few orders)
- dispute_burst: >= burst_disputes disputes within burst_hours: 40
- chargeback_after_release: a chargeback case on an order released to this buyer: 25
  per case, at most 75
- linked_identities: one email or Telegram user behind other exchange ids too: 20 per
  other id, at most 40
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class Dispute:
    """One case on an order the account was a party of."""

    case_id: int
    order_ref: str
    opened_at: datetime
    counterparty: str
    # The exchange id behind the case's first verified ticket (None: nobody verified).
    complainant: str | None
    as_buyer: bool
    released: bool
    chargeback: bool  # a ticket of the case is about a chargeback


@dataclass(frozen=True, slots=True)
class Shared:
    """A payer name or receiving account the account shares with other accounts."""

    value: str
    others: int
    orders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Linked:
    how: str  # "email" or "telegram"
    others: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountFacts:
    user_id: str
    now: datetime
    orders_in_window: int
    buys: int = 0  # every buy of the account (third-party, remark, chargeback shares)
    disputes: Sequence[Dispute] = ()
    third_party_orders: Sequence[str] = ()
    remark_orders: Sequence[tuple[str, str]] = ()  # (order ref, the word found)
    shared_payer_names: Sequence[Shared] = ()
    shared_receiving_accounts: Sequence[Shared] = ()
    linked: Sequence[Linked] = ()
    dismissals: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Thresholds:
    window_days: int = 30
    min_dispute_rate: float = 0.10
    min_share: float = 0.05
    burst_disputes: int = 4
    burst_hours: int = 24
    dismiss_factor: float = 0.5


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    weight: float
    sentence: str
    cases: tuple[int, ...] = ()
    orders: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "weight": self.weight,
            "sentence": self.sentence,
            "cases": list(self.cases),
            "orders": list(self.orders),
        }


def _ramp(count: int, start: int, base: float, step: float, cap: float) -> float:
    return min(cap, base + step * (count - start))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def signals(facts: AccountFacts, limits: Thresholds) -> list[Signal]:
    """The signals that fire for one account, dismissals applied, strongest first."""
    found: list[Signal] = []
    since = facts.now - timedelta(days=limits.window_days)
    recent = sorted((d for d in facts.disputes if d.opened_at >= since), key=lambda d: d.opened_at)
    orders = max(facts.orders_in_window, len(recent))
    rate = len(recent) / orders if orders else 0.0
    cases = tuple(d.case_id for d in recent)
    if len(recent) >= 3 and rate >= limits.min_dispute_rate:
        found.append(Signal(
            "repeat_disputes", _ramp(len(recent), 3, 15, 5, 40),
            f"{len(recent)} disputes in {limits.window_days} days on "
            f"{_plural(orders, 'order')} ({rate:.0%} disputed)",
            cases,
        ))  # fmt: skip
    against = [d for d in recent if d.complainant and d.complainant != facts.user_id]
    complainants = {d.complainant for d in against}
    if len(complainants) >= 3 and rate >= limits.min_dispute_rate:
        found.append(Signal(
            "many_complainants", _ramp(len(complainants), 3, 30, 10, 50),
            f"named as counterparty by {len(complainants)} different complainants in "
            f"{limits.window_days} days",
            tuple(d.case_id for d in against),
        ))  # fmt: skip
    for kind, shared, what in (
        ("shared_payer_name", facts.shared_payer_names, "payer account name"),
        ("shared_receiving_account", facts.shared_receiving_accounts, "receiving account"),
    ):
        if not shared:
            continue
        others = sum(s.others for s in shared)
        named = ", ".join(repr(s.value) for s in shared[:3])
        found.append(Signal(
            kind, _ramp(others, 1, 30, 10, 50),
            f"{what} {named} also used by {_plural(others, 'other account')}",
            (), tuple(ref for s in shared for ref in s.orders)[:20],
        ))  # fmt: skip
    buys = max(facts.buys, 1)
    if facts.third_party_orders and len(facts.third_party_orders) / buys >= limits.min_share:
        n = len(facts.third_party_orders)
        found.append(Signal(
            "third_party_payment", min(30.0, 10.0 * n),
            f"{_plural(n, 'order')} paid from an account in someone else's name",
            (), tuple(facts.third_party_orders)[:20],
        ))  # fmt: skip
    if facts.remark_orders and len(facts.remark_orders) / buys >= limits.min_share:
        n = len(facts.remark_orders)
        words = sorted({word for _ref, word in facts.remark_orders})
        found.append(Signal(
            "sensitive_remark", min(30.0, 10.0 * n),
            f"{_plural(n, 'transfer remark')} naming {', '.join(words)}",
            (), tuple(ref for ref, _w in facts.remark_orders)[:20],
        ))  # fmt: skip
    burst = _burst(recent, timedelta(hours=limits.burst_hours))
    if len(burst) >= limits.burst_disputes:
        found.append(Signal(
            "dispute_burst", 40.0,
            f"{len(burst)} disputes within {limits.burst_hours} hours "
            f"from {burst[0].opened_at:%Y-%m-%d %H:%M} UTC",
            tuple(d.case_id for d in burst),
        ))  # fmt: skip
    chargebacks = [d for d in facts.disputes if d.as_buyer and d.released and d.chargeback]
    if chargebacks and len(chargebacks) / buys >= limits.min_share:
        n = len(chargebacks)
        found.append(Signal(
            "chargeback_after_release", min(75.0, 25.0 * n),
            f"{_plural(n, 'chargeback')} after the crypto was released to this buyer",
            tuple(d.case_id for d in chargebacks),
        ))  # fmt: skip
    accounts = sorted({o for link in facts.linked for o in link.others})
    if accounts:
        hows = " and ".join(sorted({_HOW.get(link.how, link.how) for link in facts.linked}))
        shown = ", ".join(accounts[:5]) + (" ..." if len(accounts) > 5 else "")
        found.append(Signal(
            "linked_identities", min(40.0, 20.0 * len(accounts)),
            f"the same {hows} is behind {_plural(len(accounts), 'other exchange account')}: "
            f"{shown}",
        ))  # fmt: skip
    damped = [_damp(s, facts.dismissals.get(s.kind, 0), limits.dismiss_factor) for s in found]
    return sorted(damped, key=lambda s: (-s.weight, s.kind))


_HOW = {"email": "vouched email", "telegram": "Telegram user", "webchat": "chat visitor"}


def _damp(signal: Signal, dismissed: int, factor: float) -> Signal:
    if not dismissed:
        return signal
    weight = round(signal.weight * factor**dismissed, 1)
    sentence = f"{signal.sentence} (weight lowered: {_plural(dismissed, 'dismissed report')})"
    return Signal(signal.kind, weight, sentence, signal.cases, signal.orders)


def _burst(disputes: Sequence[Dispute], span: timedelta) -> list[Dispute]:
    """The most disputes inside any window of `span` (sorted input)."""
    best: list[Dispute] = []
    start = 0
    for end, dispute in enumerate(disputes):
        while dispute.opened_at - disputes[start].opened_at > span:
            start += 1
        if end - start + 1 > len(best):
            best = list(disputes[start : end + 1])
    return best


def score(found: Sequence[Signal]) -> float:
    return round(sum(s.weight for s in found), 1)
