"""Console pages and forms over HTTP: queues, filters, claims, a ticket's actions, access."""

from __future__ import annotations

import re

from fastapi import FastAPI

from gateway.agents.models import Role
from gateway.ports import Channel
from gateway.runtime import Runtime
from gateway.tickets.models import Severity
from tests.desk import client, make_agent, new_ticket
from tests.gateway.console.helpers import browser, sign_in


def refs(html: str) -> list[str]:
    return re.findall(r"data-open>(D-\d+)<", html)


async def test_queues_list_counts_and_a_filtered_ticket_list(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue])
    low = await new_ticket(runtime, queue, severity=Severity.low)
    critical = await new_ticket(runtime, queue, severity=Severity.critical)
    mail = await new_ticket(runtime, queue, channel=Channel.email, sender=f"{unique}@ex.test")
    async with browser(app) as http:
        await sign_in(http, token)
        overview = await http.get("/console/queues")
        row = re.search(rf"{queue}</a>.*?<td>(\d+)</td><td>(\d+)</td>", overview.text, re.S)
        assert row and row.groups() == ("3", "3")
        page = await http.get(f"/console/queues/{queue}", params={"order": "severity"})
        assert refs(page.text)[0] == critical.ticket_ref
        assert refs(page.text)[-1] == low.ticket_ref
        only_mail = await http.get(f"/console/queues/{queue}", params={"channel": "email"})
        assert refs(only_mail.text) == [mail.ticket_ref]
        crit = await http.get(f"/console/queues/{queue}", params={"severity": "critical"})
        assert refs(crit.text) == [critical.ticket_ref]
        newest = await http.get(f"/console/queues/{queue}", params={"order": "newest"})
        assert refs(newest.text) == [mail.ticket_ref, critical.ticket_ref, low.ticket_ref]
        nobody = await http.get(f"/console/queues/{queue}", params={"assignee": "me"})
        assert refs(nobody.text) == []


