"""SLA clocks, business calendars, the SLA worker and the escalation matrix."""
