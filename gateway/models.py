"""Every table, imported in one place so Alembic and the app see the whole schema."""

from sqlmodel import SQLModel

from gateway.agents.models import Agent
from gateway.csat.models import CsatSurvey
from gateway.outbox.models import DeliveryAttempt, Outbox
from gateway.queues.models import Queue, QueueMembership
from gateway.routing.models import RoutingRule
from gateway.system.models import SystemState
from gateway.tickets.models import (
    Attachment,
    AuditEvent,
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
    "Attachment",
    "AuditEvent",
    "ChannelIdentity",
    "CsatSurvey",
    "Customer",
    "DeadLetter",
    "DeliveryAttempt",
    "Message",
    "Outbox",
    "Queue",
    "QueueMembership",
    "RoutingRule",
    "SystemState",
    "Ticket",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
