"""The suspicious-account list and one account's signals, over HTTP on both databases:
signals appear as order facts and tickets arrive; only risk reviewers see them."""

from __future__ import annotations

import httpx

from tests.gateway.cases.conftest import Desk
from tests.gateway.risk.conftest import (
    account,
    dispute,
    kinds,
    plain_agent,
    push,
    risk_agent,
    supervisor,
    tag,
)


async def test_a_ring_sharing_a_payer_name_shows_as_its_orders_arrive(desk: Desk) -> None:
    t = tag()
    payer, ring = f"RING PAYER {t}", [f"ring-{t}-{i}" for i in range(3)]
    token = await risk_agent(desk)
    refs = [
        await push(
            desk, buyer, f"seller-{t}-{i}", payer_account_name=payer, payer_name_matches=False
        )
        for i, buyer in enumerate(ring)
    ]
    async with desk.api(token) as api:
        listed = await api.get("/api/v1/risk/accounts", params={"min_score": 1, "limit": 500})
    assert listed.status_code == 200, listed.text
    scored = {item["user_id"]: item for item in listed.json()["items"]}
    for buyer in ring:  # no nightly batch: the third order's push rescored the first buyer
        assert "shared_payer_name" in scored[buyer]["signals"]
    body = await account(desk, token, ring[0])
    shared = kinds(body)["shared_payer_name"]
    assert shared["sentence"] == f"payer account name '{payer}' also used by 2 other accounts"
    assert set(shared["orders"]) == set(refs[1:])
    assert kinds(body)["third_party_payment"]["orders"] == [refs[0]]
    assert body["score"] == shared["weight"] + kinds(body)["third_party_payment"]["weight"]
    # An honest seller on the other side of each order has nothing against them.
    honest = await account(desk, token, f"seller-{t}-0")
    assert honest["score"] == 0 and honest["signals"] == []


async def test_a_seller_named_by_many_buyers_lists_the_cases_behind(desk: Desk) -> None:
    t = tag()
    seller = f"seller-{t}"
    token = await supervisor(desk)
    opened = [await dispute(desk, f"buyer-{t}-{i}", seller) for i in range(3)]
    body = await account(desk, token, seller)
    found = kinds(body)
    assert found["many_complainants"]["sentence"].startswith(
        "named as counterparty by 3 different complainants"
    )
    cases = found["many_complainants"]["cases"]
    assert sorted(c["order_ref"] for c in cases) == sorted(ref for ref, _ticket in opened)
    assert all(c["ref"] == f"C-{c['id']}" and c["status"] == "open" for c in cases)
    assert "repeat_disputes" in found
    # Each buyer disputed once: nothing to say about them.
    assert (await account(desk, token, f"buyer-{t}-0"))["score"] == 0


async def test_one_vouched_email_behind_two_exchange_ids_links_them(desk: Desk) -> None:
    t = tag()
    email = f"same-{t}@mail.example"
    for user in (f"a-{t}", f"b-{t}"):
        visitor = await _visitor_with_email(desk, user, email)
        await desk.chat(visitor, "hello, a question about my account")
    body = await account(desk, await risk_agent(desk), f"a-{t}")
    linked = kinds(body)["linked_identities"]
    assert linked["sentence"] == f"the same vouched email is behind 1 other exchange account: b-{t}"


async def test_only_risk_reviewers_see_risk(desk: Desk) -> None:
    t = tag()
    await push(desk, f"x-{t}", f"y-{t}", payer_name_matches=False)
    agent = await plain_agent(desk)
    async with desk.api(agent) as api:
        for path in (
            "/api/v1/risk/accounts",
            f"/api/v1/risk/accounts/x-{t}",
            "/api/v1/risk/accounts/nobody",
        ):
            response = await api.get(path)
            assert response.status_code == 403, path
            assert "risk" in response.json()["detail"]
    async with desk.api() as anonymous:
        assert (await anonymous.get("/api/v1/risk/accounts")).status_code == 401
    async with desk.api(desk.integration_token) as exchange:
        assert (await exchange.get(f"/api/v1/risk/accounts/x-{t}")).status_code == 401
    async with desk.api(await risk_agent(desk)) as api:
        assert (await api.get(f"/api/v1/risk/accounts/x-{t}")).status_code == 200


