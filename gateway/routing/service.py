"""Routing use cases: load a message's facts, decide (pure), apply the outcome; load rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.ports import InboundMessage
from gateway.queues import repository as queues_repo
from gateway.risk import service as risk_service
from gateway.routing import repository as repo
from gateway.routing.classify import Classification, classify
from gateway.routing.decision import (
    Classifier,
    CounterpartyRisk,
    MessageFacts,
    RoutingOutcome,
    TicketState,
    decide,
    with_counterparty_risk,
)
from gateway.routing.language import LanguageDetectorService, LanguageHints, parse_languages
from gateway.routing.rules import RuleSet
from gateway.routing.triage import TriageClassifier, shipped_model
from gateway.settings import RiskSettings, RoutingSettings
from gateway.tickets.models import (
    SEVERITY_RANK,
    Customer,
    Message,
    Severity,
    Ticket,
    TicketStatus,
)
from gateway.tickets.repository import CustomerHistory

log = structlog.get_logger()

tickets_routed = Counter(
    "parley_tickets_routed_total", "Tickets queued or moved by routing, by rule", ["rule"]
)

# A long conversation must not grow the ticket JSON without bound.
MAX_REASONS = 60


@dataclass(frozen=True, slots=True)
class PhraseClassifier:
    """The phrase lists alone: the baseline, and what runs without a model file."""

    high_amount_usd: Decimal
    critical_amount_usd: Decimal

    def classify(self, text: str, *, earlier_tickets: int = 0) -> Classification:
        return classify(
            text,
            high_amount_usd=self.high_amount_usd,
            critical_amount_usd=self.critical_amount_usd,
            earlier_tickets=earlier_tickets,
        )


@dataclass(frozen=True, slots=True)
class _CachedRules:
    version: str | None
    rule_set: RuleSet
    queue_ids: dict[str, int]


class Router:
    """The pure part: detector + classifier + rules, no database."""

    def __init__(self, settings: RoutingSettings) -> None:
        self.settings = settings
        self.languages = parse_languages(settings.languages)
        self._detector: LanguageDetectorService | None = None

    @property
    def detector(self) -> LanguageDetectorService:
        """Built on first use, once per process and language set (the models are large)."""
        if self._detector is None:
            self._detector = LanguageDetectorService(
                self.languages,
                min_confidence=self.settings.min_confidence,
                low_accuracy=self.settings.low_accuracy,
            )
        return self._detector

    @cached_property
    def classifier(self) -> Classifier:
        """The shipped triage model, or the phrase lists when the settings ask for them."""
        if self.settings.classifier == "phrases":
            return PhraseClassifier(
                self.settings.high_amount_usd, self.settings.critical_amount_usd
            )
        return TriageClassifier(
            shipped_model(), self.settings.high_amount_usd, self.settings.critical_amount_usd
        )

    async def warm_up(self) -> None:
        """Build the detector and load the model in a worker thread: doing it lazily inside
        a request would stall the event loop, and every connection on it, for seconds."""
        await asyncio.to_thread(lambda: (self.detector, self.classifier))

    def decide(self, facts: MessageFacts) -> RoutingOutcome:
        """What routing decides for one message (pure: the same facts, the same outcome)."""
        return decide(facts, self.detector, self.classifier)

    def evaluate(
        self,
        text: str,
        rule_set: RuleSet,
        *,
        channel: str,
        hints: LanguageHints | None = None,
    ) -> RoutingOutcome:
        """What routing decides for a message that opens a new ticket (`gateway route`)."""
        return self.decide(self.new_ticket_facts(text, rule_set, channel=channel, hints=hints))

    def new_ticket_facts(
        self, text: str, rule_set: RuleSet, *, channel: str, hints: LanguageHints | None = None
    ) -> MessageFacts:
        return MessageFacts(
            text=text,
            channel=channel,
            rule_set=rule_set,
            hints=hints or LanguageHints(),
            triage_confidence=self.settings.triage_confidence,
        )


class RulesRouter(Router):
    """The `TicketRouter` of a running gateway: rules from the database, cached per process
    and re-read when another process (or `gateway rules load`) changed them."""

    def __init__(self, settings: RoutingSettings, risk: RiskSettings | None = None) -> None:
        super().__init__(settings)
        self.risk = risk or RiskSettings()
        self._cache: _CachedRules | None = None

    async def rules(self, session: AsyncSession) -> tuple[RuleSet, dict[str, int]]:
        """The current rule set and queue ids; one primary-key read when unchanged."""
        version = await repo.rules_version(session)
        if self._cache is None or self._cache.version != version:
            rule_set, ids = await repo.load_rule_set(session)
            self._cache = _CachedRules(version, rule_set, ids)
            log.info("routing.rules_cached", version=version, rules=len(rule_set.rules))
        return self._cache.rule_set, self._cache.queue_ids

    async def load_facts(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        message: Message,
        inbound: InboundMessage,
        customer: Customer,
        new_ticket: bool,
        new_customer: bool,
        rule_set: RuleSet,
        known: CustomerHistory | None = None,
    ) -> MessageFacts:
        """Everything `decide` reads about one message, from the database and the channel.
        `known`: the customer's history as the caller already read it (else read here)."""
        assert message.id is not None and customer.id is not None and ticket.id is not None
        # A customer this message created has no earlier messages or tickets to read.
        if new_customer:
            history, earlier = None, 0
        elif known is not None:
            history, earlier = known.last_language, known.earlier_tickets
        else:
            history = await repo.last_inbound_language(session, customer.id, message.id)
            earlier = await repo.earlier_ticket_count(session, customer.id, ticket.id)
        state = (
            None
            if new_ticket
            else TicketState(
                language=ticket.language,
                severity=ticket.severity,
                category=ticket.category,
                order_ref=ticket.order_ref,
                amount=ticket.amount,
                currency=ticket.currency,
                assigned=ticket.assignee_id is not None,
                escalated=ticket.status == TicketStatus.escalated,
                routing_confidence=ticket.routing_confidence,
            )
        )
        return MessageFacts(
            text=message.text,
            channel=ticket.channel,
            rule_set=rule_set,
            hints=LanguageHints(
                channel=inbound.language_hint, history=history, agent=customer.language
            ),
            earlier_tickets=earlier,
            customer_flags=frozenset(k for k, v in customer.flags.items() if v),
            ticket=state,
            triage_confidence=self.settings.triage_confidence,
        )

    async def route(
        self,
        session: AsyncSession,
        *,
        ticket: Ticket,
        message: Message,
        inbound: InboundMessage,
        customer: Customer,
        new_ticket: bool,
        new_customer: bool = False,
        history: CustomerHistory | None = None,
    ) -> None:
        """Load the facts, decide, apply: set language, severity, category, stated fields,
        confidence and reasons; queue a new ticket, move an unassigned one whose routing
        changed or was weak. Severity only ever rises. Flushes. `history`: the customer's,
        when the caller read it with its own first read."""
        rule_set, queue_ids = await self.rules(session)
        facts = await self.load_facts(
            session,
            ticket=ticket,
            message=message,
            inbound=inbound,
            customer=customer,
            new_ticket=new_ticket,
            new_customer=new_customer,
            rule_set=rule_set,
            known=history,
        )
        outcome = self.decide(facts)
        if outcome.order_ref and self.risk.route_threshold > 0:
            outcome, queue_ids = await self._counterparty_step(
                session, facts, outcome, queue_ids, customer
            )
        await apply(session, ticket, message, outcome, queue_ids, new_ticket=new_ticket)

    async def _counterparty_step(
        self,
        session: AsyncSession,
        facts: MessageFacts,
        outcome: RoutingOutcome,
        queue_ids: dict[str, int],
        customer: Customer,
    ) -> tuple[RoutingOutcome, dict[str, int]]:
        """The order is known only once `decide` read it from the message: load its
        counterparty's score (two indexed reads) and apply decide's risk step."""
        assert outcome.order_ref is not None
        found = await risk_service.counterparty(
            session, outcome.order_ref, customer.exchange_user_id
        )
        if found is None:
            return outcome, queue_ids
        risk = CounterpartyRisk(
            found.score, found.watchlisted, self.risk.route_threshold, self.risk.queue
        )
        outcome = with_counterparty_risk(outcome, replace(facts, counterparty_risk=risk))
        if outcome.decision.queue == risk.queue and risk.queue not in queue_ids:
            # The rules need not name the risk queue: it exists once something goes there.
            queue = await queues_repo.ensure_queue(
                session, risk.queue, "Suspicious accounts: risk reports and risky disputes"
            )
            assert queue.id is not None
            queue_ids = {**queue_ids, risk.queue: queue.id}
        return outcome, queue_ids


