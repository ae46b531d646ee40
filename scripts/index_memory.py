#!/usr/bin/env python3
"""Indexing memory against a crafted archive: many documents sharing one large text.

Writes a git archive of --documents documents (`Svc NNN/Terms of Service.md`), recorded in
one commit, all holding the same blob of about --mib MiB of paragraphs without headings
(one section each), so the archive is a few hundred KiB on disk while its text, decompressed,
is documents x mib. With --distinct, each document's text differs by its first paragraph
(git then stores one blob each, still a few KiB compressed apiece).

Indexes it into a fresh index with `palimpsest index` under /usr/bin/time and prints one
JSON object: the archive's size on disk, the text decompressed, wall time and peak RSS.

    python3 scripts/index_memory.py --bin target/release/palimpsest [--work DIR]
"""

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import tempfile


def git(repo, *args):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e",
               GIT_AUTHOR_DATE="2024-01-01T00:00:00Z", GIT_COMMITTER_DATE="2024-01-01T00:00:00Z")
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def blob(mib):
    """About `mib` MiB of paragraphs of words, no heading."""
    rng = random.Random(7)
    words = [w for w in re.findall(r"[a-z]+", __doc__.lower()) if len(w) > 2]
    paragraphs, size = [], 0
    while size < mib * 2**20:
        paragraph = " ".join(rng.choice(words) for _ in range(60)).capitalize() + "."
        paragraphs.append(paragraph)
        size += len(paragraph) + 2
    return "\n\n".join(paragraphs) + "\n"


def write_archive(repo, documents, mib, distinct):
    os.makedirs(repo)
    git(repo, "init", "-q", "-b", "main")
    text = blob(mib)
    for n in range(documents):
        folder = os.path.join(repo, f"Svc {n:03}")
        os.makedirs(folder)
        own = f"Service number {n} states this first.\n\n" if distinct else ""
        with open(os.path.join(folder, "Terms of Service.md"), "w") as f:
            f.write(own + text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "First record of every service's Terms of Service")
    git(repo, "gc", "-q", "--aggressive")
    return documents * len(text)


def disk_bytes(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="target/release/palimpsest")
    parser.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--mib", type=float, default=5)
    parser.add_argument("--distinct", action="store_true")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="index-memory-")
    shutil.rmtree(work, ignore_errors=True)
    repo, index = os.path.join(work, "archive"), os.path.join(work, "index")
    text_bytes = write_archive(repo, args.documents, args.mib, args.distinct)
    run = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", os.path.abspath(args.bin),
                          "--index", index, "index", repo, "--collection", "crafted"],
                         capture_output=True, text=True)
    seconds, kib = run.stderr.strip().splitlines()[-1].split()[1:]
    print(json.dumps({
        "exit": run.returncode,
        "archive_kib": disk_bytes(os.path.join(repo, ".git")) // 1024,
        "text_mib": round(text_bytes / 2**20, 1),
        "seconds": float(seconds),
        "peak_rss_mib": int(kib) // 1024,
        "report": run.stdout.strip().splitlines()[-1:] + run.stderr.strip().splitlines()[-3:-1],
    }, indent=1))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
