"""Prometheus metrics of the email channel (default registry, served at /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

received = Counter(
    "parley_email_received_total",
    "Inbound mails by outcome: message, or the set-aside reason",
    ["outcome"],
)
smtp_replies = Counter(
    "parley_email_smtp_replies_total", "Answers of the SMTP listener to DATA", ["code"]
)
imap_fetched = Counter("parley_email_imap_fetched_total", "Mails fetched by the IMAP poller")
sent = Counter("parley_email_sent_total", "Replies handed to the relay, by result", ["result"])
