"""SLA clocks per severity: when the first answer and the resolution are due."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway.tickets.models import Severity, Ticket

FIRST_RESPONSE = {
    Severity.critical: timedelta(minutes=15),
    Severity.high: timedelta(hours=1),
    Severity.normal: timedelta(hours=4),
    Severity.low: timedelta(hours=24),
}
RESOLUTION = {
    Severity.critical: timedelta(hours=4),
    Severity.high: timedelta(hours=24),
    Severity.normal: timedelta(hours=72),
    Severity.low: timedelta(days=7),
}


def apply_sla(ticket: Ticket, since: datetime) -> None:
    """Set the due times from the ticket's severity, counted from `since`.

    A due time only moves earlier: a raised severity tightens the clock, a lowered one
    never buys the desk more time on a customer who is already waiting.
    """
    severity = Severity(ticket.severity)
    if ticket.first_responded_at is None:
        due = since + FIRST_RESPONSE[severity]
        if ticket.first_response_due is None or due < ticket.first_response_due:
            ticket.first_response_due = due
    due = since + RESOLUTION[severity]
    if ticket.resolution_due is None or due < ticket.resolution_due:
        ticket.resolution_due = due
