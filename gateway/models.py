"""Every table, imported in one place so Alembic and the app see the whole schema."""

from sqlmodel import SQLModel

from gateway.agents.models import Agent
from gateway.outbox.models import DeliveryAttempt, Outbox
from gateway.queues.models import Queue, QueueMembership
from gateway.routing.models import RoutingRule
from gateway.sla.models import AgentShift, SlaEvent, TicketWatcher
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

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "AgentShift",
    "Attachment",
    "AuditEvent",
    "ChannelIdentity",
    "Customer",
    "DeadLetter",
    "DeliveryAttempt",
    "Message",
    "Outbox",
    "Queue",
    "QueueMembership",
    "RoutingRule",
    "SlaEvent",
    "SystemState",
    "Ticket",
    "TicketWatcher",
    "metadata",
]
