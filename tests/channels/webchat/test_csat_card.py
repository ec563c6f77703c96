"""The survey card over HTTP: a rating, then the optional comment typed on the card.
(The same card in Chromium is in test_widget_browser.py.)"""

from __future__ import annotations

from typing import Any

import httpx
import sqlalchemy as sa

from gateway.agents.models import Role
from gateway.csat.models import CsatSurvey
from gateway.csat.texts import texts_for
from gateway.tickets.models import Message, parse_ticket_ref
from tests.channels.webchat.conftest import Gateway
from tests.channels.webchat.test_http_fallback import bearer
from tests.channels.webchat.test_websocket import new_session
from tests.desk import make_agent


async def _rated_card(gateway: Gateway, http: httpx.AsyncClient) -> tuple[str, list[Any]]:
    """A visitor's ticket, resolved, its survey card read from the history."""
    sent = await http.post(
        "/channels/webchat/messages",
        json={"client_id": "c1", "text": "Mi orden P2P está bloqueada, el vendedor no libera"},
    )
    assert sent.status_code == 200, sent.text
    ref = sent.json()["ticket"]
    boss = await make_agent(gateway.runtime, [], role=Role.supervisor)
    async with httpx.AsyncClient(base_url=gateway.http, timeout=60) as desk:
        resolved = await desk.post(
            f"/api/v1/tickets/{ref}/status",
            json={"status": "resolved"},
            headers={"Authorization": f"Bearer {boss}"},
        )
    assert resolved.status_code == 200, resolved.text
    history = (await http.get("/channels/webchat/messages")).json()["items"]
    [card] = [item["choices"] for item in history if item["choices"]]
    return ref, card


async def _survey(gateway: Gateway, ref: str) -> CsatSurvey:
    async with gateway.runtime.sessionmaker() as session:
        survey = await session.scalar(
            sa.select(CsatSurvey).where(CsatSurvey.ticket_id == parse_ticket_ref(ref))
        )
    assert survey is not None
    return survey


async def test_the_card_takes_one_comment_after_the_rating(gateway: Gateway) -> None:
    visitor = await new_session(gateway, name="Ana", language="es")
    stranger = await new_session(gateway, name="Eve")
    async with (
        httpx.AsyncClient(base_url=gateway.http, headers=bearer(visitor), timeout=60) as http,
        httpx.AsyncClient(base_url=gateway.http, headers=bearer(stranger), timeout=60) as other,
    ):
        ref, card = await _rated_card(gateway, http)
        two, five = card[1]["value"], card[4]["value"]
        words = texts_for((await _survey(gateway, ref)).language)[1]

        early = await http.post(
            "/channels/webchat/choices/comment", json={"value": two, "comment": "first!"}
        )
        assert early.json() == {"text": words.invalid}, "no comment before the rating"

        rated = await http.post("/channels/webchat/choices", json={"value": two})
        assert rated.status_code == 200
        assert rated.json() == {
            "text": words.thanks,
            "comment_prompt": words.comment_prompt,
            "skip": words.skip,
        }

        async def comment(client: httpx.AsyncClient, value: str, text: str) -> httpx.Response:
            return await client.post(
                "/channels/webchat/choices/comment", json={"value": value, "comment": text}
            )

        assert (await comment(other, two, "spoofed")).json() == {"text": words.invalid}
        assert (await comment(http, five, "another rating")).json() == {"text": words.invalid}
        blank = await comment(http, two, " \u200b\u0000 ")
        assert blank.status_code == 409 and "empty" in blank.json()["detail"]
        missing = await http.post("/channels/webchat/choices/comment", json={"value": two})
        assert missing.status_code == 422
        foreign = await comment(http, "not-a-survey", "x")
        assert foreign.status_code == 422 and "not offered" in foreign.json()["detail"]

        done = await comment(http, two, "El agente tardó, pero lo resolvió.")
        assert done.status_code == 200 and done.json() == {"text": words.comment_thanks}
        again = await comment(http, two, "And another thing")
        assert again.json() == {"text": words.used}

        # A second tap of the card says it is answered, and asks for no comment again.
        retap = await http.post("/channels/webchat/choices", json={"value": five})
        assert retap.json() == {"text": words.used, "comment_prompt": None, "skip": None}

    survey = await _survey(gateway, ref)
    assert (survey.rating, survey.comment) == (2, "El agente tardó, pero lo resolvió.")
    assert survey.comment_until is None, "the card needs no comment window"
    async with gateway.runtime.sessionmaker() as session:
        inbound = await session.scalars(
            sa.select(Message.text).where(
                Message.ticket_id == survey.ticket_id, Message.direction == "inbound"
            )
        )
        assert list(inbound) == ["Mi orden P2P está bloqueada, el vendedor no libera"]
