#!/usr/bin/env python3
"""Damaged copies of an index, and what the CLI answers from each.

    python3 scripts/damaged_copies.py --bin target/debug/palimpsest --index IDX [--copies 20]

For every non-empty file of the index folder, COPIES copies of the folder, each with one bit
flipped in three bytes of that file (places from a fixed seed, so runs compare), asked
`search account --history --json` and `changes --json --limit 50`. Each answer is the sound
index's answer (same bytes), a refusal naming the damage (`index_damaged`), another error,
a panic (exit status 101) or a different answer with exit status 0: served silently, the
one outcome that must not happen. Prints the counts, per file kind, and a few examples.
Works in a folder under /tmp (`--work`), removed and rewritten for each copy.
"""
import argparse
import os
import random
import shutil
import subprocess

COMMANDS = [
    ["search", "account", "--history", "--json"],
    ["changes", "--json", "--limit", "50"],
]


def ask(binary, index, command):
    done = subprocess.run([binary, "--quiet", "--index", index] + command,
                          capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def damage(path, rng):
    data = bytearray(open(path, "rb").read())
    for _ in range(3):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    open(path, "wb").write(bytes(data))


def outcome(answer, sound):
    code, out, err = answer
    if code == 101 or "panicked" in err:
        return "panic"
    if code == 0:
        return "same answer" if out == sound[1] else "SILENT different answer"
    return "refused: damaged" if "damaged" in err else "other error"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--work", default="/tmp/damaged-copies")
    args = parser.parse_args()
    sound = [ask(args.bin, args.index, command) for command in COMMANDS]
    assert all(code == 0 for code, _, _ in sound), sound
    files = sorted(f for f in os.listdir(args.index)
                   if os.path.getsize(os.path.join(args.index, f)) > 0)
    rng = random.Random(37)
    tally = {}
    for name in files:
        kind = name.split(".", 1)[-1]
        for _ in range(args.copies):
            shutil.rmtree(args.work, ignore_errors=True)
            shutil.copytree(args.index, args.work)
            damage(os.path.join(args.work, name), rng)
            for command, right in zip(COMMANDS, sound):
                answer = ask(args.bin, args.work, command)
                last = answer[2].strip().splitlines()[-1][:160] if answer[2].strip() else ""
                tally.setdefault(outcome(answer, right), []).append((kind, command[0], last))
    shutil.rmtree(args.work, ignore_errors=True)
    print(f"{len(files)} files x {args.copies} copies x {len(COMMANDS)} commands")
    for result, rows in sorted(tally.items()):
        print(f"{result}: {len(rows)}")
    by_kind = {}
    for result, rows in tally.items():
        for kind, _, _ in rows:
            by_kind.setdefault(kind, {}).setdefault(result, 0)
            by_kind[kind][result] += 1
    print("by file kind:")
    for kind, results in sorted(by_kind.items()):
        print("   ", kind, dict(sorted(results.items())))
    print("examples:")
    for result, rows in sorted(tally.items()):
        if result != "same answer":
            for row in sorted(set(rows))[:4]:
                print("   ", result, row)


if __name__ == "__main__":
    main()
