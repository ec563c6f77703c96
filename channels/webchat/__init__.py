"""Web chat: the widget on the exchange's site, over a websocket with an HTTP fallback.

Nothing here is loaded before `install` runs (or `WebchatAdapter` is asked for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.channel_ports import ChannelPorts
    from gateway.ports import ChannelPlugin


def install(ports: ChannelPorts) -> ChannelPlugin:
    """The webchat routes, the widget and the adapter that pushes agent replies."""
    from channels.webchat.adapter import WebchatAdapter
    from channels.webchat.routes import build_routes
    from channels.webchat.service import WebchatService
    from gateway.ports import Channel, ChannelPlugin

    return ChannelPlugin(
        channel=Channel.webchat,
        routes=build_routes(WebchatService(ports)),
        adapter=WebchatAdapter(ports),
    )


def __getattr__(name: str) -> Any:
    if name == "WebchatAdapter":
        from channels.webchat.adapter import WebchatAdapter

        return WebchatAdapter
    raise AttributeError(name)
