#!/usr/bin/env python3
"""Change search speed of two builds, measured alternately in one run.

    python3 scripts/bench-changes.py BASE_BIN NEW_BIN INDEX [--rounds 3]

Runs `changes QUERY --sort relevance --limit 20 --json` for five queries, each round with
both binaries (their order swapped every round, so neither always runs on a warm cache),
and prints each binary's median wall time (process start and index open included) and the
ratio NEW / BASE.
"""

import argparse
import statistics
import subprocess
import time

QUERIES = [
    "arbitration",
    "artificial intelligence",
    "personal data sharing with third parties",
    "delete account",
    "children under 13",
]


def timed(binary, index, query):
    start = time.perf_counter()
    subprocess.run(
        [binary, "--index", index, "changes", query, "--sort", "relevance", "--limit", "20", "--json"],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("new")
    parser.add_argument("index")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    binaries = [args.base, args.new]
    times = {b: [] for b in binaries}
    for round_ in range(args.rounds):
        for query in QUERIES:
            for binary in binaries if round_ % 2 == 0 else binaries[::-1]:
                times[binary].append(timed(binary, args.index, query))
    medians = [statistics.median(times[b]) for b in binaries]
    for binary, median in zip(binaries, medians):
        print(f"{binary}: median {1000 * median:.1f} ms")
    print(f"new / base: {medians[1] / medians[0]:.3f}")


if __name__ == "__main__":
    main()
