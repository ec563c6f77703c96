"""Run a command and print the most PostgreSQL connections its process tree held at once.

    python bench/pg_connections.py -- .venv/bin/python -m pytest -q -x -p no:cacheprovider

Counts TCP connections to the PostgreSQL port owned by the command or any of its
descendants (Linux: /proc and `ss -tnp`), every 0.2 s, so other clients of a shared
server are not counted. Prints the peak, when it happened and the command's exit code.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

_PID = re.compile(r"pid=(\d+)")


def descendants(root: int) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: split after the last ")".
        fields = text.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def connections(pids: set[int], port: int) -> int:
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( dport = :{port} )"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return sum(1 for line in out.splitlines() if set(map(int, _PID.findall(line))) & pids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--timeline", type=Path, help="write 'seconds count' at each change")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    started = time.monotonic()
    proc = subprocess.Popen(command)
    peak, peak_at = 0, 0.0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak, peak_at
        last = -1
        timeline = args.timeline.open("w") if args.timeline else None
        while not done.is_set():
            count = connections(descendants(proc.pid), args.port)
            now = time.monotonic() - started
            if count > peak:
                peak, peak_at = count, now
            if timeline is not None and count != last:
                timeline.write(f"{now:.1f} {count}\n")
                timeline.flush()
            last = count
            time.sleep(0.2)
        if timeline is not None:
            timeline.close()

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    code = proc.wait()
    done.set()
    poller.join()
    elapsed = time.monotonic() - started
    print(
        f"peak PostgreSQL connections: {peak} (at {peak_at:.0f}s of {elapsed:.0f}s); "
        f"exit code {code}",
        file=sys.stderr,
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
