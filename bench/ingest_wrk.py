"""The ingest bench's saturating load from wrk, a load generator in C that costs the
machine far less per request than any Python client (an httpx request costs about
3 ms of client CPU: on 2 cores the client would measure itself).

wrk runs `bench/wrk/<surface>.lua` against a running gateway for a fixed time with C
connections; every request is one message from a customer never seen before (Telegram:
new chat ids; web chat: one pre-signed visitor session token each). Parley answers only
after commit, so wrk's latency is send -> stored. Install: `sh .ci/install-wrk.sh`
(Debian's package). SMTP has no wrk script: its rows keep the Python client.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = HERE / "wrk"
SURFACES = ("webchat", "telegram")
# The web chat visitors' token signing key, given to the gateway so tokens can be made
# here without one HTTP request each.
WEBCHAT_SECRET = "bench-webchat-secret-0123456789abcdef0123456789abcdef"


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class WrkResult:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        ok = self.requests - self.status_errors
        return ok / self.seconds if self.seconds else 0.0


def webchat_tokens(count: int) -> Path:
    """`count` visitor session tokens (one new customer each), signed with the key the
    bench gives the gateway, in a file for the Lua script."""
    from channels.webchat import tokens

    key = WEBCHAT_SECRET.encode()
    path = Path(tempfile.mkdtemp(prefix="parley-wrk-")) / "tokens.txt"
    lines = (
        tokens.sign(
            key, tokens.SESSION, {"v": uuid.uuid4().hex, "n": f"Visitor {n}"}, ttl_seconds=86400
        )
        for n in range(count)
    )
    path.write_text("\n".join(lines) + "\n")
    return path


async def run(
    url: str,
    surface: str,
    *,
    connections: int,
    seconds: float,
    threads: int = 2,
    script_args: list[str],
) -> WrkResult:
    """wrk against `url` for `seconds` with `connections` connections on `threads`."""
    env = {
        **os.environ,
        "PARLEY_WRK_REPORT": str(SCRIPTS / "report.lua"),
        "PARLEY_WRK_THREADS": str(threads),
    }
    proc = await asyncio.create_subprocess_exec(
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "30s",
        "-s", str(SCRIPTS / f"{surface}.lua"), url, "--", *script_args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith("WRK_JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text[-500:]}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(
        requests=data["requests"],
        seconds=data["seconds"],
        status_errors=data["status_errors"],
        socket_errors=data["socket_errors"],
        p50_ms=data["p50"] / 1000,
        p95_ms=data["p95"] / 1000,
        p99_ms=data["p99"] / 1000,
    )
