"""The IMAP poller against Debian's dovecot on loopback, run from a temporary config."""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from channels.email.imap import ImapPoller
from channels.email.service import EmailIntake
from gateway.runtime import Runtime
from gateway.settings import ImapSettings
from gateway.tickets.models import Message
from tests.channels.email.conftest import mail

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
PASSWORD = "desk-secret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def dovecot() -> Iterator[int]:
    """A private dovecot on a loopback port: static passdb, maildir in a temp folder."""
    if not os.path.exists(DOVECOT):
        if os.environ.get("CI"):
            pytest.fail("dovecot missing: .ci/install-dovecot.sh must run in CI")
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd)")
    root = Path(tempfile.mkdtemp(prefix="parley-dovecot-"))
    root.chmod(0o755)
    port = _free_port()
    if os.getuid() == 0:
        # dovecot refuses to run logins or mail as root: use the package's own users.
        login_user, internal_user = "dovenull", "dovecot"
        mail_user = pwd.getpwnam("dovecot")
    else:
        login_user = internal_user = pwd.getpwuid(os.getuid()).pw_name
        mail_user = pwd.getpwuid(os.getuid())
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(root / sub, mail_user.pw_uid, mail_user.pw_gid)
    config = root / "dovecot.conf"
    config.write_text(
        f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    subprocess.run([DOVECOT, "-c", str(config)], check=True)
    try:
        for _ in range(100):
            try:
                imaplib.IMAP4("127.0.0.1", port).logout()
                break
            except OSError:
                import time

                time.sleep(0.05)
        yield port
    finally:
        subprocess.run(["doveadm", "-c", str(config), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _append(port: int, user: str, raw: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(user, PASSWORD)
    client.append("INBOX", "", imaplib.Time2Internaldate(0), raw)
    client.logout()


def _seen_flags(port: int, user: str) -> list[bool]:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login(user, PASSWORD)
    client.select("INBOX")
    _, data = client.fetch("1:*", "(FLAGS)")
    client.logout()
    return [b"\\Seen" in (item if isinstance(item, bytes) else b"") for item in data]


@pytest.fixture
async def poller(dovecot: int, email_runtime: Runtime, unique: str) -> AsyncIterator[ImapPoller]:
    settings = ImapSettings(
        host="127.0.0.1", port=dovecot, ssl=False, username=f"desk{unique}", password=PASSWORD
    )
    yield ImapPoller(EmailIntake(email_runtime), settings, batch_size=2)


async def _stored(runtime: Runtime, external_id: str) -> Message | None:
    async with runtime.sessionmaker() as session:
        return (
            await session.execute(sa.select(Message).where(Message.external_id == external_id))
        ).scalar_one_or_none()


async def test_poller_stores_marks_seen_and_catches_up(
    poller: ImapPoller, dovecot: int, email_runtime: Runtime, unique: str
) -> None:
    user = poller.settings.username or ""
    # An outage: five mails wait, more than one batch.
    for n in range(5):
        raw = mail(
            f"imap-{unique}@customer.example", f"m{n}", f"text {n}", message_id=f"<i{n}-{unique}@c>"
        ).as_bytes()
        await asyncio.to_thread(_append, dovecot, user, raw)
    assert await poller.poll_once() == 5
    for n in range(5):
        stored = await _stored(email_runtime, f"i{n}-{unique}@c")
        assert stored is not None and stored.text == f"text {n}"
    assert await asyncio.to_thread(_seen_flags, dovecot, user) == [True] * 5

    # The checkpoint holds: nothing is fetched twice; a new mail is picked up alone.
    assert await poller.poll_once() == 0
    raw = mail(f"imap-{unique}@customer.example", "late", "late one", message_id=f"<L-{unique}@c>")
    await asyncio.to_thread(_append, dovecot, user, raw.as_bytes())
    assert await poller.poll_once() == 1
    assert await _stored(email_runtime, f"L-{unique}@c") is not None
    assert len(await asyncio.to_thread(_seen_flags, dovecot, user)) == 6  # nothing deleted


async def test_poller_runs_as_a_service_until_stopped(
    poller: ImapPoller, dovecot: int, email_runtime: Runtime, unique: str
) -> None:
    user = poller.settings.username or ""
    raw = mail(f"svc-{unique}@customer.example", "s", "service", message_id=f"<s-{unique}@c>")
    await asyncio.to_thread(_append, dovecot, user, raw.as_bytes())
    poller.settings.poll_seconds = 0.1
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    for _ in range(100):
        if await _stored(email_runtime, f"s-{unique}@c") is not None:
            break
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert await _stored(email_runtime, f"s-{unique}@c") is not None
