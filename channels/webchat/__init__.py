"""Web chat: the widget on the exchange's site, over a websocket with an HTTP fallback."""

from __future__ import annotations

from channels.webchat.adapter import WebchatAdapter
from channels.webchat.email_copies import UnseenRepliesByEmail
from channels.webchat.router import build_router
from channels.webchat.service import WebchatService
from gateway.ports import Channel, ChannelPlugin
from gateway.runtime import Runtime


def install(runtime: Runtime) -> ChannelPlugin:
    """The webchat routes, the widget and the adapter that pushes agent replies."""
    copies = (
        [UnseenRepliesByEmail(runtime)] if runtime.settings.webchat.email_copy_after_seconds else []
    )
    return ChannelPlugin(
        channel=Channel.webchat,
        router=build_router(WebchatService(runtime)),
        adapter=WebchatAdapter(runtime),
        services=copies,
    )
