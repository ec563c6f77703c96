"""The webchat channel's three parts, built once per process and shared by the
websocket, the HTTP fallback and the widget's routes: `sessions` (tokens), `uploads`
(files) and `conversation` (messages, history, choices, seen)."""

from __future__ import annotations

from channels.webchat.conversation import Conversation
from channels.webchat.sessions import Sessions
from channels.webchat.uploads import Uploads
from gateway.channel_ports import ChannelPorts


class WebchatService:
    def __init__(self, ports: ChannelPorts) -> None:
        self.ports = ports
        self.settings = ports.settings.webchat
        self.sessions = Sessions(ports)
        self.uploads = Uploads(ports, self.sessions)
        self.conversation = Conversation(ports, self.uploads)
