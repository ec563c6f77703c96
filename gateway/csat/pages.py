"""The small HTML pages a customer sees after clicking a rating link."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse

HEADERS = {
    # Our own page, nothing loaded from anywhere, forms post back to us only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def page(title: str, body: str, *, status: int = 200, language: str = "en") -> HTMLResponse:
    """A page with `title` (escaped here) and `body` (already safe HTML)."""
    return HTMLResponse(
        f"<!doctype html><html lang='{html.escape(language)}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
        "padding:0 1rem;color:#222}textarea{width:100%;min-height:6rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers=HEADERS,
    )


def comment_form(token: str, rating: int, signature: str, prompt: str) -> str:
    return (
        f"<form method='post' action='/csat/{html.escape(token)}/comment'>"
        f"<input type='hidden' name='rating' value='{rating}'>"
        f"<input type='hidden' name='s' value='{html.escape(signature)}'>"
        f"<label for='comment'>{html.escape(prompt)}</label>"
        "<textarea id='comment' name='comment' maxlength='2000'></textarea>"
        "<p><button type='submit'>OK</button></p></form>"
    )
