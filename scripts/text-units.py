#!/usr/bin/env python3
"""How much text a store would hold, over a git archive's whole history, if it kept each
unit of text once per document: whole versions, sections (cut at Markdown heading lines),
or paragraphs (cut at blank lines). Not a test: a measurement for choosing what the index
stores (BENCHMARKS.md, "Text stored once: what the units would hold").

    python3 scripts/text-units.py ARCHIVE_CLONE [part:LONG:MIN:ONE_IN ...]

A `part:LONG:MIN:ONE_IN` unit is a section, except that one over LONG words is cut into
paragraph-aligned parts by content (after a paragraph whose hash is 0 modulo ONE_IN, once
the part holds MIN words): what the index would hold if long sections were indexed by part.

Reads every version of every `*/*.md` file in commit order with `git cat-file --batch`;
prints, per unit, the bytes of the units seen for the first time in their document, and the
same bytes compressed with zlib level 6 in 32 KiB blocks (the index compresses its store in
32 KiB blocks with zstd level 3, which packs about as tight).
"""

import collections
import hashlib
import re
import subprocess
import sys
import zlib

BLOCK = 32 << 10
HEADING = re.compile(rb"^#{1,6} ", re.M)
BLANK_LINES = re.compile(rb"\n\s*\n")


def changed_blobs(repo):
    """(blob id, path) of every added or modified Markdown file, oldest commit first."""
    log = subprocess.run(
        ["git", "-C", repo, "log", "--reverse", "--format=", "--raw", "--no-abbrev",
         "--no-renames", "--", "*/*.md"],
        capture_output=True, text=True, check=True,
    ).stdout
    for line in log.splitlines():
        meta, _, path = line.partition("\t")
        fields = meta.split()
        if len(fields) >= 5 and fields[4] != "D":
            yield fields[3], path


def sections(text):
    cuts = [0] + [m.start() for m in HEADING.finditer(text) if m.start() > 0] + [len(text)]
    return [text[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]


def parts(section, long_words, min_words, one_in):
    """A section over `long_words` words cut into paragraph-aligned parts: after a paragraph
    whose hash is 0 modulo `one_in` once the part holds `min_words` words (boundaries that
    depend on content only, so an edit moves at most the boundaries around it)."""
    if len(section.split()) <= long_words:
        return [section]
    out, start, words = [], 0, 0
    for m in re.finditer(rb"[^\n]+(?:\n(?!\s*\n)[^\n]*)*\n*(?:\s*\n)*", section):
        words += len(m.group().split())
        digest = hashlib.blake2b(m.group(), digest_size=8).digest()
        if words >= min_words and int.from_bytes(digest, "big") % one_in == 0:
            out.append(section[start:m.end()])
            start, words = m.end(), 0
    if start < len(section):
        out.append(section[start:])
    return out


def units(text, kind):
    if kind == "version":
        return [text]
    if kind == "section":
        return sections(text)
    if kind.startswith("part"):
        long_words, min_words, one_in = (int(x) for x in kind.split(":")[1:])
        return [p for s in sections(text) for p in parts(s, long_words, min_words, one_in)]
    return [p for p in BLANK_LINES.split(text) if p]


class Store:
    """Units kept once per document, with their raw and compressed sizes."""

    def __init__(self):
        self.seen = collections.defaultdict(set)
        self.raw = 0
        self.packed = 0
        self.block = bytearray()

    def add(self, path, unit):
        digest = hashlib.blake2b(unit, digest_size=16).digest()
        if digest in self.seen[path]:
            return
        self.seen[path].add(digest)
        self.raw += len(unit)
        self.block += unit
        if len(self.block) >= BLOCK:
            self.flush()

    def flush(self):
        if self.block:
            self.packed += len(zlib.compress(bytes(self.block), 6))
            self.block.clear()

    def distinct(self):
        return sum(len(s) for s in self.seen.values())


def main():
    repo = sys.argv[1]
    kinds = ["version", "section", "paragraph"] + sys.argv[2:]
    stores = {kind: Store() for kind in kinds}
    cat = subprocess.Popen(["git", "-C", repo, "cat-file", "--batch"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    versions = total = 0
    for blob, path in changed_blobs(repo):
        cat.stdin.write(blob.encode() + b"\n")
        cat.stdin.flush()
        size = int(cat.stdout.readline().split()[2])
        text = cat.stdout.read(size)
        cat.stdout.read(1)
        versions += 1
        total += size
        for kind, store in stores.items():
            for unit in units(text, kind):
                store.add(path, unit)
    cat.stdin.close()
    cat.wait()
    mib = 1 << 20
    print(f"{versions} versions, {total / mib:.0f} MiB of text")
    for kind, store in stores.items():
        store.flush()
        print(f"{kind:9s} {store.raw / mib:8.1f} MiB once per document "
              f"({100 * store.raw / max(total, 1):4.1f} % of the text), "
              f"{store.packed / mib:6.1f} MiB compressed, {store.distinct()} distinct")


if __name__ == "__main__":
    main()
