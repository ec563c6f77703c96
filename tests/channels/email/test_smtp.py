"""Inbound over real SMTP: smtplib -> the gateway's aiosmtpd listener -> the database."""

from __future__ import annotations

import sqlalchemy as sa

from channels.email.service import EmailIntake
from gateway.blobs import BlobStore
from gateway.runtime import Runtime
from gateway.tickets.models import Attachment, DeadLetter, Message, Ticket
from tests.channels.email.conftest import DATA, mail, smtp_send, start_listener


async def _message(runtime: Runtime, external_id: str) -> Message | None:
    async with runtime.sessionmaker() as session:
        return (
            await session.execute(sa.select(Message).where(Message.external_id == external_id))
        ).scalar_one_or_none()


async def _letters(runtime: Runtime, external_id: str) -> list[DeadLetter]:
    async with runtime.sessionmaker() as session:
        result = await session.execute(
            sa.select(DeadLetter).where(DeadLetter.external_id == external_id)
        )
        return list(result.scalars())


async def test_mail_opens_a_ticket_only_after_it_is_stored(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    msg = mail(
        f"Ana <ana-{unique}@customer.example>",
        "USDT not released, order 7781",
        "I paid 500 EUR an hour ago and the seller does not release.",
        message_id=f"<m1-{unique}@customer.example>",
    )
    msg.add_attachment(b"%PDF-1.7 bank", maintype="application", subtype="pdf", filename="s.pdf")
    code, text = await smtp_send(smtp_port, msg, f"ana-{unique}@customer.example")
    assert code == 250
    stored = await _message(email_runtime, f"m1-{unique}@customer.example")
    assert stored is not None
    assert stored.text == "I paid 500 EUR an hour ago and the seller does not release."
    assert stored.raw_blob_key and email_runtime.blobs.exists(stored.raw_blob_key)
    async with email_runtime.sessionmaker() as session:
        ticket = await session.get_one(Ticket, stored.ticket_id)
        attachments = list(
            (
                await session.execute(
                    sa.select(Attachment).where(Attachment.message_id == stored.id)
                )
            ).scalars()
        )
    assert ticket.ref in text
    assert ticket.subject == "USDT not released, order 7781"
    assert [(a.filename, a.size, a.content_type) for a in attachments] == [
        ("s.pdf", 13, "application/pdf")
    ]
    assert attachments[0].sha256 and email_runtime.blobs.exists(attachments[0].sha256)

    # The sending server retries (our 250 was lost): stored once, same ticket.
    code, again = await smtp_send(smtp_port, msg, f"ana-{unique}@customer.example")
    assert code == 250 and ticket.ref in again
    async with email_runtime.sessionmaker() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.external_id == f"m1-{unique}@customer.example")
        )
    assert count == 1


