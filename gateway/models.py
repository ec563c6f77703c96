"""Every table, imported in one place so Alembic and the app see the whole schema."""

from sqlmodel import SQLModel

import gateway.audit_chain  # noqa: F401  chains audit events at every flush
from gateway.agents.models import Agent
from gateway.audit import AuditEvent
from gateway.canned.models import CannedReply
from gateway.cases.models import (
    CaseDecision,
    CaseNote,
    CaseTicket,
    DisputeCase,
    Evidence,
    EvidenceRequest,
)
from gateway.console.models import ConsoleLink, ConsoleSession
from gateway.csat.models import CsatSurvey
from gateway.integrations.models import ServiceToken
from gateway.orders.models import OrderFact
from gateway.outbox.models import DeliveryAttempt, Outbox
from gateway.queues.models import Queue, QueueMembership
from gateway.reports.models import CaseLoss, ExchangeRate
from gateway.risk.models import RiskAccount, RiskIdentityLink, RiskReport
from gateway.routing.models import RoutingCorrection, RoutingRule
from gateway.sla.models import AgentShift, SlaEvent, TicketWatcher
from gateway.system.models import SystemState
from gateway.tickets.models import (
    Attachment,
    ChannelIdentity,
    Customer,
    DeadLetter,
    Message,
    Ticket,
)
from gateway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "AgentShift",
    "Attachment",
    "AuditEvent",
    "CannedReply",
    "CaseDecision",
    "CaseLoss",
    "CaseNote",
    "CaseTicket",
    "ChannelIdentity",
    "ConsoleLink",
    "ConsoleSession",
    "CsatSurvey",
    "Customer",
    "DeadLetter",
    "DeliveryAttempt",
    "DisputeCase",
    "Evidence",
    "EvidenceRequest",
    "ExchangeRate",
    "Message",
    "OrderFact",
    "Outbox",
    "Queue",
    "QueueMembership",
    "RiskAccount",
    "RiskIdentityLink",
    "RiskReport",
    "RoutingCorrection",
    "RoutingRule",
    "ServiceToken",
    "SlaEvent",
    "SystemState",
    "Ticket",
    "TicketWatcher",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
