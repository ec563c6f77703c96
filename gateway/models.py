"""Every table, imported in one place so Alembic and the app see the whole schema."""

from sqlmodel import SQLModel

from gateway.agents.models import Agent
from gateway.audit import AuditEvent
from gateway.canned.models import CannedReply
from gateway.console.models import ConsoleLink, ConsoleSession
from gateway.outbox.models import DeliveryAttempt, Outbox
from gateway.queues.models import Queue, QueueMembership
from gateway.routing.models import RoutingRule
from gateway.system.models import SystemState
from gateway.tickets.models import (
    Attachment,
    ChannelIdentity,
    Customer,
    DeadLetter,
    Message,
    Ticket,
)

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "Attachment",
    "AuditEvent",
    "CannedReply",
    "ChannelIdentity",
    "ConsoleLink",
    "ConsoleSession",
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
    "metadata",
]
