"""One pure decision for one message: facts in, `RoutingOutcome` out.

`decide(facts, detector, classifier)` is what ingest and `gateway route` both call:
nothing here reads or writes the database. `service.RulesRouter` loads the facts and
applies the outcome (ticket fields, queue, audit rows).

- A bot command (Telegram `/start`) decides nothing: the ticket waits in the default
  queue, routed weakly, for the customer's first real message.
- A new ticket takes everything the message says. A later message raises severity
  (never lowers it), fills a category that was `other`, and may move the ticket while
  nobody holds it.
- A ticket routed weakly (a command, or a confidence under the triage threshold) is
  routed again from scratch by the next message while it is unassigned.
- Confidence under the threshold sends the ticket to the rules' triage queue, when the
  rules name one, instead of a guessed queue; critical tickets always go where the rules
  send critical tickets.
- A dispute whose counterparty is watchlisted or scores at least the risk threshold
  (`counterparty_risk`, loaded by the service from the order facts and risk scores)
  goes to the risk queue while it may move, severity at least high, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol

from gateway.routing.classify import Classification, raise_to
from gateway.routing.language import UNKNOWN, LanguageHints, LanguageResult, tags_for
from gateway.routing.rules import Decision, RoutingFacts, RuleSet
from gateway.routing.rules import decide as first_match
from gateway.tickets.models import Category, Severity

# "/start", "/start <token>", "/help@ParleyBot": what a bot menu sends, not what a
# customer says.
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@\w+)?(?:\s+\S+)?\s*$")


def is_command(text: str) -> bool:
    return bool(_COMMAND.match(text.strip()))


class Detector(Protocol):
    def detect(self, text: str, hints: LanguageHints | None = None) -> LanguageResult: ...


class Classifier(Protocol):
    def classify(self, text: str, *, earlier_tickets: int = 0) -> Classification: ...


@dataclass(frozen=True, slots=True)
class TicketState:
    """What routing needs to know of the ticket a later message joins."""

    language: str | None
    severity: str
    category: str
    order_ref: str | None
    amount: Decimal | None
    currency: str | None
    assigned: bool
    escalated: bool
    routing_confidence: float | None


@dataclass(frozen=True, slots=True)
class CounterpartyRisk:
    """The risk score of the other party of the order a message names."""

    score: float
    watchlisted: bool
    threshold: float  # 0: scores alone never route
    queue: str

    @property
    def over(self) -> bool:
        return self.watchlisted or (self.threshold > 0 and self.score >= self.threshold)


@dataclass(frozen=True, slots=True)
class MessageFacts:
    text: str
    channel: str
    rule_set: RuleSet
    hints: LanguageHints = field(default_factory=LanguageHints)
    earlier_tickets: int = 0
    customer_flags: frozenset[str] = frozenset()
    ticket: TicketState | None = None  # None: the message opens a new ticket
    triage_confidence: float = 0.0  # below it a decision is weak
    counterparty_risk: CounterpartyRisk | None = None


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """Everything routing decided for one message (what `gateway route` prints)."""

    language: LanguageResult
    classification: Classification
    decision: Decision
    message_language: str | None
    ticket_language: str | None
    severity: Severity
    category: Category
    order_ref: str | None
    amount: Decimal | None
    currency: str | None
    confidence: float
    changed: bool  # a routing field of the ticket changed
    move: bool  # the ticket should be (re)queued to decision.queue
    rerouted_weak: bool  # routed again because its earlier routing was weak
    reasons: tuple[str, ...]


def decide(facts: MessageFacts, detector: Detector, classifier: Classifier) -> RoutingOutcome:
    """Language, severity, category, queue and confidence for one message. Pure."""
    command = is_command(facts.text)
    if command:
        language = LanguageResult(
            UNKNOWN, 0.0, ("a bot command decides nothing: the next message routes",),
            tags=frozenset({UNKNOWN}),
        )  # fmt: skip
        found = Classification(
            Category.other, Severity.normal, None, None, None,
            (f"command {facts.text.strip().split()[0]!r}: no category or severity",), 0.0,
        )  # fmt: skip
    else:
        language = detector.detect(facts.text, facts.hints)
        found = classifier.classify(facts.text, earlier_tickets=facts.earlier_tickets)

    old = facts.ticket
    weak_before = old is not None and (
        old.routing_confidence is None or old.routing_confidence < facts.triage_confidence
    )
    movable = old is None or (not old.assigned and not old.escalated)
    fresh = old is None or (weak_before and movable and not command)

    agent_language = facts.hints.agent
    if agent_language:
        ticket_language: str | None = agent_language
    elif fresh and language.known:
        ticket_language = language.code
    elif old is not None and old.language:
        ticket_language = old.language
    else:
        ticket_language = language.code if language.known else None

    if fresh:
        severity, category = found.severity, found.category
        order_ref, amount, currency = found.order_ref, found.amount, found.currency
        confidence = found.confidence
    else:
        assert old is not None
        severity = raise_to(Severity(old.severity), found.severity)
        category = Category(old.category)
        if category == Category.other and found.category != Category.other:
            category = found.category
        order_ref = old.order_ref or found.order_ref
        amount, currency = old.amount, old.currency
        if amount is None and found.amount is not None:
            amount, currency = found.amount, found.currency
        confidence = max(old.routing_confidence or 0.0, found.confidence)
    if command and old is not None:
        confidence = old.routing_confidence or 0.0

    flags = facts.customer_flags | ({"repeat_dispute"} if facts.earlier_tickets else set())
    if ticket_language == language.code:
        tags = language.tags
    else:
        tags = tags_for(ticket_language) if ticket_language else frozenset({UNKNOWN})
    routing_facts = RoutingFacts(tags, severity, category, facts.channel, frozenset(flags))
    decision = first_match(facts.rule_set, routing_facts)
    triage = facts.rule_set.triage_queue
    if (
        triage
        and confidence < facts.triage_confidence
        and severity != Severity.critical
        and not command
    ):
        decision = Decision(
            triage,
            None,
            f"confidence {confidence:.2f} < {facts.triage_confidence:.2f}: triage queue "
            f"{triage} instead of {decision.queue}",
        )
    reasons = (*language.reasons, *found.reasons, decision.reason)

    changed = old is None or (old.language, old.severity, old.category) != (
        ticket_language, severity, category
    )  # fmt: skip
    move = old is None or (movable and (changed or (weak_before and not command)))
    outcome = RoutingOutcome(
        language=language,
        classification=found,
        decision=decision,
        message_language=language.code if language.known else None,
        ticket_language=ticket_language,
        severity=severity,
        category=category,
        order_ref=order_ref,
        amount=amount,
        currency=currency,
        confidence=round(confidence, 3),
        changed=changed,
        move=move,
        rerouted_weak=old is not None and fresh,
        reasons=reasons,
    )
    return with_counterparty_risk(outcome, facts)


def with_counterparty_risk(outcome: RoutingOutcome, facts: MessageFacts) -> RoutingOutcome:
    """The risk step of `decide`, on its own: the service applies it after learning the
    order (and so the counterparty) from `decide`'s outcome. Pure."""
    risk = facts.counterparty_risk
    if risk is None or not risk.over:
        return outcome
    old = facts.ticket
    movable = old is None or (not old.assigned and not old.escalated)
    severity = raise_to(outcome.severity, Severity.high)
    why = "is on the watchlist" if risk.watchlisted else (
        f"scores {risk.score:g} >= {risk.threshold:g}"
    )  # fmt: skip
    where = f"risk queue {risk.queue}" if movable else "stays with its assignee"
    reason = f"the order's counterparty {why} (risk signals): {where}, severity at least high"
    return replace(
        outcome,
        decision=Decision(risk.queue, "risk-counterparty", reason) if movable else outcome.decision,
        severity=severity,
        changed=outcome.changed or severity != outcome.severity,
        move=old is None or movable,
        reasons=(*outcome.reasons, reason),
    )
