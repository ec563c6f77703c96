"""The export pack: one zip a bank, a card network or the police can check on their own.

Inside: `manifest.json` (case, order facts, parties, every other file with its sha256
and size, the audit chain heads), `transcript.html` and `transcript.pdf` (the merged
timeline), `evidence/<id>-<name>` (each stored file as received), `audit.json` (every
audit event of the case and its tickets, with `prev_hash` and `hash`).
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fpdf import FPDF
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from gateway import audit_chain
from gateway.audit import AuditEvent
from gateway.blobs import BlobStore
from gateway.cases.models import DisputeCase, Evidence
from gateway.cases.schemas import CasePublic, TimelineItem
from gateway.cases.view import public
from gateway.tickets.models import Attachment

PACK_FORMAT = "parley-case-export/1"


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)
    return cleaned.strip("._")[:100] or "file"


def _line(item: TimelineItem) -> tuple[str, str]:
    """(heading, body) of one timeline entry, as the transcripts print it."""
    who = {
        "message": f"{item.party} {item.direction} {item.author} via {item.channel}",
        "note": f"desk note by {item.author}",
        "evidence": f"evidence #{item.evidence_id} from the {item.party} via {item.channel}",
        "evidence_request": f"evidence requested from the {item.party}",
        "decision": f"decision by {item.author}",
        "appeal": f"appeal by the {item.party}",
    }[item.kind]
    ticket = f" [{item.ticket}]" if item.ticket else ""
    at = item.at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{at}{ticket} {who}", item.text or ""


def transcript_html(view: CasePublic) -> str:
    e = html.escape
    order = view.order
    facts = (
        f"<p>{e(order.side)} {e(str(order.crypto_amount))} {e(order.asset)} for "
        f"{e(str(order.fiat_amount))} {e(order.fiat_currency)} by {e(order.payment_method)}; "
        f"status {e(order.status)}; buyer {e(order.buyer_user_id)}, seller "
        f"{e(order.seller_user_id)}</p>"
        if order
        else "<p>No order facts from the exchange.</p>"
    )
    rows = []
    for item in view.timeline:
        head, body = _line(item)
        rows.append(
            f'<div class="item {e(item.kind)}"><div class="head">{e(head)}</div>'
            f"<pre>{e(body)}</pre></div>"
        )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>Case {e(view.ref)} (order {e(view.order_ref)})</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
        ".head{color:#555;font-size:.9em}pre{white-space:pre-wrap;font-family:inherit;"
        "margin:.2em 0 1em}.note{background:#fff8dc}.decision{background:#e8f4e8}</style>"
        f"</head><body><h1>Case {e(view.ref)}: order {e(view.order_ref)}</h1>{facts}"
        f"<p>Status: {e(view.status)}</p>{''.join(rows)}</body></html>"
    )


def transcript_pdf(view: CasePublic, font: Path) -> bytes:
    """The same transcript as a PDF (fpdf2; a Unicode font when there is one)."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Case {view.ref} (order {view.order_ref})")
    pdf.set_creator("Parley")
    unicode = font.exists()
    if unicode:
        pdf.add_font("body", fname=str(font))
        family = "body"
    else:
        family = "Helvetica"

    def text(value: str) -> str:
        # Tabs as spaces, other control characters out: a PDF has no glyph for them.
        value = "".join(ch for ch in value.replace("\t", "    ") if ch == "\n" or ch.isprintable())
        return value if unicode else value.encode("latin-1", "replace").decode("latin-1")

    pdf.add_page()
    pdf.set_font(family, size=14)
    pdf.multi_cell(
        0, 8, text(f"Case {view.ref}: order {view.order_ref}"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(family, size=9)
    if view.order:
        o = view.order
        pdf.multi_cell(
            0,
            5,
            text(
                f"{o.side} {o.crypto_amount} {o.asset} for {o.fiat_amount} {o.fiat_currency} "
                f"by {o.payment_method}; status {o.status}; buyer {o.buyer_user_id}, "
                f"seller {o.seller_user_id}"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(3)
    for item in view.timeline:
        head, body = _line(item)
        pdf.set_text_color(90, 90, 90)
        pdf.multi_cell(0, 5, text(head), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        if body:
            pdf.multi_cell(0, 5, text(body), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    return bytes(pdf.output())


async def _audit_events(
    session: AsyncSession, case: DisputeCase, ticket_ids: list[int]
) -> list[AuditEvent]:
    where = col(AuditEvent.case_id) == case.id
    if ticket_ids:
        where = sa.or_(where, col(AuditEvent.ticket_id).in_(ticket_ids))
    result = await session.execute(sa.select(AuditEvent).where(where).order_by(col(AuditEvent.id)))
    return list(result.scalars())


def _event_json(e: AuditEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "ticket_id": e.ticket_id,
        "case_id": e.case_id,
        "actor_type": e.actor_type,
        "actor_agent_id": e.actor_agent_id,
        "action": e.action,
        "data": e.data,
        "created_at": e.created_at.isoformat(),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


async def build_pack(
    session: AsyncSession,
    case: DisputeCase,
    *,
    blobs: BlobStore,
    font: Path,
    now: datetime,
    generated_by: str,
) -> bytes:
    view = await public(session, case, now)
    ticket_ids = sorted({int(t.ref.split("-")[1]) for side in view.parties for t in side.tickets})
    files: dict[str, bytes] = {}
    evidence_entries = []
    evidence_rows = {
        e.id: e
        for e in (
            await session.execute(sa.select(Evidence).where(col(Evidence.case_id) == case.id))
        ).scalars()
    }
    for item in view.evidence:
        row = evidence_rows[item.id]
        attachment = await session.get_one(Attachment, row.attachment_id)
        entry: dict[str, Any] = item.model_dump(mode="json")
        if attachment.blob_key is not None:
            data = await blobs.get(attachment.blob_key)
            path = f"evidence/{item.id}-{_safe_name(item.filename)}"
            files[path] = data
            entry["path"] = path
            entry["intact"] = hashlib.sha256(data).hexdigest() == item.sha256
        evidence_entries.append(entry)
    events = await _audit_events(session, case, ticket_ids)
    chains = sorted(
        {audit_chain.chain_of(e.ticket_id, e.case_id) for e in events},
        key=lambda k: (k[0], k[1] or 0),
    )
    files["audit.json"] = json.dumps(
        {
            "events": [_event_json(e) for e in events],
            "heads": await audit_chain.heads(session, list(chains)),
        },
        ensure_ascii=False,
        indent=1,
        default=str,
    ).encode()
    files["transcript.html"] = transcript_html(view).encode()
    files["transcript.pdf"] = await asyncio.to_thread(transcript_pdf, view, font)

    manifest = {
        "format": PACK_FORMAT,
        "generated_at": now.isoformat(),
        "generated_by": generated_by,
        "case": view.model_dump(
            mode="json", include={"id", "ref", "order_ref", "status", "opened_at", "decided_at"}
        ),
        "order": view.order.model_dump(mode="json") if view.order else None,
        "parties": [
            {"party": side.party, "user_id": side.user_id, "tickets": [t.ref for t in side.tickets]}
            for side in view.parties
        ],
        "decisions": [d.model_dump(mode="json") for d in view.decisions],
        "evidence": evidence_entries,
        "files": [
            {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for path, data in sorted(files.items())
        ],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        pack.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
        for path, data in sorted(files.items()):
            pack.writestr(path, data)
    return buffer.getvalue()
