"""Category and severity of a message: the shipped triage model decides, the desk's
severity policy bounds it, rules extract what rules do well (amounts, order ids).

Pure (no I/O once the model is loaded). The severity policy (README, "Severity"):

- critical: money is being lost now or was just lost: account takeover, crypto released
  against a fake payment proof, an impersonation scam where funds were sent, a stated
  amount at or over the critical threshold.
- high: a live trade dispute with funds locked or a party not acting (crypto not
  released, payment not received, cancelled after payment, chargeback, a bank account
  frozen over a trade), or a stated amount at or over the high threshold.
- normal: a decision is needed but nothing is moving (amount mismatch, third-party
  payment, account frozen for verification, asking about an open appeal).
- low: how-to questions, thanks, feedback.

The model rates severity from the text; the policy then raises it to its category's
floor, raises it for amounts, keeps critical for theft and scams (other categories are
critical only for their amount), and calls a theft or scam critical whenever the model
gives critical at least `CRITICAL_FLOOR`: a missed theft costs more than a false alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path

from gateway.routing.classify import (
    USD_VALUE,
    Classification,
    extract_amount,
    extract_order_ref,
    raise_to,
    step_up,
)
from gateway.routing.features import MAX_FEATURE_CHARS, features
from gateway.routing.model import TriageModel
from gateway.tickets.models import Category, Severity

MODEL_FILE = "triage_model.json.gz"

# The least severity each category has under the policy.
CATEGORY_FLOOR: dict[str, Severity] = {
    Category.account_takeover: Severity.critical,
    Category.fraud_or_scam: Severity.high,
    Category.chargeback: Severity.high,
    Category.bank_account_frozen: Severity.high,
    Category.cancelled_after_payment: Severity.high,
    Category.crypto_not_released: Severity.high,
    Category.payment_not_received: Severity.high,
    Category.third_party_payment: Severity.normal,
    Category.amount_mismatch: Severity.normal,
    Category.account_frozen: Severity.normal,
    Category.other: Severity.low,
}
# Only these categories are critical by their text alone (theft, a scam that took money);
# any other is critical only for its amount, which the amount rule reads.
CRITICAL_BY_TEXT = frozenset({Category.account_takeover, Category.fraud_or_scam})
CRITICAL_FLOOR = 0.25


def default_model_path() -> Path:
    return Path(str(resources.files("gateway.routing").joinpath(MODEL_FILE)))


@cache
def shipped_model() -> TriageModel:
    """The model file in the package, loaded once per process (about 1 MB)."""
    return TriageModel.load(default_model_path())


@dataclass(frozen=True, slots=True)
class TriageClassifier:
    model: TriageModel
    high_amount_usd: Decimal
    critical_amount_usd: Decimal

    def classify(self, text: str, *, earlier_tickets: int = 0) -> Classification:
        """Category, severity, stated fields and a confidence, with the reasons for each."""
        head = text[:MAX_FEATURE_CHARS]
        feats = features(head)
        cat = self.model.category.predict(feats)
        sev = self.model.severity.predict(feats)
        category = Category(cat.label)
        severity = Severity(sev.label)
        cues = f": {', '.join(cat.cues)}" if cat.cues else ""
        reasons = [
            f"category {category} ({cat.probability:.2f}) by the triage model{cues}",
            f"severity {severity} ({sev.probability:.2f}) by the triage model",
        ]
        # A severity a rule set is as sure as the rule; the model's own is as sure as it is.
        sev_confidence = sev.probability
        p_critical = sev.probabilities.get(Severity.critical, 0.0)
        if severity == Severity.critical and category not in CRITICAL_BY_TEXT:
            severity = Severity.high
            reasons.append(f"severity high: {category} is critical only for a large amount")
        elif (
            severity != Severity.critical
            and category in CRITICAL_BY_TEXT
            and p_critical >= CRITICAL_FLOOR
        ):
            severity, sev_confidence = Severity.critical, 1.0
            reasons.append(
                f"severity critical: the model gives critical {p_critical:.2f} "
                f">= {CRITICAL_FLOOR} (a missed theft costs more than a false alarm)"
            )
        floor = CATEGORY_FLOOR[category]
        raised = raise_to(severity, floor)
        if raised != severity:
            severity, sev_confidence = raised, 1.0
            reasons.append(f"severity {severity}: the least for category {category}")

        amount_currency = extract_amount(head)
        amount, currency = amount_currency if amount_currency else (None, None)
        if amount is not None and currency is not None:
            usd = amount * USD_VALUE.get(currency, Decimal(0))
            for threshold, level in (
                (self.critical_amount_usd, Severity.critical),
                (self.high_amount_usd, Severity.high),
            ):
                if usd >= threshold:
                    raised = raise_to(severity, level)
                    if raised != severity:
                        severity, sev_confidence = raised, 1.0
                        reasons.append(
                            f"severity {severity}: amount {amount} {currency} ~ {usd:.0f} USD "
                            f">= {threshold} USD"
                        )
                    break
        if earlier_tickets > 0 and category != Category.other:
            raised = step_up(severity)
            if raised != severity:
                reasons.append(
                    f"severity {raised}: repeat dispute ({earlier_tickets} earlier tickets)"
                )
                severity = raised

        order_ref = extract_order_ref(head)
        if order_ref:
            reasons.append(f"order reference {order_ref}")
        if amount is not None:
            reasons.append(f"amount {amount} {currency}")
        confidence = round(min(cat.probability, sev_confidence), 3)
        return Classification(
            category, severity, order_ref, amount, currency, tuple(reasons), confidence
        )
