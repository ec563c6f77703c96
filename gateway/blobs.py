"""Content-addressed blob store on the filesystem: attachment bytes and raw mails.

A blob's key is the sha256 of its bytes, so storing the same file twice costs nothing
and a key can never point at other content. Writes go to a temporary file that is
fsynced and renamed into place, so a crash never leaves a half blob under a real key.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    def put_sync(self, data: bytes) -> str:
        key = hashlib.sha256(data).hexdigest()
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    async def put(self, data: bytes) -> str:
        """Store bytes durably and return their key."""
        return await asyncio.to_thread(self.put_sync, data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()
