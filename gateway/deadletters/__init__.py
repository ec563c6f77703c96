"""Inbound input set aside instead of stored (auto-replies, bounces, unparseable mail,
updates that could not be stored), listed for operators. The table lives with tickets
(`gateway.tickets.models.DeadLetter`); channels write it, this reads it."""
