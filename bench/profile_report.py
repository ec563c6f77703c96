"""Summarise py-spy collapsed stacks: the functions with the most samples, total and self.

PARLEY_BENCH_PYSPY=/tmp/ingest python bench/ingest.py ...
python bench/profile_report.py /tmp/ingest.<port> [--top 40] [--filter gateway/]
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--filter", default="", help="only frames whose text contains this")
    args = parser.parse_args()
    total: Counter[str] = Counter()
    own: Counter[str] = Counter()
    samples = 0
    for line in args.file.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        idle = any("select" in f and ("selectors" in f or "epoll" in f) for f in frames[-2:])
        if idle:
            continue
        samples += count
        for frame in set(frames):
            if args.filter in frame:
                total[frame] += count
        if args.filter in frames[-1]:
            own[frames[-1]] += count
    print(f"{samples} busy samples")
    print("-- total (inclusive) --")
    for frame, count in total.most_common(args.top):
        print(f"{100 * count / samples:5.1f}%  {frame}")
    print("-- self --")
    for frame, count in own.most_common(args.top):
        print(f"{100 * count / samples:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
