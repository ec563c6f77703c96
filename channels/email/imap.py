"""The IMAP poller, for desks that read an existing mailbox.

Checkpoint per mailbox in SystemState: UIDVALIDITY and the last UID committed. Mails are
fetched with BODY.PEEK (not marking them read), stored, and only then flagged \\Seen;
nothing is ever deleted. After an outage of any length the poller walks every UID above
the checkpoint, a batch at a time. A UIDVALIDITY change restarts from UID 1: re-reading
is harmless because intake is idempotent on the Message-ID (or the raw bytes' sha256).
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass

import aioimaplib
import structlog

from channels.email import metrics
from channels.email.service import EmailIntake, StorageUnavailable
from gateway.settings import ImapSettings

log = structlog.get_logger()

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")


class ImapError(Exception):
    """The IMAP server refused a command (login, select, fetch)."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    uidvalidity: int
    last_uid: int


class ImapPoller:
    """BackgroundService: polls one mailbox every `poll_seconds` until `stop`."""

    name = "email-imap"

    def __init__(self, intake: EmailIntake, settings: ImapSettings, *, batch_size: int = 50):
        self.intake = intake
        self.settings = settings
        self.batch_size = batch_size
        self.state_key = (
            f"email.imap:{settings.username}@{settings.host}:{settings.port}/{settings.mailbox}"
        )

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.poll_once()
            except (aioimaplib.AioImapException, ImapError, OSError, TimeoutError) as exc:
                log.warning("email.imap_poll_failed", error=repr(exc), host=self.settings.host)
            except StorageUnavailable as exc:
                log.warning("email.imap_storage_unavailable", error=str(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_seconds)
            except TimeoutError:
                pass

    async def poll_once(self) -> int:
        """Fetch and store every mail above the checkpoint. Returns how many were stored."""
        client = await self._connect()
        stored = 0
        try:
            uidvalidity = await self._select(client)
            checkpoint = await self._load()
            if checkpoint is None or checkpoint.uidvalidity != uidvalidity:
                if checkpoint is not None:
                    log.warning(
                        "email.imap_uidvalidity_changed",
                        old=checkpoint.uidvalidity,
                        new=uidvalidity,
                    )
                checkpoint = Checkpoint(uidvalidity, 0)
            while True:
                uids = await self._uids_after(client, checkpoint.last_uid)
                if not uids:
                    break
                for uid in uids[: self.batch_size]:
                    raw = await self._fetch(client, uid)
                    if raw is not None:
                        # Raises StorageUnavailable: the checkpoint stays, we retry later.
                        await self.intake.receive(raw)
                        metrics.imap_fetched.inc()
                        await self._command(client, "store", str(uid), "+FLAGS.SILENT (\\Seen)")
                        stored += 1
                    checkpoint = Checkpoint(uidvalidity, uid)
                    await self._save(checkpoint)
        finally:
            try:
                await client.logout()
            except (aioimaplib.AioImapException, OSError, TimeoutError):
                pass
        if stored:
            log.info("email.imap_polled", stored=stored, mailbox=self.settings.mailbox)
        return stored

    async def _connect(self) -> aioimaplib.IMAP4:
        s = self.settings
        assert s.host is not None
        client: aioimaplib.IMAP4
        if s.ssl:
            client = aioimaplib.IMAP4_SSL(host=s.host, port=s.port, timeout=30)
        else:
            client = aioimaplib.IMAP4(host=s.host, port=s.port, timeout=30)
        await client.wait_hello_from_server()
        password = s.password.get_secret_value() if s.password else ""
        response = await client.login(s.username or "", password)
        if response.result != "OK":
            raise ImapError(f"login refused: {response.lines[-1:]!r}")
        return client

    async def _select(self, client: aioimaplib.IMAP4) -> int:
        response = await client.select(self.settings.mailbox)
        if response.result != "OK":
            raise ImapError(f"cannot select {self.settings.mailbox}: {response.lines[-1:]!r}")
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return int(found.group(1))
        raise ImapError("server sent no UIDVALIDITY")

    async def _uids_after(self, client: aioimaplib.IMAP4, last_uid: int) -> list[int]:
        response = await client.uid_search(f"UID {last_uid + 1}:*", charset=None)
        if response.result != "OK":
            raise ImapError(f"search failed: {response.lines[-1:]!r}")
        found: set[int] = set()
        for line in response.lines[:-1]:
            found.update(int(tok) for tok in bytes(line).split() if tok.isdigit())
        # "n:*" always matches the highest UID, even when it is below n.
        return sorted(uid for uid in found if uid > last_uid)

    async def _fetch(self, client: aioimaplib.IMAP4, uid: int) -> bytes | None:
        response = await self._command(client, "fetch", str(uid), "(UID BODY.PEEK[])")
        for line in response.lines:
            if isinstance(line, bytearray):
                return bytes(line)
        log.warning("email.imap_message_vanished", uid=uid)
        return None

    async def _command(
        self, client: aioimaplib.IMAP4, command: str, *args: str
    ) -> aioimaplib.Response:
        response = await client.uid(command, *args)
        if response.result != "OK":
            raise ImapError(f"UID {command.upper()} failed: {response.lines[-1:]!r}")
        return response

    async def _load(self) -> Checkpoint | None:
        ports = self.intake.ports
        async with ports.sessionmaker() as session:
            value = await ports.state.get(session, self.state_key)
        if value is None:
            return None
        data = json.loads(value)
        return Checkpoint(int(data["uidvalidity"]), int(data["last_uid"]))

    async def _save(self, checkpoint: Checkpoint) -> None:
        value = json.dumps({"uidvalidity": checkpoint.uidvalidity, "last_uid": checkpoint.last_uid})
        ports = self.intake.ports
        async with ports.sessionmaker.begin() as session:
            await ports.state.put(session, self.state_key, value)