async def test_subject_token_joins_only_for_the_tickets_own_customer(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    owner = f"owner-{unique}@customer.example"
    code, text = await smtp_send(smtp_port, mail(owner, "first", "hello", message_id=None), owner)
    ref = text.rsplit(" ", 1)[-1]
    assert code == 250 and ref.startswith("D-")

    code, own = await smtp_send(smtp_port, mail(owner, f"Re: first [{ref}]", "more details"), owner)
    assert own.endswith(ref)
    stranger = f"stranger-{unique}@evil.example"
    code, other = await smtp_send(
        smtp_port, mail(stranger, f"Re: first [{ref}]", "let me in"), stranger
    )
    assert code == 250 and not other.endswith(ref)
    # The plus-address token is honoured the same way.
    code, plus = await smtp_send(
        smtp_port, mail(stranger, "hi", "again"), stranger, [f"support+{ref}@desk.test"]
    )
    assert not plus.endswith(ref)
    code, plus = await smtp_send(
        smtp_port, mail(owner, "no token", "via plus"), owner, [f"support+{ref}@desk.test"]
    )
    assert plus.endswith(ref)


async def test_auto_reply_and_bounce_are_set_aside_without_a_ticket(
    smtp_port: int, email_runtime: Runtime
) -> None:
    for sample, reason, external_id in [
        ("out-of-office.eml", "auto_reply", "oof-1@customer.example"),
        ("office365.eml", "bounce", None),
    ]:
        raw = (DATA / sample).read_bytes()
        code, text = await smtp_send(smtp_port, raw, "someone@customer.example")
        assert code == 250 and reason in text, text
        if external_id:
            assert await _message(email_runtime, external_id) is None
            letters = await _letters(email_runtime, external_id)
            assert [(d.reason, bool(d.raw_blob_key)) for d in letters] == [(reason, True)]


async def test_mail_nobody_can_answer_is_set_aside_as_invalid(
    smtp_port: int, email_runtime: Runtime, unique: str
) -> None:
    raw = f"Subject: \r\nMessage-ID: <empty-{unique}@x.example>\r\n\r\n\r\n".encode()
    code, text = await smtp_send(smtp_port, raw, f"z-{unique}@customer.example")
    assert code == 250 and "invalid" in text
    [letter] = await _letters(email_runtime, f"empty-{unique}@x.example")
    assert letter.reason == "invalid" and "neither text nor attachments" in (letter.error or "")


async def test_over_the_size_limit_is_552(intake: EmailIntake, unique: str) -> None:
    listener, stop, task = await start_listener(intake, max_message_bytes=2000)
    try:
        assert listener.bound_port is not None
        code, _ = await smtp_send(
            listener.bound_port, mail("big@customer.example", "big", "x" * 5000), "b@c.example"
        )
        assert code == 552
    finally:
        stop.set()
        await task


async def test_storage_failure_is_451_and_nothing_is_half_stored(
    email_runtime: Runtime, tmp_root: object, unique: str
) -> None:
    # A blob "directory" that is a file: every write fails like a full or broken disk.
    broken_root = email_runtime.settings.blob.dir.parent / f"not-a-dir-{unique}"
    broken_root.write_text("x")
    broken = Runtime(
        settings=email_runtime.settings,
        engine=email_runtime.engine,
        sessionmaker=email_runtime.sessionmaker,
        blobs=BlobStore(broken_root),
        notifier=email_runtime.notifier,
    )
    listener, stop, task = await start_listener(EmailIntake(broken))
    try:
        assert listener.bound_port is not None
        msg = mail("late@customer.example", "x", "y", message_id=f"<s-{unique}@c.example>")
        code, _ = await smtp_send(listener.bound_port, msg, "late@customer.example")
        assert code == 451
        assert await _message(email_runtime, f"s-{unique}@c.example") is None
    finally:
        stop.set()
        await task


async def test_parser_bug_is_set_aside_and_an_operator_can_run_it_again(
    email_runtime: Runtime, unique: str
) -> None:
    def broken_parser(raw: bytes, **_: object) -> None:
        raise RuntimeError("parser bug")

    msg = mail(f"p-{unique}@customer.example", "help", "please", message_id=f"<p-{unique}@c>")
    outcome = await EmailIntake(email_runtime, parser=broken_parser).receive(msg.as_bytes())
    assert outcome.reason == "unparseable" and outcome.dead_letter_id is not None
    async with email_runtime.sessionmaker() as session:
        letter = await session.get_one(DeadLetter, outcome.dead_letter_id)
    assert "parser bug" in (letter.error or "")

    fixed = await EmailIntake(email_runtime).retry_dead_letter(outcome.dead_letter_id)
    assert fixed.message_id is not None
    stored = await _message(email_runtime, f"p-{unique}@c")
    assert stored is not None and stored.text == "please"
    async with email_runtime.sessionmaker() as session:
        letter = await session.get_one(DeadLetter, outcome.dead_letter_id)
    assert letter.resolved_message_id == stored.id and letter.retried_at is not None


async def test_operator_can_accept_a_mail_wrongly_taken_for_an_auto_reply(
    intake: EmailIntake, email_runtime: Runtime, unique: str
) -> None:
    msg = mail(
        f"q-{unique}@customer.example",
        "Automatic reply: not really",
        "I am a person",
        message_id=f"<q-{unique}@c>",
    )
    outcome = await intake.receive(msg.as_bytes(), envelope_from=f"q-{unique}@customer.example")
    assert outcome.reason == "auto_reply" and outcome.dead_letter_id is not None
    again = await intake.retry_dead_letter(outcome.dead_letter_id)
    assert again.reason == "auto_reply"
    accepted = await intake.retry_dead_letter(outcome.dead_letter_id, accept_loops=True)
    assert accepted.ticket_ref is not None
