"""The pure signal rules: what fires, how much it weighs, what dismissals do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.risk.signals import AccountFacts, Dispute, Linked, Shared, Thresholds, score, signals

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = Thresholds(window_days=30, min_dispute_rate=0.05, burst_disputes=4, burst_hours=24)


def disputes(n: int, *, hours_apart: float, complainants: bool = True) -> list[Dispute]:
    return [
        Dispute(
            case_id=i + 1,
            order_ref=f"o{i}",
            opened_at=NOW - timedelta(hours=hours_apart * i),
            counterparty=f"c{i}",
            complainant=f"c{i}" if complainants else None,
            as_buyer=False,
            released=False,
            chargeback=False,
        )
        for i in range(n)
    ]


def fired(facts: AccountFacts) -> dict[str, float]:
    return {s.kind: s.weight for s in signals(facts, LIMITS)}


def test_a_seller_disputed_by_many_buyers_scores_high() -> None:
    found = fired(AccountFacts("s", NOW, 20, disputes=disputes(6, hours_apart=48)))
    assert found == {"many_complainants": 50.0, "repeat_disputes": 30.0}


def test_a_heavy_trader_disputed_at_a_normal_rate_is_not_suspicious() -> None:
    # 10 disputes on 2,000 orders in the window: 0.5 %, under the 5 % floor.
    assert fired(AccountFacts("h", NOW, 2000, disputes=disputes(10, hours_apart=60))) == {}


def test_disputes_outside_the_window_do_not_count() -> None:
    old = disputes(5, hours_apart=24 * 40)  # one in the window, four long before
    assert "repeat_disputes" not in fired(AccountFacts("o", NOW, 5, disputes=old))


def test_a_burst_of_disputes_after_a_takeover() -> None:
    found = signals(AccountFacts("t", NOW, 6, disputes=disputes(5, hours_apart=2)), LIMITS)
    burst = next(s for s in found if s.kind == "dispute_burst")
    assert burst.weight == 40 and len(burst.cases) == 5
    assert "5 disputes within 24 hours" in burst.sentence


def test_shared_names_third_party_remarks_and_links() -> None:
    facts = AccountFacts(
        "r",
        NOW,
        4,
        buys=4,
        third_party_orders=["o1", "o2"],
        remark_orders=[("o3", "usdt")],
        shared_payer_names=[Shared("RING PAYER", 3, ("x1", "x2", "x3"))],
        shared_receiving_accounts=[Shared("DE89****3000", 1, ("y1",))],
        linked=[Linked("email", ("r2", "r3"))],
    )
    found = {s.kind: s for s in signals(facts, LIMITS)}
    assert found["shared_payer_name"].weight == 50
    assert "'RING PAYER' also used by 3 other accounts" in found["shared_payer_name"].sentence
    assert found["shared_receiving_account"].weight == 30
    assert found["third_party_payment"].weight == 20
    assert found["sensitive_remark"].sentence == "1 transfer remark naming usdt"
    assert found["linked_identities"].weight == 40
    assert score(list(found.values())) == 50 + 30 + 20 + 10 + 40


@pytest.mark.parametrize(("dismissed", "weight"), [(0, 40.0), (1, 20.0), (2, 10.0)])
def test_each_dismissal_halves_the_weights_it_named(dismissed: int, weight: float) -> None:
    facts = AccountFacts(
        "d", NOW, 6, disputes=disputes(5, hours_apart=2, complainants=False),
        dismissals={"dispute_burst": dismissed},
    )  # fmt: skip
    assert fired(facts)["dispute_burst"] == weight


def test_a_heavy_traders_occasional_third_party_payment_is_not_a_signal() -> None:
    heavy = AccountFacts("h", NOW, 300, buys=200, third_party_orders=["o1", "o2"])
    assert fired(heavy) == {}
    small = AccountFacts("n", NOW, 3, buys=3, third_party_orders=["o1"])
    assert fired(small) == {"third_party_payment": 10.0}
