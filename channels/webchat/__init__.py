"""Web chat: the widget on the exchange's site, over a websocket with an HTTP fallback."""

from __future__ import annotations

from channels.webchat.adapter import WebchatAdapter
from channels.webchat.router import build_router
from channels.webchat.service import WebchatService
from gateway.ports import Channel, ChannelPlugin
from gateway.runtime import Runtime


def install(runtime: Runtime) -> ChannelPlugin:
    """The webchat routes, the widget and the adapter that pushes agent replies."""
    return ChannelPlugin(
        channel=Channel.webchat,
        router=build_router(WebchatService(runtime)),
        adapter=WebchatAdapter(runtime),
    )
