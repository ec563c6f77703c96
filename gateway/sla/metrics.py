"""Prometheus figures of the SLA domain (served at GET /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

sla_events = Counter(
    "parley_sla_events_total", "SLA metric events recorded, by target and kind", ["target", "kind"]
)
escalations = Counter(
    "parley_sla_escalations_total",
    "Escalations, by level reached and trigger",
    ["level", "trigger"],
)
notifications = Counter(
    "parley_sla_notifications_total",
    "Escalation and warning notices queued, by channel",
    ["channel"],
)
open_by_state = Gauge(
    "parley_sla_open_tickets", "Open tickets by queue and SLA state", ["queue", "state"]
)
breaches_24h = Gauge(
    "parley_sla_breaches_last_24h", "SLA breaches in the last 24 hours, by queue", ["queue"]
)
next_breach_seconds = Gauge(
    "parley_sla_next_breach_seconds",
    "Seconds until the queue's next SLA breach (negative: overdue)",
    ["queue"],
)