async def test_claim_next_claim_chosen_and_the_ticket_actions(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue, other = f"q-{unique}", f"o-{unique}"
    token = await make_agent(runtime, [queue, other], name=f"ag-{unique}")
    first = await new_ticket(runtime, queue, severity=Severity.high)
    second = await new_ticket(runtime, queue)
    async with browser(app) as http:
        csrf = await sign_in(http, token)
        claimed = await http.post("/console/claim", data={"csrf": csrf, "queue": queue})
        assert claimed.headers["location"] == f"/console/tickets/{first.ticket_ref}"
        chosen = await http.post(f"/console/tickets/{second.ticket_ref}/claim", data={"csrf": csrf})
        assert chosen.status_code == 303
        again = await http.post(f"/console/tickets/{second.ticket_ref}/claim", data={"csrf": csrf})
        assert again.status_code == 409  # it is already held (by us)
        ref = first.ticket_ref
        steps = [
            ("reply", {"text": "We are checking with the seller."}),
            ("note", {"text": "seller slow\r\nline two"}),
            ("status", {"status": "pending_customer"}),
            ("escalate", {"reason": "large amount"}),
            ("transfer", {"queue": other}),
        ]
        for action, form in steps:
            response = await http.post(
                f"/console/tickets/{ref}/{action}", data=form | {"csrf": csrf}
            )
            assert response.status_code == 303, (action, response.text)
        refused = await http.post(
            f"/console/tickets/{ref}/status", data={"status": "escalated", "csrf": csrf}
        )
        assert refused.status_code == 422 and "status must be one of" in refused.text
        page = await http.get(f"/console/tickets/{ref}")
        assert "We are checking with the seller." in page.text and "seller slow" in page.text
        for action in ("message.replied", "note.added", "ticket.escalated", "ticket.transferred"):
            assert action in page.text  # the audit trail
        released = await http.post(
            f"/console/tickets/{second.ticket_ref}/release", data={"csrf": csrf}
        )
        assert released.status_code == 303
    async with client(app, token) as api:
        ticket = (await api.get(f"/api/v1/tickets/{ref}")).json()
        assert ticket["queue"] == other and ticket["status"] == "escalated"
        # A browser's CRLF line breaks are stored as the desk's plain-text LF.
        assert "seller slow\nline two" in [m["text"] for m in ticket["messages"]]
        assert (await api.get(f"/api/v1/tickets/{second.ticket_ref}")).json()["assignee"] is None


async def test_claim_next_with_nothing_waiting_says_so(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    token = await make_agent(runtime, [f"empty-{unique}"])
    wait = runtime.settings.console.claim_wait_seconds
    runtime.settings.console.claim_wait_seconds = 0.2
    try:
        async with browser(app) as http:
            csrf = await sign_in(http, token)
            response = await http.post("/console/claim", data={"csrf": csrf})
            assert response.headers["location"] == "/console/queues?none=1"
            assert "No ticket came in time" in (await http.get(response.headers["location"])).text
    finally:
        runtime.settings.console.claim_wait_seconds = wait


async def test_another_queues_ticket_by_url_is_refused(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    mine, theirs = f"m-{unique}", f"t-{unique}"
    token = await make_agent(runtime, [mine])
    secret = await new_ticket(runtime, theirs, text=f"secret-{unique}")
    async with browser(app) as http:
        csrf = await sign_in(http, token)
        for path in ("", "/stream", "/attachments/1"):
            page = await http.get(f"/console/tickets/{secret.ticket_ref}{path}")
            assert page.status_code == 404, path
            assert f"secret-{unique}" not in page.text
        for action in ("reply", "note", "claim", "release", "escalate"):
            response = await http.post(
                f"/console/tickets/{secret.ticket_ref}/{action}",
                data={"csrf": csrf, "text": "x", "reason": "x"},
            )
            assert response.status_code == 404, action
        assert (await http.get(f"/console/queues/{theirs}")).status_code == 403
        assert (
            await http.post("/console/claim", data={"csrf": csrf, "queue": theirs})
        ).status_code == 403
        assert (await http.get("/console/supervisor")).status_code == 403
    async with client(app, await make_agent(runtime, [theirs])) as api:
        assert len((await api.get(f"/api/v1/tickets/{secret.ticket_ref}")).json()["messages"]) == 1


async def test_supervisor_page_shows_escalations_and_load(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    agent = await make_agent(runtime, [queue], name=f"wo-{unique}")
    ref = (await new_ticket(runtime, queue)).ticket_ref
    async with client(app, agent) as api:
        assert (await api.post(f"/api/v1/queues/{queue}/claim")).status_code == 200
        assert (
            await api.post(f"/api/v1/tickets/{ref}/escalate", json={"reason": "big"})
        ).status_code == 200
    supervisor = await make_agent(runtime, [], role=Role.supervisor)
    async with browser(app) as http:
        await sign_in(http, supervisor)
        page = await http.get("/console/supervisor")
        assert page.status_code == 200
        assert ref in page.text and f"wo-{unique}" in page.text
        assert "SLA states" in page.text and "Breached in 24 h" in page.text  # the SLA service


async def test_routing_correction_from_the_ticket_page(
    app: FastAPI, runtime: Runtime, unique: str
) -> None:
    queue = f"q-{unique}"
    token = await make_agent(runtime, [queue])
    ref = (await new_ticket(runtime, queue)).ticket_ref
    async with browser(app) as http:
        csrf = await sign_in(http, token)
        page = await http.get(f"/console/tickets/{ref}")
        assert f'action="/console/tickets/{ref}/correct"' in page.text  # PATCH exists
        bad = await http.post(
            f"/console/tickets/{ref}/correct",
            data={"csrf": csrf, "category": "nope", "severity": "high"},
        )
        assert bad.status_code == 422
        fixed = await http.post(
            f"/console/tickets/{ref}/correct",
            data={"csrf": csrf, "category": "chargeback", "severity": "critical"},
        )
        assert fixed.status_code == 303, fixed.text
    # The rules may queue the corrected ticket elsewhere: a supervisor reads it.
    async with client(app, await make_agent(runtime, [], role=Role.supervisor)) as api:
        ticket = (await api.get(f"/api/v1/tickets/{ref}")).json()
    assert (ticket["category"], ticket["severity"]) == ("chargeback", "critical")
