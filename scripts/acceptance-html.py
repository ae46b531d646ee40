#!/usr/bin/env python3
"""Acceptance of HTML snapshot extraction on the demo bundles of ../shared/corpus.

Indexes demo-snapshots (16,664 raw HTML snapshot commits) with the declarations of
demo-declarations, then compares, for every version Open Terms Archive recorded in
demo-versions, OTA's Markdown with our extraction of the snapshot it came from:

- the snapshot is the one the version's commit body names ("…extracted from snapshot
  https://…/commit/ID") when that commit exists in the bundle, else the snapshot commit of
  the same document at the same instant (for a technical upgrade, a re-extraction, the
  latest snapshot of the document before it);
- our extraction of it is `palimpsest show SERVICE TERMS --at <snapshot date>`: the version in
  force then, which is that snapshot's text (identical later snapshots are not versions);
- similarity is token F1 over lowercased words (runs of letters and digits: `_emphasis_`
  markers are not part of a word), after dropping Markdown link targets, images and `<br>`
  from OTA's text (we keep link text only).

Prints, per document, the F1 of OTA's latest version and the mean over all its versions,
then the median and minimum over documents, and the snapshot commits read against the
versions kept (beside the 143 versions OTA recorded).

    scripts/acceptance-html.py --bin target/release/palimpsest --work DIR

(scripts/acceptance-html.sh builds the binary and runs this in a temporary folder.)
"""

import argparse
import collections
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
SNAPSHOT_ID = re.compile(r"snapshots?/commit/([0-9a-f]{40})")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
WORD = re.compile(r"[^\W_]+")
HTML_BREAK = re.compile(r"<br\s*/?>")
UPGRADE = ("Apply technical or declaration upgrade on", "Refilter")


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw).stdout


def words(text):
    return WORD.findall(text.lower())


def f1(ours, theirs):
    a, b = collections.Counter(words(ours)), collections.Counter(words(theirs))
    overlap = sum((a & b).values())
    if not a and not b:
        return 1.0
    if overlap == 0:
        return 0.0
    precision = overlap / sum(a.values())
    recall = overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def strip_markdown_links(text):
    """OTA's text without link targets, images and the `<br>` its tables keep."""
    return HTML_BREAK.sub(" ", LINK_TARGET.sub("]", IMAGE.sub("", text)))


def git_log(repo):
    """[(commit, author epoch, subject, body, [(status, path)])], oldest first, first parent."""
    out = run(
        [
            "git", "-C", repo, "log", "--first-parent", "--reverse", "--no-renames",
            "--name-status", "--format=%x00%H%x01%at%x01%s%x01%b%x01",
        ]
    ).decode()
    commits = []
    for chunk in out.split("\0")[1:]:
        commit, at, subject, body, files = chunk.split("\x01")
        changes = []
        for line in files.strip().splitlines():
            status, _, path = line.partition("\t")
            changes.append((status[0], path))
        commits.append((commit, int(at), subject, body, changes))
    return commits


