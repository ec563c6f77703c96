"""Prometheus metrics of the Telegram channel (default registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

updates = Counter(
    "parley_telegram_updates_total",
    "Telegram updates received, by what became of them",
    ["outcome"],
)
sends = Counter("parley_telegram_sends_total", "Bot API send calls by result", ["result"])
send_wait_seconds = Histogram(
    "parley_telegram_send_wait_seconds",
    "Time a send waited for its rate-limit slot",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60),
)
slots_missed = Counter(
    "parley_telegram_send_slots_missed_total",
    "Rate-limit slots given up because the sender woke too late",
)
attachments = Counter(
    "parley_telegram_attachments_total", "Telegram files fetched, by final state", ["state"]
)
