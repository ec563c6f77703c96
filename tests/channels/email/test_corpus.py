"""Every mail of the shared corpus through the real SMTP listener: each ends as a ticket
message or a dead letter with a reason, with no 5xx and no crash. Skips when the corpus
folder is absent. Runs on both backends (~390 mails each)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.runtime import Runtime
from gateway.tickets.models import DeadLetter, Message, parse_ticket_ref
from tests.channels.email.conftest import smtp_send

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "email"
CORPUS = CORPUS if CORPUS.is_dir() else Path("/work/shared/corpus/email")
REASONS = {"auto_reply", "bounce", "bulk", "invalid", "unparseable"}
NOT_MAIL = {"COPYING", "LICENSE", "README", "README.md", "SOURCES"}


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in NOT_MAIL)


@pytest.mark.slow
async def test_every_corpus_mail_ends_as_a_message_or_a_reasoned_dead_letter(
    smtp_port: int, email_runtime: Runtime
) -> None:
    files = corpus_files() if CORPUS.is_dir() else []
    if not files:
        pytest.skip(f"no corpus at {CORPUS}")
    answers: dict[Path, tuple[int, str]] = {}
    for path in files:
        answers[path] = await smtp_send(smtp_port, path.read_bytes(), "corpus@sender.example")
    refused = {p.name: a for p, a in answers.items() if a[0] != 250}
    assert refused == {}

    outcomes: dict[str, int] = {}
    async with email_runtime.sessionmaker() as session:
        for path, (_, text) in answers.items():
            if text.startswith("2.0.0 Stored in ticket "):
                ref = text.rsplit(" ", 1)[-1]
                ticket_id = parse_ticket_ref(ref)
                assert ticket_id is not None
                count = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(Message)
                    .where(Message.ticket_id == ticket_id, Message.raw_blob_key.is_not(None))
                )
                assert count, f"{path}: answered {text} but the ticket has no mail"
                outcomes["message"] = outcomes.get("message", 0) + 1
            else:
                reason = text.removeprefix("2.0.0 Accepted (").rstrip(")")
                assert reason in REASONS, f"{path}: {text}"
                letters = await session.scalar(
                    sa.select(sa.func.count())
                    .select_from(DeadLetter)
                    .where(DeadLetter.reason == reason, DeadLetter.raw_blob_key.is_not(None))
                )
                assert letters, f"{path}: set aside as {reason} but no dead letter"
                outcomes[reason] = outcomes.get(reason, 0) + 1
    print(f"corpus: {len(files)} mails -> {outcomes}")
