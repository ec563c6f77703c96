"""The SLA in force before a rules file sets one: the desk's per-severity targets,
around the clock, level 2 on any breach."""

from __future__ import annotations

from gateway.sla.policy_file import parse

DEFAULT_DOCUMENT = {
    "sla": {
        "warn_at": 0.75,
        "pause_statuses": ["pending_customer"],
        "policy": [
            {"name": "critical", "severity": ["critical"], "first_response": "15m",
             "next_response": "15m", "resolution": "4h"},
            {"name": "high", "severity": ["high"], "first_response": "1h",
             "next_response": "1h", "resolution": "24h"},
            {"name": "normal", "severity": ["normal"], "first_response": "4h",
             "next_response": "4h", "resolution": "72h"},
            {"name": "low", "severity": ["low"], "first_response": "24h",
             "next_response": "24h", "resolution": "7d"},
        ],
    }
}  # fmt: skip
DEFAULT_CONFIG = parse(DEFAULT_DOCUMENT)
