"""Terminal tables for the listing commands (`agents list`, `email dead-letters`)."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.agents.models import Agent
from gateway.tickets.models import DeadLetter


def agent_lines(agents: Sequence[tuple[Agent, list[str]]]) -> list[str]:
    if not agents:
        return ["no agents yet: `gateway agents create --name NAME` makes one"]
    lines = [f"{'name':<24} {'role':<10} {'active':<6} {'cap':>4}  {'languages':<12} queues"]
    for agent, queues in agents:
        lines.append(
            f"{agent.name:<24} {agent.role:<10} {'yes' if agent.active else 'no':<6} "
            f"{agent.capacity:>4}  {','.join(agent.languages) or '-':<12} "
            f"{','.join(queues) or '-'}"
        )
    return lines


def dead_letter_lines(letters: Sequence[DeadLetter], counts: dict[str, int]) -> list[str]:
    """One line per set-aside input, then the totals by reason."""
    if not counts:
        return ["nothing has been set aside"]
    lines = [f"{'id':>6}  {'set aside (UTC)':<19}  {'reason':<12}  {'state':<14}  sender: error"]
    for letter in letters:
        state = (
            f"message {letter.resolved_message_id}"
            if letter.resolved_message_id is not None
            else "set aside"
        )
        error = " ".join((letter.error or "").split())[:80]
        lines.append(
            f"{letter.id:>6}  {letter.created_at:%Y-%m-%d %H:%M:%S}  {letter.reason:<12}  "
            f"{state:<14}  {letter.sender or '-'}: {error or '-'}"
        )
    if not letters:
        lines.append("(none matches)")
    totals = ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))
    lines.append(f"in all: {totals}")
    return lines
