"""A PostgreSQL server double that refuses every login as a full server does.

It speaks the real wire protocol: declines SSL ('N'), reads the startup packet, and
answers with the ErrorResponse a server at max_connections sends (SQLSTATE 53300,
"sorry, too many clients already"). Lets a test see what an operator sees when the
shared server is saturated, without saturating the real one.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

SSL_REQUEST = 80877103


class RefusingPostgres:
    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = int(self._sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RefusingPostgres:
        self._thread.start()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _addr = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self._refuse(conn)
                except OSError:
                    pass

    @staticmethod
    def _read_packet(conn: socket.socket) -> tuple[int, bytes]:
        header = conn.recv(8, socket.MSG_WAITALL)
        length, code = struct.unpack("!ii", header)
        body = conn.recv(length - 8, socket.MSG_WAITALL) if length > 8 else b""
        return code, body

    def _refuse(self, conn: socket.socket) -> None:
        code, _ = self._read_packet(conn)
        if code == SSL_REQUEST:
            conn.sendall(b"N")
            self._read_packet(conn)  # the startup packet proper
        fields = b"".join(
            kind + text.encode() + b"\0"
            for kind, text in (
                (b"S", "FATAL"),
                (b"V", "FATAL"),
                (b"C", "53300"),
                (b"M", "sorry, too many clients already"),
            )
        )
        body = fields + b"\0"
        conn.sendall(b"E" + struct.pack("!i", len(body) + 4) + body)
