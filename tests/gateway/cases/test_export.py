"""The export pack opens, every file matches the hash its manifest gives, the PDF
renders, and `gateway audit verify` catches a row altered by hand."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from gateway.audit import AuditEvent
from gateway.runtime import Runtime
from tests.conftest import drop_pg_database, make_database, make_settings
from tests.desk import new_ticket
from tests.gateway.cases.conftest import Desk, new_order_ref
from tests.gateway.cases.helpers import open_dispute, supervisor
from tests.gateway.cases.test_evidence import MP4, PNG


async def test_the_pack_opens_and_every_hash_matches(desk: Desk, tmp_path: Path) -> None:
    token = await supervisor(desk)
    dispute = await open_dispute(desk, token, seller_language="ru")
    files = [await desk.upload(dispute.buyer, n, d) for n, d in (("a.png", PNG), ("r.mp4", MP4))]
    await desk.chat(dispute.buyer, "proof attached", attachments=files)
    url = f"/api/v1/cases/{dispute.case_id}"
    async with desk.api(token) as api:
        await api.post(f"{url}/notes", json={"text": "checked the bank statement"})
        await api.post(f"{url}/decision", json={"outcome": "release_to_buyer", "reason": "paid"})
        response = await api.get(f"{url}/export")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"

    pack = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(pack.read("manifest.json"))
    names = set(pack.namelist())
    listed = {entry["path"] for entry in manifest["files"]}
    assert names == listed | {"manifest.json"}
    for entry in manifest["files"]:
        data = pack.read(entry["path"])
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["size"]
    evidence = [e for e in manifest["evidence"] if "path" in e]
    assert sorted(pack.read(e["path"]) for e in evidence) == sorted([PNG, MP4])
    assert all(e["intact"] for e in evidence)
    assert manifest["order"]["order_ref"] == dispute.order_ref
    assert {p["party"]: p["user_id"] for p in manifest["parties"]}["seller"] == dispute.seller_id
    assert manifest["decisions"][0]["reason"] == "paid"

    transcript = pack.read("transcript.html").decode()
    assert "seller did not release" in transcript and "я не получил оплату" in transcript
    assert "checked the bank statement" in transcript
    assert "<script" not in transcript
    audit = json.loads(pack.read("audit.json"))
    actions = [e["action"] for e in audit["events"]]
    assert "case.decided" in actions and actions[-1] == "case.exported"
    assert all(e["hash"] and e["prev_hash"] for e in audit["events"])

    pdf = tmp_path / "transcript.pdf"
    pdf.write_bytes(pack.read("transcript.pdf"))
    await _renders(pdf, tmp_path / "page")


async def _renders(pdf: Path, out: Path) -> None:
    tool = shutil.which("pdftoppm")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("pdftoppm missing: .ci/install-poppler.sh installs poppler-utils")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    done = await asyncio.to_thread(
        subprocess.run,
        [tool, "-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(out)],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    image = out.with_suffix(".png").read_bytes()
    assert image.startswith(b"\x89PNG") and len(image) > 1000


def _verify(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "gateway", "audit", "verify"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_audit_verify_fails_after_a_row_is_altered(
    backend: str, tmp_root: Path, tmp_path: Path
) -> None:
    url = await make_database(backend, tmp_root)
    runtime = Runtime.from_settings(make_settings(url, tmp_root))
    try:
        ref = new_order_ref()
        for text in (f"order {ref}: not released", f"order {ref}: I got no money", "hello"):
            await new_ticket(runtime, "general", text=text)
        good = await asyncio.to_thread(_verify, url, tmp_path)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "intact" in good.stdout

        async with runtime.sessionmaker.begin() as session:
            victim = await session.scalar(
                sa.select(AuditEvent).where(AuditEvent.action == "message.received").limit(1)
            )
            assert victim is not None
            original = dict(victim.data)
            await session.execute(
                sa.update(AuditEvent)
                .where(AuditEvent.id == victim.id)
                .values(data=original | {"channel": "email"})
            )
        bad = await asyncio.to_thread(_verify, url, tmp_path)
        assert bad.returncode == 1
        assert f"event {victim.id}" in bad.stdout and "altered" in bad.stdout

        async with runtime.sessionmaker.begin() as session:
            await session.execute(
                sa.update(AuditEvent).where(AuditEvent.id == victim.id).values(data=original)
            )
            first = await session.scalar(
                sa.select(AuditEvent.id)
                .where(AuditEvent.ticket_id == victim.ticket_id)
                .order_by(AuditEvent.id)
                .limit(1)
            )
            await session.execute(sa.delete(AuditEvent).where(AuditEvent.id == first))
        cut = await asyncio.to_thread(_verify, url, tmp_path)
        assert cut.returncode == 1 and "previous hash does not match" in cut.stdout
    finally:
        await runtime.close()
        if backend == "postgresql":
            await drop_pg_database(url)