async def apply(
    session: AsyncSession,
    ticket: Ticket,
    message: Message,
    outcome: RoutingOutcome,
    queue_ids: dict[str, int],
    *,
    new_ticket: bool,
) -> None:
    """Write one routing outcome onto its ticket, with its audit rows. Flushes nothing new:
    every queue it names exists (rules load refuses unknown ones)."""
    message.language = outcome.message_language
    ticket.language = outcome.ticket_language
    ticket.severity = outcome.severity
    ticket.category = outcome.category
    ticket.order_ref = outcome.order_ref
    ticket.amount, ticket.currency = outcome.amount, outcome.currency
    ticket.routing_confidence = outcome.confidence
    decision = outcome.decision
    queue_id = queue_ids.get(decision.queue)
    if queue_id is None:
        # Only a database edited by hand gets here; the default queue always exists.
        log.warning("routing.queue_missing", queue=decision.queue)
        queue_id = await queues_repo.default_queue_id(session)

    if new_ticket:
        ticket.queue_id = queue_id
        ticket.routing_reasons = list(outcome.reasons)[-MAX_REASONS:]
        tickets_routed.labels(decision.rule or "default").inc()
        audit.record(
            session,
            "ticket.routed",
            ticket_id=ticket.id,
            queue=decision.queue,
            rule=decision.rule,
            language=ticket.language,
            severity=ticket.severity,
            category=ticket.category,
            confidence=outcome.confidence,
        )
        return
    if not outcome.changed and not outcome.move:
        return
    note = [f"message {message.id}: {reason}" for reason in outcome.reasons]
    moved = outcome.move and queue_id != ticket.queue_id
    if moved:
        audit.record(
            session,
            "ticket.rerouted",
            ticket_id=ticket.id,
            from_queue=ticket.queue_id,
            to_queue=queue_id,
            queue=decision.queue,
            rule=decision.rule,
            severity=ticket.severity,
            language=ticket.language,
            category=ticket.category,
            confidence=outcome.confidence,
            weak_before=outcome.rerouted_weak,
        )
        ticket.queue_id = queue_id
        tickets_routed.labels(decision.rule or "default").inc()
    ticket.routing_reasons = [*ticket.routing_reasons, *note][-MAX_REASONS:]
    log.info(
        "ticket.routing_changed",
        ticket=ticket.ref,
        severity=ticket.severity,
        severity_rank=SEVERITY_RANK[Severity(ticket.severity)],
        moved=moved,
    )


async def load_rules(session: AsyncSession, rule_set: RuleSet) -> int:
    """Store a validated rule set for every process; returns the new version. Flushes."""
    version = await repo.replace_rule_set(session, rule_set)
    log.info("routing.rules_loaded", version=version, rules=len(rule_set.rules))
    return version
