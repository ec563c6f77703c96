"""Driving the console over HTTP as a browser would: cookies, forms, CSRF tokens."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

ORIGIN = "http://parley.test"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def browser(app: FastAPI) -> httpx.AsyncClient:
    """A cookie-keeping client on the app that sends Origin like a browser's form post."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=ORIGIN,
        headers={"Origin": ORIGIN},
        follow_redirects=False,
    )


async def sign_in(http: httpx.AsyncClient, token: str) -> str:
    """Sign in with an API token; returns the session's CSRF token from a page."""
    response = await http.post("/console/sign-in", data={"token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/console/queues"
    return await csrf_of(http, "/console/queues")


async def csrf_of(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    assert page.status_code == 200, page.text
    match = CSRF.search(page.text)
    assert match, "every signed-in page carries the CSRF token"
    return match.group(1)
