"""The pure parts: MIME parsing, loop detection, quote splitting, ids, reply building."""

from __future__ import annotations

from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

import pytest

from channels.email.ids import header_id, lookup_forms, message_id_for, normalise_message_id
from channels.email.outbound import build_reply, reply_subject
from channels.email.parse import decode_text, normalise, parse_mail
from channels.email.quotes import split_reply
from gateway.ports import Channel, DeliveryError, OutboundMessage
from gateway.settings import MailSettings
from tests.channels.email.conftest import DATA

OURS = frozenset({"desk.test"})


def raw_mail(headers: str, body: bytes) -> bytes:
    return headers.replace("\n", "\r\n").encode() + b"\r\n" + body


@pytest.mark.parametrize(
    ("charset", "payload", "expected"),
    [
        ("utf-8", "Überweisung €100".encode(), "Überweisung €100"),
        ("x-no-such-charset", "Платёж не пришёл".encode(), "Платёж не пришёл"),
        ("iso-8859-1", "Überweisung".encode(), "Überweisung"),  # UTF-8 labelled latin-1
        ("us-ascii", "café".encode("cp1252"), "café"),  # cp1252 labelled ascii
        ("utf-8", b"caf\xe9 \x80", "café €"),  # declared utf-8, bytes are cp1252
        ("koi8-r", "Привет".encode("koi8-r"), "Привет"),
        (None, b"\x81\x8d\x8f\x90\x9d", "\x81\x8d\x8f\x90\x9d"),  # latin-1: never fails
    ],
)
def test_text_decodes_with_a_fallback_whatever_the_charset_says(
    charset: str | None, payload: bytes, expected: str
) -> None:
    assert decode_text(payload, charset) == expected


def test_unknown_charset_in_a_whole_mail_still_gives_text() -> None:
    raw = raw_mail(
        "From: a@customer.example\nSubject: hi\nMessage-ID: <c1@customer.example>\n"
        "Content-Type: text/plain; charset=x-bogus\nContent-Transfer-Encoding: 8bit\n",
        "Мой платёж 5000 RUB".encode(),
    )
    inbound = normalise(raw)
    assert inbound is not None
    assert inbound.text == "Мой платёж 5000 RUB"
    assert inbound.external_id == "c1@customer.example"
    assert inbound.sender == "a@customer.example"


def test_html_only_mail_becomes_text_and_sanitised_html() -> None:
    html = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>Seller did <b>not</b> release USDT.</p><table><tr><td>Order</td><td>77</td></tr>"
        "</table><img src=x onerror=alert(2)><a href='javascript:evil()'>x</a></body></html>"
    )
    raw = raw_mail(
        "From: b@customer.example\nSubject: order 77\nMessage-ID: <h1@customer.example>\n"
        "Content-Type: text/html; charset=utf-8\n",
        html.encode(),
    )
    inbound = normalise(raw)
    assert inbound is not None
    assert "Seller did not release USDT." in inbound.text
    assert "Order" in inbound.text and "77" in inbound.text
    assert "<" not in inbound.text and "alert" not in inbound.text
    assert inbound.html is not None
    assert "<b>not</b>" in inbound.html
    for bad in ("<script", "onerror", "javascript:", "alert"):
        assert bad not in inbound.html


def test_alternative_mail_uses_the_plain_part_for_text_and_keeps_html() -> None:
    msg = EmailMessage()
    msg["From"] = "c@customer.example"
    msg["Subject"] = "hello"
    msg.set_content("Plain version\n")
    msg.add_alternative("<p>HTML version</p>", subtype="html")
    inbound = normalise(msg.as_bytes())
    assert inbound is not None
    assert inbound.text == "Plain version"
    assert inbound.html is not None and inbound.html.strip() == "<p>HTML version</p>"


