#!/usr/bin/env python3
"""Acceptance check on real Open Terms Archive bundles: every recorded version comes back.

Clones the given bundles (default: pga and vlopses-us from ../shared/corpus), indexes them
into one index with the release binary, then checks against git itself:

1. the versions each document lists are exactly the commits that touched its file
   (additions, modifications, deletions), in recorded order, with the kind the subject gives;
2. `show --version ID` rebuilds every version's text from the index alone, equal to the blob
   of that commit (trailing whitespace aside);
3. `show --at RECORDED_AT` returns that same version, except where another version of the
   document was recorded at the very same instant (then the later one in archive order is in
   force; these ties are counted and listed) or a version was recorded with an author date
   earlier than the one before it (then the order is the recorded date, not the commit order);
4. `search` finds each document's newest version by a phrase taken from it.

Prints what was checked and every mismatch; exits non-zero on any mismatch.

    scripts/acceptance.py [--bin target/release/palimpsest] [--work DIR] [BUNDLE...]

(scripts/acceptance.sh builds the binary and runs this in a temporary folder.)
"""

import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
KINDS = [
    (("First record of", "Start tracking"), "first_record"),
    (("Record new changes of", "Update"), "change"),
    (("Apply technical or declaration upgrade on", "Refilter"), "technical_upgrade"),
]


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw).stdout


def kind_of(subject):
    for prefixes, kind in KINDS:
        if subject.startswith(prefixes):
            return kind
    return None


def git_versions(repo):
    """Per document (service, terms type): [(commit, author date epoch, kind, deleted)]."""
    log = run(
        [
            "git", "-C", repo, "log", "--first-parent", "--reverse", "--no-renames",
            "--diff-merges=first-parent", "--format=%x00%H%x09%at%x09%s", "--name-status",
        ]
    ).decode("utf-8", "replace")
    docs = collections.defaultdict(list)
    for block in log.split("\0")[1:]:
        header, _, files = block.partition("\n")
        commit, stamp, subject = header.split("\t", 2)
        for line in files.splitlines():
            if not line.strip():
                continue
            status, path = line.split("\t", 1)
            parts = path.split("/")
            if len(parts) != 2 or not parts[1].endswith(".md"):
                continue
            doc = (parts[0], parts[1][: -len(".md")])
            deleted = status.startswith("D")
            docs[doc].append((commit, int(stamp), kind_of(subject), deleted, path))
    # Recorded order: by author date, ties in archive (commit) order. Count the versions whose
    # author date is earlier than the one committed before them.
    backwards = 0
    for history in docs.values():
        backwards += sum(1 for a, b in zip(history, history[1:]) if b[1] < a[1])
        history.sort(key=lambda v: v[1])
    return docs, backwards


def epoch(rfc3339):
    from datetime import datetime

    return int(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp())


class Palimpsest:
    def __init__(self, binary, index):
        self.binary, self.index = binary, index

    def json(self, *args):
        out = subprocess.run(
            [self.binary, "--index", self.index, "--quiet", "--json", *args],
            capture_output=True,
        )
        if out.returncode != 0:
            return {"error": out.stderr.decode("utf-8", "replace").strip()}
        return json.loads(out.stdout)


def same_text(a, b):
    strip = lambda t: "\n".join(line.rstrip() for line in t.rstrip().split("\n"))
    return strip(a) == strip(b)


def phrase_from(text):
    """Four consecutive words of one line near the middle, as the tokenizer sees them (a
    line never straddles two sections)."""
    lines = text.split("\n")
    mid = len(lines) // 2
    for line in lines[mid:] + lines[:mid]:
        tokens = re.findall(r"[^\W_]+", line)
        for start in range(len(tokens) - 3):
            window = tokens[start : start + 4]
            if all(t.isascii() and len(t) <= 40 for t in window):
                return " ".join(window)
    return None


