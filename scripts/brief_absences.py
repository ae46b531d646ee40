#!/usr/bin/env python3
"""How long text stays away when it vanishes from a document and comes back.

Extraction glitches make a paragraph vanish from one recorded version and return, word for
word, a few hours later; real edits remove text for months or for good. This measures, on
real Open Terms Archive versions bundles, every absence of a paragraph that came back:

- each document (`<service>/<terms type>.md`) is read version by version in first-parent
  order (the order and author dates `palimpsest index` records);
- a paragraph is a block between blank lines, whitespace collapsed;
- an absence starts at the first version without a paragraph the version before held and
  ends at the first later version holding it again (a paragraph that never returns is not
  an absence: it was removed);
- an *event* is one version's absences that all end at the same version (a glitch drops
  many paragraphs at once): events are what a reader sees, paragraphs how much text.

It prints the distribution of their lengths (in time and in versions) per bundle and in
all, which is where the threshold for "briefly absent" (README, "Follow changes over
time") comes from.

    scripts/brief_absences.py [--work DIR] [BUNDLE...]

BUNDLE is a name in ../shared/corpus (default: pga-versions vlopses-us-versions); each is
cloned into DIR (a temporary folder by default) unless DIR/<name> exists.
"""

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
HOUR = 3600
BINS = [
    ("< 1 h", HOUR),
    ("1-3 h", 3 * HOUR),
    ("3-6 h", 6 * HOUR),
    ("6-12 h", 12 * HOUR),
    ("12-24 h", 24 * HOUR),
    ("24-36 h", 36 * HOUR),
    ("36-48 h", 48 * HOUR),
    ("2-3 days", 72 * HOUR),
    ("3-7 days", 7 * 24 * HOUR),
    ("7-30 days", 30 * 24 * HOUR),
    ("30-365 days", 365 * 24 * HOUR),
    ("> 1 year", float("inf")),
]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True).stdout


def clone(name, work):
    path = os.path.join(work, name)
    if not os.path.isdir(path):
        bundle = os.path.join(CORPUS, name + ".bundle")
        if not os.path.exists(bundle):
            sys.exit(f"{bundle} not found")
        subprocess.run(["git", "clone", "-q", bundle, path], check=True)
    return path


def versions(repo):
    """Per document path: [(unix seconds, blob id or None when deleted)], archive order."""
    log = git(repo, "log", "--first-parent", "--reverse", "--format=@%H %aI",
              "--raw", "--no-renames", "--no-abbrev", "HEAD").decode()
    docs = collections.defaultdict(list)
    at = None
    for line in log.splitlines():
        if line.startswith("@"):
            iso = line.split(" ", 1)[1]
            at = int(datetime.fromisoformat(iso.replace("Z", "+00:00"))
                     .astimezone(timezone.utc).timestamp())
        elif line.startswith(":"):
            meta, path = line.split("\t", 1)
            fields = meta.split()
            if not path.endswith(".md") or "/" not in path:
                continue
            blob = None if fields[4] == "D" else fields[3]
            docs[path].append((at, blob))
    return docs


class Blobs:
    """Blob texts through one `git cat-file --batch`."""

    def __init__(self, repo):
        self.proc = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def read(self, blob):
        self.proc.stdin.write(blob.encode() + b"\n")
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().split()
        data = self.proc.stdout.read(int(header[2]))
        self.proc.stdout.read(1)
        return data.decode("utf-8", "replace")


def paragraphs(text):
    blocks = (re.sub(r"\s+", " ", b).strip() for b in re.split(r"\n\s*\n", text))
    return {b for b in blocks if b}


def absences(history, blobs):
    """(seconds, versions, paragraphs) of each absence event of one document."""
    texts = [(at, paragraphs(blobs.read(blob)) if blob else set()) for at, blob in history]
    events = collections.Counter()
    gone = {}  # paragraph -> index of the first version without it
    for i, (at, held) in enumerate(texts):
        if i > 0:
            for p in texts[i - 1][1] - held:
                gone.setdefault(p, i)
        for p in held & set(gone):
            start = gone.pop(p)
            events[(start, i)] += 1
    return [(texts[end][0] - texts[start][0], end - start, count)
            for (start, end), count in events.items()]


def bin_of(seconds):
    return next(label for label, upper in BINS if seconds < upper)


def report(name, events):
    by_bin = collections.Counter()
    paragraphs_by_bin = collections.Counter()
    one_version = collections.Counter()
    for seconds, count_versions, count in events:
        label = bin_of(seconds)
        by_bin[label] += 1
        paragraphs_by_bin[label] += count
        one_version[label] += count_versions == 1
    total = sum(by_bin.values())
    print(f"\n{name}: {total} absence events ({sum(paragraphs_by_bin.values())} paragraph absences)")
    print(f"  {'length':<12} {'events':>7} {'cumul.':>7} {'1 version':>10} {'paragraphs':>11}")
    print("  (1 version: the next version recorded has the text back)")
    running = 0
    for label, _ in BINS:
        running += by_bin[label]
        share = 100 * running / total if total else 0
        single = 100 * one_version[label] / by_bin[label] if by_bin[label] else 0
        print(f"  {label:<12} {by_bin[label]:>7} {share:>6.1f}% {single:>9.0f}%"
              f" {paragraphs_by_bin[label]:>11}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundles", nargs="*", default=["pga-versions", "vlopses-us-versions"])
    parser.add_argument("--work", help="folder for the clones (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.work or temporary
        everything = []
        for name in args.bundles:
            repo = clone(name, work)
            blobs = Blobs(repo)
            events = []
            for history in versions(repo).values():
                events.extend(absences(history, blobs))
            report(name, events)
            everything.extend(events)
        if len(args.bundles) > 1:
            report("all", everything)


if __name__ == "__main__":
    main()
