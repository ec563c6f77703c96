"""Routing use cases: decide a message's language, severity, category and queue; load rules."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.ports import InboundMessage
from gateway.routing import repository as repo
from gateway.routing.classify import Classification, classify, raise_to
from gateway.routing.language import (
    UNKNOWN,
    LanguageDetectorService,
    LanguageHints,
    LanguageResult,
    parse_languages,
    tags_for,
)
from gateway.routing.rules import Decision, RoutingFacts, RuleSet, decide
from gateway.settings import RoutingSettings
from gateway.tickets import repository as tickets_repo
from gateway.tickets.models import (
    SEVERITY_RANK,
    Category,
    Customer,
    Message,
    Severity,
    Ticket,
    TicketStatus,
)

log = structlog.get_logger()

tickets_routed = Counter(
    "parley_tickets_routed_total", "Tickets queued or moved by routing, by rule", ["rule"]
)

# A long conversation must not grow the ticket JSON without bound.
MAX_REASONS = 60


@dataclass(frozen=True, slots=True)
class RoutingOutcome:
    """Everything routing decided for one message (what `gateway route` prints)."""

    language: LanguageResult
    classification: Classification
    decision: Decision


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

    async def warm_up(self) -> None:
        """Build the detector in a worker thread: building it lazily inside a request
        would stall the event loop, and every connection on it, for seconds."""
        await asyncio.to_thread(lambda: self.detector)

    def evaluate(
        self,
        text: str,
        rule_set: RuleSet,
        *,
        channel: str,
        hints: LanguageHints | None = None,
        customer_flags: frozenset[str] = frozenset(),
        earlier_tickets: int = 0,
    ) -> RoutingOutcome:
        """What routing decides for a message as if it opened a new ticket."""
        language = self.detector.detect(text, hints)
        classification = self.classify(text, earlier_tickets)
        facts = RoutingFacts(
            language.tags, classification.severity, classification.category, channel,
            customer_flags,
        )  # fmt: skip
        return RoutingOutcome(language, classification, decide(rule_set, facts))

    def classify(self, text: str, earlier_tickets: int) -> Classification:
        return classify(
            text,
            high_amount_usd=self.settings.high_amount_usd,
            critical_amount_usd=self.settings.critical_amount_usd,
            earlier_tickets=earlier_tickets,
        )


class RulesRouter(Router):
    """The `TicketRouter` of a running gateway: rules from the database, cached per process
    and re-read when another process (or `gateway rules load`) changed them."""

    def __init__(self, settings: RoutingSettings) -> None:
        super().__init__(settings)
        self._cache: _CachedRules | None = None

    async def rules(self, session: AsyncSession) -> tuple[RuleSet, dict[str, int]]:
        """The current rule set and queue ids; one primary-key read when unchanged."""
        version = await repo.rules_version(session)
        if self._cache is None or self._cache.version != version:
            rule_set, ids = await repo.load_rule_set(session)
            self._cache = _CachedRules(version, rule_set, ids)
            log.info("routing.rules_cached", version=version, rules=len(rule_set.rules))
        return self._cache.rule_set, self._cache.queue_ids

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
    ) -> None:
        """Set language, severity, category, stated fields and reasons; queue a new ticket,
        move an unassigned one whose routing changed. Severity only ever rises. Flushes."""
        assert ticket.id is not None and message.id is not None and customer.id is not None
        rule_set, queue_ids = await self.rules(session)
        # A customer this message created has no earlier messages or tickets to read.
        history = (
            None
            if new_customer
            else await repo.last_inbound_language(session, customer.id, message.id)
        )
        hints = LanguageHints(
            channel=inbound.language_hint, history=history, agent=customer.language
        )
        language = self.detector.detect(message.text, hints)
        earlier = (
            0 if new_customer else await repo.earlier_ticket_count(session, customer.id, ticket.id)
        )
        found = self.classify(message.text, earlier)
        message.language = language.code if language.known else None

        old = (ticket.language, ticket.severity, ticket.category)
        if customer.language:
            ticket.language = customer.language
        elif language.known and (new_ticket or ticket.language is None):
            ticket.language = language.code
        ticket.severity = (
            found.severity if new_ticket else raise_to(Severity(ticket.severity), found.severity)
        )
        if new_ticket or (ticket.category == Category.other and found.category != Category.other):
            ticket.category = found.category
        ticket.order_ref = ticket.order_ref or found.order_ref
        if ticket.amount is None and found.amount is not None:
            ticket.amount, ticket.currency = found.amount, found.currency
        changed = old != (ticket.language, ticket.severity, ticket.category)

        flags = frozenset(k for k, v in customer.flags.items() if v)
        if earlier:
            flags |= {"repeat_dispute"}
        tags = (
            language.tags
            if ticket.language == language.code
            else tags_for(ticket.language) if ticket.language else frozenset({UNKNOWN})
        )  # fmt: skip
        facts = RoutingFacts(tags, ticket.severity, ticket.category, ticket.channel, flags)
        decision = decide(rule_set, facts)
        reasons = [*language.reasons, *found.reasons, decision.reason]

        if new_ticket:
            ticket.queue_id = await self._queue_id(session, decision.queue, queue_ids)
            ticket.routing_reasons = reasons[-MAX_REASONS:]
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
            )
            return
        if not changed:
            return
        note = [f"message {message.id}: {reason}" for reason in reasons]
        movable = ticket.assignee_id is None and ticket.status != TicketStatus.escalated
        queue_id = await self._queue_id(session, decision.queue, queue_ids)
        moved = movable and queue_id != ticket.queue_id
        if moved:
            audit.record(
                session,
                "ticket.rerouted",
                ticket_id=ticket.id,
                from_queue=ticket.queue_id,
                to_queue=queue_id,
                rule=decision.rule,
                severity=ticket.severity,
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

    async def _queue_id(self, session: AsyncSession, name: str, ids: dict[str, int]) -> int:
        if name in ids:
            return ids[name]
        queue = await tickets_repo.ensure_queue(session, name)
        assert queue.id is not None
        return queue.id


async def load_rules(session: AsyncSession, rule_set: RuleSet) -> int:
    """Store a validated rule set for every process; returns the new version. Flushes."""
    version = await repo.replace_rule_set(session, rule_set)
    log.info("routing.rules_loaded", version=version, rules=len(rule_set.rules))
    return version