def check_collection(tool, repo, collection, workers):
    expected, backwards = git_versions(repo)
    cat = subprocess.Popen(
        ["git", "-C", repo, "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    lock = threading.Lock()

    def blob(commit, path):
        with lock:
            return read_blob(commit, path)

    def read_blob(commit, path):
        cat.stdin.write(f"{commit}:{path}\n".encode())
        cat.stdin.flush()
        header = cat.stdout.readline().split()
        if header[-1] == b"missing":
            return None
        data = cat.stdout.read(int(header[2]) + 1)[:-1]
        return data.decode("utf-8", "replace")

    def check_document(doc):
        service, terms_type = doc
        history = expected[doc]
        problems, stats = [], collections.Counter()
        listed = tool.json("versions", service, terms_type, "--collection", collection)
        if "error" in listed:
            return [f"{service} / {terms_type}: versions failed: {listed['error']}"], stats, []
        got = [(v["id"], epoch(v["recorded_at"]), v["kind"]) for v in listed["versions"]]
        want = [(c, t, "deleted" if d else k) for c, t, k, d, _ in history]
        if [g[:2] for g in got] != [w[:2] for w in want]:
            problems.append(
                f"{service} / {terms_type}: {len(got)} versions listed, {len(want)} in git "
                f"(first difference at {next((i for i, (g, w) in enumerate(zip(got, want)) if g[:2] != w[:2]), min(len(got), len(want)))})"
            )
            return problems, stats, []
        for (gid, _, gkind), (_, _, wkind) in zip(got, want):
            if wkind is not None and gkind != wkind:
                problems.append(f"{service} / {terms_type} {gid}: kind {gkind}, subject says {wkind}")
        texts = []
        for i, (commit, stamp, _, deleted, path) in enumerate(history):
            stats["versions"] += 1
            if deleted:
                stats["deletions"] += 1
                continue
            text = blob(commit, path)
            if text is None:
                problems.append(f"{service} / {terms_type} {commit}: no blob at {path}")
                continue
            shown = tool.json("show", service, terms_type, "--collection", collection, "--version", commit)
            if "error" in shown:
                problems.append(f"{service} / {terms_type} {commit}: show --version failed: {shown['error']}")
                continue
            if not same_text(shown["content"], text):
                problems.append(f"{service} / {terms_type} {commit}: rebuilt text differs from the blob")
                continue
            stats["rebuilt"] += 1
            texts.append(text)
            at = tool.json("show", service, terms_type, "--collection", collection, "--at", listed["versions"][i]["recorded_at"])
            # The last version recorded at this instant is the one in force at it.
            in_force = [c for c, t, *_ in history if t == stamp][-1]
            if "error" in at:
                problems.append(f"{service} / {terms_type} at {stamp}: show --at failed: {at['error']}")
            elif at["id"] == commit:
                stats["at_exact"] += 1
            elif at["id"] == in_force:
                stats["at_tie"] += 1
            else:
                problems.append(f"{service} / {terms_type}: show --at {listed['versions'][i]['recorded_at']} gave {at['id']}, expected {commit}")
        stats["documents"] += 1
        return problems, stats, texts[-1:] if not history[-1][3] else []

    totals, problems, latest = collections.Counter(), [], {}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(check_document, doc): doc for doc in sorted(expected)}
        for future in concurrent.futures.as_completed(futures):
            p, s, last = future.result()
            problems += p
            totals += s
            if last:
                latest[futures[future]] = last[0]
    cat.stdin.close()
    cat.wait()
    ties = sum(
        1
        for history in expected.values()
        for a, b in zip(history, history[1:])
        if a[1] == b[1]
    )
    # Searching the newest text of each document by a phrase from it finds that document.
    found = searched = 0
    for (service, terms_type), text in sorted(latest.items()):
        phrase = phrase_from(text)
        if not phrase:
            continue
        searched += 1
        result = tool.json(
            "search", f'"{phrase}"', "--service", service, "--terms-type", terms_type,
            "--collection", collection, "--limit", "1",
        )
        if "error" in result:
            problems.append(f"{service} / {terms_type}: search \"{phrase}\" failed: {result['error']}")
        elif result["total"] >= 1:
            found += 1
        else:
            problems.append(f"{service} / {terms_type}: search \"{phrase}\" found nothing in force")
    totals["searched"], totals["found"] = searched, found
    totals["same_instant_pairs"], totals["backwards"] = ties, backwards
    return totals, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundles", nargs="*", default=["pga-versions", "vlopses-us-versions"])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "palimpsest"))
    parser.add_argument("--work", help="folder for clones and the index (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if not os.path.exists(args.bin):
        sys.exit(f"no binary at {args.bin}: run `cargo build --release` first")
    work = args.work or tempfile.mkdtemp(prefix="palimpsest-acceptance-")
    repos = []
    for name in args.bundles:
        bundle = os.path.join(CORPUS, name if name.endswith(".bundle") else name + ".bundle")
        if not os.path.exists(bundle):
            sys.exit(f"no bundle at {bundle}: the real archives live in ../shared/corpus")
        repo = os.path.join(work, os.path.basename(bundle)[: -len(".bundle")])
        if not os.path.exists(repo):
            run(["git", "-c", "init.defaultBranch=main", "clone", "--quiet", bundle, repo])
        repos.append(repo)
    index = os.path.join(work, "index")
    started = time.monotonic()
    subprocess.run([args.bin, "--index", index, "--quiet", "index", "--rebuild", *repos], check=True)
    print(f"indexed {len(repos)} archives into one index in {time.monotonic() - started:.1f} s")
    tool = Palimpsest(args.bin, index)
    failures = 0
    for repo in repos:
        collection = re.sub(r"-versions$", "", os.path.basename(repo))
        started = time.monotonic()
        totals, problems = check_collection(tool, repo, collection, args.workers)
        failures += len(problems)
        print(
            f"{collection}: {totals['documents']} documents, {totals['versions']} versions "
            f"({totals['deletions']} deletions); rebuilt exactly {totals['rebuilt']}; "
            f"show --at its own instant: {totals['at_exact']} exact, {totals['at_tie']} "
            f"superseded by a version recorded at the same instant "
            f"({totals['same_instant_pairs']} same-instant pairs, {totals['backwards']} versions "
            f"dated before the commit preceding them); phrase search found "
            f"{totals['found']}/{totals['searched']} documents; {len(problems)} mismatches "
            f"[{time.monotonic() - started:.0f} s]"
        )
        for problem in problems[:50]:
            print("  MISMATCH", problem)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