def document_of(path, extension):
    service, _, name = path.partition("/")
    if not name.endswith(extension) or "/" in name:
        return None
    return service, name[: -len(extension)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the index and report already in --work"
    )
    args = parser.parse_args()
    if not os.path.isdir(CORPUS):
        print(f"skipped: {CORPUS} is absent (the demo bundles are needed)")
        return 0
    snapshots = os.path.join(args.work, "demo-snapshots")
    versions = os.path.join(args.work, "demo-versions")
    for name, target in [("demo-snapshots", snapshots), ("demo-versions", versions)]:
        if not os.path.isdir(target):
            run(["git", "clone", "-q", os.path.join(CORPUS, name + ".bundle"), target])
    index = os.path.join(args.work, "index")
    palimpsest = [args.bin, "--index", index, "--quiet"]
    report_path = os.path.join(args.work, "report.json")
    if not (args.reuse and os.path.exists(report_path)):
        with open(report_path, "wb") as out:
            out.write(
                run(
                    palimpsest
                    + [
                        "--json", "index", snapshots, "--collection", "demo", "--rebuild",
                        "--declarations", os.path.join(CORPUS, "demo-declarations"),
                    ]
                )
            )
    with open(report_path) as f:
        report = json.load(f)

    # Snapshot commits per document: commit -> epoch, and (document, epoch) -> commit.
    snapshot_at = {}
    snapshot_by_instant = {}
    snapshots_of = collections.defaultdict(list)
    for commit, at, _subject, _body, changes in git_log(snapshots):
        snapshot_at[commit] = at
        for status, path in changes:
            doc = document_of(path, ".html")
            if doc and status != "D":
                snapshot_by_instant[(doc, at)] = commit
                snapshots_of[doc].append((at, commit))

    per_document = collections.defaultdict(list)
    unmatched = []
    ota_versions = 0
    ota_deletions = 0
    ota_log = git_log(versions)
    for commit, at, subject, body, changes in ota_log:
        for status, path in changes:
            doc = document_of(path, ".md")
            if not doc:
                continue
            ota_versions += 1
            if status == "D":
                ota_deletions += 1
                continue
            named = SNAPSHOT_ID.search(body)
            snapshot = named.group(1) if named else None
            if snapshot not in snapshot_at:
                # The bundle's history was rewritten: named ids may not exist; OTA records a
                # version at the instant of the snapshot it extracted.
                snapshot = snapshot_by_instant.get((doc, at))
            if snapshot is None and subject.startswith(UPGRADE):
                # A re-extraction of the latest snapshot under new rules or engine.
                earlier = [c for t, c in snapshots_of[doc] if t <= at]
                snapshot = earlier[-1] if earlier else None
            if snapshot is None:
                unmatched.append((doc, commit, subject))
                continue
            theirs = run(["git", "-C", versions, "show", f"{commit}:{path}"]).decode()
            when = snapshot_at[snapshot]
            stamp = subprocess.run(
                ["date", "-u", "-d", f"@{when}", "+%Y-%m-%dT%H:%M:%SZ"],
                check=True, capture_output=True, text=True,
            ).stdout.strip()
            shown = subprocess.run(
                palimpsest + ["--json", "show", doc[0], doc[1], "--at", stamp],
                capture_output=True,
            )
            ours = json.loads(shown.stdout)["content"] if shown.returncode == 0 else ""
            per_document[doc].append((at, f1(ours, strip_markdown_links(theirs)), snapshot))

    latest = {}
    print(f"{'document':50} {'latest F1':>9} {'mean F1':>8} {'versions':>8}")
    for doc in sorted(per_document):
        scores = sorted(per_document[doc])
        latest[doc] = scores[-1][1]
        mean = statistics.mean(s for _, s, _ in scores)
        print(f"{doc[0] + ' / ' + doc[1]:50} {latest[doc]:9.3f} {mean:8.3f} {len(scores):8}")
    values = list(latest.values())
    every = [s for scores in per_document.values() for _, s, _ in scores]
    print()
    print(f"documents compared: {len(values)}; OTA versions compared: {len(every)}")
    print(f"latest version per document: median F1 {statistics.median(values):.3f}, "
          f"minimum {min(values):.3f}")
    print(f"every OTA version: median F1 {statistics.median(every):.3f}, minimum {min(every):.3f}")
    if unmatched:
        print(f"OTA versions without a snapshot at their instant (not compared): {len(unmatched)}")
        for doc, commit, subject in unmatched:
            print(f"  {commit[:10]} {subject}")
    for collection in report["collections"]:
        s = collection.get("snapshots")
        if s:
            print(
                f"snapshots: {s['read']} read ({s['commits']} commits) → {s['versions']} versions "
                f"kept ({s['unchanged']} unchanged, {s['skipped']} skipped, "
                f"{s['without_rules']} without rules); OTA recorded {ota_versions} "
                f"({ota_deletions} deletions) in {len(ota_log)} first-parent commits "
                f"from the same snapshots"
            )
    stats = json.loads(run(palimpsest + ["--json", "stats"]))
    print(f"stats: {stats['versions']} versions, {len(stats['without_rules'])} documents "
          f"extracted without rules, {stats['skipped_pdfs']} PDF skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