@pytest.mark.parametrize(
    ("body", "new"),
    [
        (
            "Still no money.\n\nOn Mon, 3 Jun 2024 at 10:00, Parley <support@desk.test> wrote:\n"
            "> Please send a screenshot.\n> Thanks",
            "Still no money.",
        ),
        (
            "Here it is\n\nOn Mon, 3 Jun 2024 at 10:00, Parley Support <\nsupport@desk.test>"
            " wrote:\n\n> Please send a screenshot.",
            "Here it is",
        ),
        (
            "Attached.\n\n-----Original Message-----\nFrom: Support\nSent: Monday\n"
            "Subject: D-1\n\nPlease send it",
            "Attached.",
        ),
        (
            "Done\n\n________________________________\nFrom: Support <support@desk.test>\n"
            "Sent: Monday, June 3, 2024 10:00\nTo: me\nSubject: Re: [D-1]\n\nold text",
            "Done",
        ),
        (
            "Ja, bezahlt.\n\nAm 03.06.2024 um 10:00 schrieb Parley <support@desk.test>:\n> alt",
            "Ja, bezahlt.",
        ),
        ("Оплатил\n\nПн, 3 июн. 2024 г. в 10:00, Parley <s@d.t>:\n> старое", None),  # noqa: RUF001
        ("I paid.\n\n-- \nJohn Smith\nACME Ltd", "I paid."),
        ("I paid.\n\nSent from my iPhone", "I paid."),
        ("> only a quote\n> nothing new", "> only a quote\n> nothing new"),
        ("Line one\n> inline quote\nmy answer to it", "Line one\n> inline quote\nmy answer to it"),
        (
            "See below\n\n---------- Forwarded message ---------\nFrom: Bank\n"
            "Date: Mon\nSubject: Transfer\nTo: me\n\nTransfer of 100 EUR done",
            None,
        ),
    ],
)
def test_quoted_history_and_signature_are_split_from_the_new_text(
    body: str, new: str | None
) -> None:
    split = split_reply(body)
    if new is None:
        # A forward is evidence: nothing is cut; an unknown header style is left alone.
        assert split.new.startswith(body.split("\n")[0])
        if "Forwarded" in body:
            assert "Transfer of 100 EUR done" in split.new
    else:
        assert split.new == new


def test_quoted_history_is_kept_aside_not_lost() -> None:
    msg = EmailMessage()
    msg["From"] = "d@customer.example"
    msg["Subject"] = "Re: [D-5] dispute"
    msg.set_content("New info here.\n\nOn Tue, Parley wrote:\n> old question\n")
    inbound = normalise(msg.as_bytes())
    assert inbound is not None
    assert inbound.text == "New info here."
    assert inbound.metadata["quoted"].endswith("> old question")


def test_attachments_and_inline_images_keep_bytes_type_and_size() -> None:
    msg = EmailMessage()
    msg["From"] = "e@customer.example"
    msg["Subject"] = "statement"
    msg.set_content("Statement attached")
    msg.add_alternative('<p>Statement <img src="cid:logo@x"></p>', subtype="html")
    msg.get_payload()[1].add_related(
        b"\x89PNG\r\n\x1a\nfake", maintype="image", subtype="png", cid="<logo@x>"
    )
    msg.add_attachment(
        b"%PDF-1.4 statement", maintype="application", subtype="pdf", filename="bank.pdf"
    )
    inbound = normalise(msg.as_bytes())
    assert inbound is not None
    by_type = {a.content_type: a for a in inbound.attachments}
    pdf, png = by_type["application/pdf"], by_type["image/png"]
    assert (pdf.filename, pdf.data, pdf.size, pdf.inline) == (
        "bank.pdf",
        b"%PDF-1.4 statement",
        18,
        False,
    )
    assert png.inline and png.data == b"\x89PNG\r\n\x1a\nfake"
    assert inbound.text == "Statement attached"


def test_forwarded_message_is_kept_as_an_eml_attachment() -> None:
    inbound = normalise((DATA / "enclosed.eml").read_bytes())
    assert inbound is not None
    forwarded = [a for a in inbound.attachments if a.content_type == "message/rfc822"]
    assert len(forwarded) == 1
    assert forwarded[0].filename.endswith(".eml")
    inner = BytesParser(policy=default_policy).parsebytes(forwarded[0].data or b"")
    assert inner["Subject"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto_reply"),
        ({"Auto-Submitted": "auto-generated"}, "auto_reply"),
        ({"X-Autoreply": "yes"}, "auto_reply"),
        ({"X-Autorespond": "yes"}, "auto_reply"),
        ({"Precedence": "bulk"}, "bulk"),
        ({"Precedence": "junk"}, "bulk"),
        ({"Precedence": "list"}, "bulk"),
        ({"Return-Path": "<>"}, "bounce"),
        ({"From": "MAILER-DAEMON@mx.example"}, "bounce"),
        ({"Auto-Submitted": "no"}, None),
    ],
)
def test_machine_mail_is_set_aside_with_its_reason(
    headers: dict[str, str], reason: str | None
) -> None:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "f@customer.example")
    msg["Subject"] = "Re: your ticket"
    for name, value in headers.items():
        msg[name] = value
    msg.set_content("text")
    parsed = parse_mail(msg.as_bytes(), our_domains=OURS)
    assert (parsed.set_aside.reason if parsed.set_aside else None) == reason
    assert (parsed.inbound is None) == (reason is not None)


@pytest.mark.parametrize(
    ("sample", "reason", "failed", "original"),
    [
        ("office365.eml", "bounce", True, "20171013111011.20866.254C2F3A4D7AA526@ninomail.com"),
        ("no-mx.eml", "bounce", False, None),  # "Action: delayed" is not a failure yet
        ("msg_43.txt", "bounce", True, "edab.7804f5cb8070@python.org"),
        ("disposition-notification.eml", "auto_reply", False, None),
        ("out-of-office.eml", "auto_reply", False, None),
    ],
)
def test_corpus_bounces_and_auto_replies(
    sample: str, reason: str, failed: bool, original: str | None
) -> None:
    parsed = parse_mail((DATA / sample).read_bytes(), our_domains=OURS)
    assert parsed.inbound is None
    assert parsed.set_aside is not None and parsed.set_aside.reason == reason
    assert parsed.bounce_failed is failed
    if original:
        assert original in parsed.bounced_ids