async def test_bad_input_is_a_4xx_with_the_reason(desk: Desk) -> None:
    async with desk.api(await risk_agent(desk)) as api:
        for params in (
            {"min_score": "-1"},
            {"min_score": "lots"},
            {"limit": "0"},
            {"limit": "501"},
        ):
            response = await api.get("/api/v1/risk/accounts", params=params)
            assert response.status_code == 422, params
            assert response.json()["detail"]
        junk = await api.get("/api/v1/risk/accounts", params={"cursor": "not-a-cursor"})
        assert junk.status_code == 422
        assert "cursor" in str(junk.json()["detail"])
        control = await api.get("/api/v1/risk/accounts/a%01b")
        assert control.status_code == 422
        too_long = await api.get("/api/v1/risk/accounts/" + "u" * 201)
        assert too_long.status_code == 422


async def test_the_list_pages_by_score_with_a_cursor(desk: Desk) -> None:
    t = tag()
    for i in range(3):
        await push(desk, f"page-{t}-{i}", f"ps-{t}-{i}", payer_name_matches=False)
    token = await risk_agent(desk)
    seen: list[tuple[float, str]] = []
    cursor = None
    async with desk.api(token) as api:
        for _ in range(200):
            params: dict[str, str | int] = {"min_score": 10, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = (await api.get("/api/v1/risk/accounts", params=params)).json()
            seen += [(-i["score"], i["user_id"]) for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert {f"page-{t}-{i}" for i in range(3)} <= {user for _s, user in seen}


async def _visitor_with_email(desk: Desk, user_id: str, email: str) -> dict[str, str]:
    import hashlib
    import hmac

    from channels.webchat.tokens import email_hash
    from tests.gateway.cases.conftest import IDENTITY_SECRET, ORIGIN

    body = {
        "language": "en",
        "name": f"visitor {user_id}",
        "email": email,
        "email_hash": email_hash(IDENTITY_SECRET.encode(), email),
        "user_id": user_id,
        "user_hash": hmac.new(
            IDENTITY_SECRET.encode(), user_id.encode(), hashlib.sha256
        ).hexdigest(),
    }
    async with httpx.AsyncClient(base_url=desk.http) as client:
        response = await client.post(
            "/channels/webchat/sessions", json=body, headers={"Origin": ORIGIN}
        )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_one_telegram_user_proving_two_exchange_ids_links_them(desk: Desk) -> None:
    import uuid

    from gateway.ports import Channel, InboundMessage

    t = tag()
    for user in (f"tg-a-{t}", f"tg-b-{t}"):  # the same Telegram user, two /start links
        async with desk.runtime.sessionmaker.begin() as session:
            await desk.runtime.ingest(
                session,
                InboundMessage(
                    channel=Channel.telegram,
                    external_id=uuid.uuid4().hex,
                    sender=f"tg-user-{t}",
                    text="/start",
                    thread_key=f"tg-user-{t}",
                    verified_user_id=user,
                ),
            )
    token = await risk_agent(desk)
    async with desk.api(token) as api:
        listed = (
            await api.get("/api/v1/risk/accounts", params={"min_score": 20, "limit": 500})
        ).json()
    assert {f"tg-a-{t}", f"tg-b-{t}"} <= {i["user_id"] for i in listed["items"]}
    body = await account(desk, token, f"tg-b-{t}")
    assert kinds(body)["linked_identities"]["sentence"] == (
        f"the same Telegram user is behind 1 other exchange account: tg-a-{t}"
    )
