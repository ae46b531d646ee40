#!/usr/bin/env python3
"""Relevance of change search on real memos: find the change a person describes.

Indexes vlopses-us, pga and contrib from ../shared/corpus into one index (once; reused
while the binary and the archives are unchanged), then runs each case of a memo file
(default ../shared/relevance/memo-dev.json) as its README says: the memo's title, the
service's own name taken out, as the query of

    palimpsest changes QUERY --service S --collection C --sort relevance --limit 10

A hit is a returned change of the case's terms type recorded on the cited day (UTC).
Prints hit@1, hit@10 and MRR (over the first 10), and beside them, in the same run, the
baseline a user has without a query: the rank of that change in the service's newest-first
list of changes. The same again with the memo's description as the query, pasted as it is
up to the query size limit (1,024 bytes, cut at a word).

    python3 scripts/relevance.py [--bin target/release/palimpsest] [--work DIR]
                                 [--cases FILE] [--match all] [--verbose]
"""

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
COLLECTIONS = ["vlopses-us", "pga", "contrib"]
MAX_QUERY_BYTES = 1024
PAGE = 100


def run(binary, index, args):
    out = subprocess.run(
        [str(binary), "--index", str(index), *args],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}…: {out.stderr.strip()}")
    return json.loads(out.stdout)


def prepare(binary, work, reindex):
    """Clones the bundles and indexes them once into work/index (again with --reindex, or
    when the binary refuses the index: it was written in another format)."""
    work.mkdir(parents=True, exist_ok=True)
    index = work / "index"
    readable = subprocess.run(
        [str(binary), "--index", str(index), "stats", "--json"], capture_output=True
    )
    if index.exists() and readable.returncode == 0 and not reindex:
        return index
    archives = []
    for name in COLLECTIONS:
        bundle = SHARED / "corpus" / f"{name}-versions.bundle"
        if not bundle.exists():
            sys.exit(f"relevance: {bundle} is missing; this script needs ../shared/corpus")
        clone = work / f"{name}-versions"
        if not clone.exists():
            subprocess.run(["git", "clone", "-q", str(bundle), str(clone)], check=True)
        archives.append(str(clone))
    print(f"indexing {', '.join(COLLECTIONS)} into {index} …", file=sys.stderr)
    subprocess.run(
        [str(binary), "--index", str(index), "--quiet", "index", "--rebuild", *archives],
        check=True,
    )
    return index


def without_service(text, service):
    """The query text with the service's own name taken out."""
    pattern = re.compile(r"\b" + re.escape(service) + r"(['’]s)?\b", re.IGNORECASE)
    return re.sub(r"\s+", " ", pattern.sub(" ", text)).strip()


def cut(text, limit=MAX_QUERY_BYTES):
    data = text.encode()
    if len(data) <= limit:
        return text
    head = data[:limit].decode(errors="ignore")
    return head.rsplit(" ", 1)[0]


def is_hit(change, case):
    return change["terms_type"] == case["terms_type"] and change["date"][:10] == case["date"][:10]


def filters(case):
    return ["--service", case["service"], "--collection", case["collection"]]


def ranked(binary, index, case, query, match):
    args = ["changes", query, *filters(case), "--sort", "relevance", "--limit", "10", "--json"]
    if match:
        args += ["--match", match]
    changes = run(binary, index, args)["changes"]
    return next((i + 1 for i, c in enumerate(changes) if is_hit(c, case)), None)


def newest_first_rank(binary, index, case):
    offset = 0
    while offset < 10_000:
        page = run(
            binary,
            index,
            ["changes", *filters(case), "--limit", str(PAGE), "--offset", str(offset), "--json"],
        )
        for i, change in enumerate(page["changes"]):
            if is_hit(change, case):
                return offset + i + 1
        if len(page["changes"]) < PAGE:
            return None
        offset += PAGE
    return None


def measures(ranks):
    n = len(ranks)
    at = lambda k: sum(1 for r in ranks if r is not None and r <= k) / n
    mrr = sum(1 / r for r in ranks if r is not None and r <= 10) / n
    return at(1), at(10), mrr


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "palimpsest"))
    parser.add_argument("--work", default=str(ROOT / "target" / "relevance"))
    parser.add_argument("--cases", default=str(SHARED / "relevance" / "memo-dev.json"))
    parser.add_argument("--match", choices=["all"], help="pass --match to every query")
    parser.add_argument("--verbose", action="store_true", help="print each case's ranks")
    parser.add_argument("--reindex", action="store_true", help="index the archives again")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the newest-first baseline (faster)"
    )
    args = parser.parse_args()
    binary = Path(args.bin).resolve()
    if not binary.exists():
        sys.exit(f"relevance: {binary} not found; build it with `cargo build --release`")
    cases = json.loads(Path(args.cases).read_text())
    index = prepare(binary, Path(args.work).resolve(), args.reindex)

    if args.no_baseline:
        baseline = [None for _ in cases]
    else:
        baseline = [newest_first_rank(binary, index, case) for case in cases]
    rows = [("newest first (no query)", baseline)]
    for field in ["title", "description"]:
        ranks = []
        for case, base in zip(cases, baseline):
            query = cut(without_service(case[field], case["service"]))
            try:
                rank = ranked(binary, index, case, query, args.match)
            except RuntimeError as error:
                print(f"  {case['memo'][:60]}: {error}", file=sys.stderr)
                rank = None
            ranks.append(rank)
            if args.verbose:
                print(f"  {field:11} rank {rank!s:>4}  newest-first {base!s:>5}  {case['memo'][:70]}")
        rows.append((f"{field}s", ranks))

    print(f"{len(cases)} cases from {args.cases}")
    print(f"| query | hit@1 | hit@10 | MRR |")
    print(f"|---|---|---|---|")
    for name, ranks in rows:
        h1, h10, mrr = measures(ranks)
        print(f"| {name} | {h1:.2f} | {h10:.2f} | {mrr:.2f} |")


if __name__ == "__main__":
    main()