def test_empty_envelope_sender_is_a_bounce() -> None:
    msg = EmailMessage()
    msg["From"] = "g@customer.example"
    msg.set_content("x")
    parsed = parse_mail(msg.as_bytes(), envelope_from="")
    assert parsed.set_aside is not None and parsed.set_aside.reason == "bounce"


def test_threading_hints_plus_address_subject_token_and_references() -> None:
    msg = EmailMessage()
    msg["From"] = "Hanna <Hanna@Customer.Example>"
    msg["To"] = "Parley <support+d-1042@desk.test>"
    msg["Subject"] = "Re: payment [D-7]"
    msg["Message-ID"] = " <abc@customer.example> "
    msg["In-Reply-To"] = "<k1@desk.test>"
    msg["References"] = "<first@customer.example>  <k1@desk.test>"
    msg.set_content("answer")
    inbound = normalise(msg.as_bytes(), our_domains=OURS)
    assert inbound is not None
    assert inbound.channel == Channel.email
    assert inbound.sender == "hanna@customer.example"
    assert inbound.sender_name == "Hanna"
    assert inbound.external_id == "abc@customer.example"
    assert inbound.reply_to_ids == ("k1@desk.test", "first@customer.example")
    assert inbound.ticket_ref == "D-1042"  # the plus-address wins over the subject
    assert inbound.thread_key is None
    msg.replace_header("To", "support@desk.test")
    inbound = normalise(msg.as_bytes(), our_domains=OURS)
    assert inbound is not None and inbound.ticket_ref == "D-7"


def test_mail_without_message_id_gets_a_stable_synthetic_id() -> None:
    raw = b"From: h@customer.example\r\nSubject: x\r\n\r\nhello\r\n"
    first, second = normalise(raw), normalise(raw)
    assert first is not None and second is not None
    assert first.external_id == second.external_id
    assert first.external_id.startswith("sha256:")


def test_message_id_forms() -> None:
    assert normalise_message_id(" <a@b>  ") == "a@b"
    assert message_id_for("k1", "desk.test") == "<k1@desk.test>"
    assert lookup_forms("k1@desk.test", OURS) == ["k1@desk.test", "k1"]
    assert lookup_forms("k1@other.test", OURS) == ["k1@other.test"]
    assert header_id("k1", "desk.test") == "<k1@desk.test>"
    assert header_id("x@customer.example", "desk.test") == "<x@customer.example>"
    assert header_id("sha256:00", "desk.test") is None


def outbound(**over: object) -> OutboundMessage:
    values: dict[str, object] = {
        "outbox_id": 1,
        "message_id": 1,
        "ticket_ref": "D-9",
        "channel": Channel.email,
        "recipient": "cust@customer.example",
        "text": "We are checking.",
        "idempotency_key": "key9",
        "subject": "Re: Re: payment [D-9]",
        "thread_ids": ("first@customer.example", "key8", "second@customer.example"),
    }
    return OutboundMessage(**(values | over))  # type: ignore[arg-type]


def test_reply_headers_continue_the_thread() -> None:
    msg = build_reply(outbound(), MailSettings(**{"from": "Desk <support@desk.test>"}))
    assert msg["Message-ID"] == "<key9@desk.test>"
    assert msg["In-Reply-To"] == "<second@customer.example>"
    assert msg["References"] == (
        "<first@customer.example> <key8@desk.test> <second@customer.example>"
    )
    assert msg["Subject"] == "Re: payment [D-9]"
    assert msg["Reply-To"] == "Desk <support+D-9@desk.test>"
    assert msg["From"] == "Desk <support@desk.test>"
    types = [p.get_content_type() for p in msg.walk()]
    assert types == ["multipart/alternative", "text/plain", "text/html"]
    assert reply_subject(None, "D-1") == "Re: [D-1]"


def test_cr_lf_in_any_field_cannot_inject_a_header() -> None:
    msg = build_reply(
        outbound(
            subject="hi\r\nBcc: victim@evil.example",
            recipient_name="Eve\r\nBcc: victim@evil.example",
        ),
        MailSettings(),
    )
    wire = msg.as_bytes()
    assert b"\r\nBcc:" not in wire and b"\nBcc:" not in wire
    with pytest.raises(DeliveryError) as caught:
        build_reply(outbound(recipient="a@b.example\r\nBcc: victim@evil.example"), MailSettings())
    assert caught.value.retryable is False
