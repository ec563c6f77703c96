"""Prometheus metrics, served at GET /metrics. Each domain adds its own here."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

messages_ingested = Counter(
    "parley_messages_ingested_total", "Inbound messages stored", ["channel"]
)
duplicates = Counter(
    "parley_duplicate_messages_total", "Inbound messages seen again and not stored", ["channel"]
)
ingest_rejected = Counter(
    "parley_ingest_rejected_total", "Inbound messages refused as invalid", ["channel"]
)
ingest_seconds = Histogram(
    "parley_ingest_seconds",
    "Time to thread, route and flush one inbound message",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
claims = Counter("parley_claims_total", "Tickets claimed by agents", ["queue"])
claim_wait_seconds = Histogram(
    "parley_claim_wait_seconds",
    "How long a claim call waited for a ticket",
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60),
)
outbox_depth = Gauge("parley_outbox_pending", "Replies waiting for delivery", ["channel"])
deliveries = Counter(
    "parley_deliveries_total", "Delivery attempts by outcome", ["channel", "result"]
)
