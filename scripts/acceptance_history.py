#!/usr/bin/env python3
"""Acceptance of `history` on real Open Terms Archive bundles, against `git log -S`.

1. Agreement: indexes pga and vlopses-us (../shared/corpus), samples phrases at random from
   random versions (a seeded random generator: the same phrases every run), and checks that
   `history`'s `first_seen` for that document equals the author date of the first commit
   whose file contains the phrase, as `git log -S PHRASE --reverse -- FILE` finds it. Every
   disagreement is printed with its cause when one is recognised:
   - `tokenization`: an earlier version holds the same words with other case, punctuation
     or line breaks between them; a phrase query matches words, `git log -S` bytes;
   - `date order`: the commit that first holds the phrase carries an author date later than
     a commit of the same file after it in archive order; `history` orders versions by
     recorded date (and a text replaced at the very instant it appeared was never in force).
2. Speed: on contrib-versions (the largest bundle), times the same kind of question both
   ways for fresh phrases: `git log -S PHRASE -- FILE` and `GET /api/v1/history` on a
   running `palimpsest serve` over one kept-alive connection (best of 3, filtered to that
   document as git is to that file), and prints the median ratio. The CLI's time (process start and index opening included) is
   printed too.

    scripts/acceptance_history.py --bin target/release/palimpsest --work DIR
        [--phrases 50] [--seed 1] [--timing-phrases 50] [--no-timing]

(scripts/acceptance-history.sh builds the binary and runs this in a temporary folder.)
"""

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import http.client
import urllib.parse
import urllib.request
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
WORD = re.compile(r"[^\W\d_]+")
# Five or more whole words of letters (any script) separated by single spaces, not glued to a
# letter, digit or underscore on either side: what both the tokenizer and git see as words.
RUN = re.compile(r"(?<!\w)(?:[^\W\d_]{2,} ){4,}[^\W\d_]{2,}(?!\w)")


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, **kw).stdout


def utc(iso):
    """An ISO 8601 instant with any offset, as RFC 3339 UTC ending in Z."""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def clone(bundle, work):
    path = os.path.join(CORPUS, bundle + ".bundle")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: this check needs ../shared/corpus")
    repo = os.path.join(work, bundle)
    if not os.path.isdir(repo):
        run(["git", "clone", "--quiet", "--no-checkout", path, repo])
    return repo


def index(binary, index_dir, repo):
    start = time.time()
    run([binary, "--index", index_dir, "--quiet", "index", repo])
    return time.time() - start


def versions(repo):
    """(commit, path) of every added or modified document file, first-parent history."""
    log = run(
        ["git", "-C", repo, "log", "--first-parent", "--no-renames", "--format=%x00%H",
         "--name-status", "--diff-filter=AM"]
    ).decode("utf-8", "replace")
    found = []
    for block in log.split("\0")[1:]:
        commit, _, files = block.partition("\n")
        for line in files.splitlines():
            if "\t" not in line:
                continue
            path = line.split("\t", 1)[1]
            parts = path.split("/")
            if len(parts) == 2 and parts[1].endswith(".md"):
                found.append((commit.strip(), path))
    return found


def phrase_in(text, rng):
    """Five to seven consecutive whole words, exactly as they stand in one line of the text
    (so `git log -S` can find the bytes, and the line keeps them inside one section)."""
    lines = [l for l in text.split("\n") if len(WORD.findall(l)) >= 8]
    rng.shuffle(lines)
    for line in lines:
        runs = [r for r in RUN.findall(line) if len(r.split()) >= 5]
        if runs:
            words = rng.choice(runs).split()
            n = rng.randint(5, min(7, len(words)))
            start = rng.randint(0, len(words) - n)
            return " ".join(words[start : start + n])
    return None


def sample(repo, count, rng, seen):
    population = versions(repo)
    picked = []
    attempts = 0
    while len(picked) < count and attempts < count * 20:
        attempts += 1
        commit, path = rng.choice(population)
        text = run(["git", "-C", repo, "show", f"{commit}:{path}"]).decode("utf-8", "replace")
        phrase = phrase_in(text, rng)
        if phrase and (path, phrase) not in seen:
            seen.add((path, phrase))
            picked.append((path, phrase))
    return picked


def git_first(repo, path, phrase):
    """Author date (UTC) and commit of the first commit whose file holds the phrase."""
    out = run(
        ["git", "-C", repo, "log", "--first-parent", "-S", phrase, "--reverse",
         "--format=%H%x09%aI", "--", path]
    ).decode()
    for line in out.splitlines():
        commit, date = line.split("\t")
        return utc(date), commit
    return None, None


def normalized(text):
    return " ".join(re.findall(r"[^\W_]+", text.lower()))


def history(binary, index_dir, collection, path, phrase):
    service, terms_type = path[: -len(".md")].split("/", 1)
    out = subprocess.run(
        [binary, "--index", index_dir, "--quiet", "--json", "history", f'"{phrase}"',
         "--service", service, "--terms-type", terms_type, "--collection", collection],
        capture_output=True,
    )
    if out.returncode != 0:
        return None, out.stderr.decode().strip()
    docs = json.loads(out.stdout)["documents"]
    return (docs[0]["first_seen"] if docs else None), None


def explain(repo, path, phrase, ours, theirs, commit):
    """Why `history` and `git log -S` disagree, when the cause is a known one."""
    if ours and theirs and ours < theirs:
        # Which version did we see it in first? The commits of that file at our date.
        log = run(
            ["git", "-C", repo, "log", "--first-parent", "--format=%H%x09%aI", "--", path]
        ).decode()
        for line in log.splitlines():
            c, date = line.split("\t")
            if utc(date) == ours:
                try:
                    text = run(["git", "-C", repo, "show", f"{c}:{path}"]).decode("utf-8", "replace")
                except subprocess.CalledProcessError:
                    continue
                if phrase not in text and normalized(phrase) in normalized(text):
                    return "tokenization: an earlier version has the same words with other case, punctuation or line breaks"
    if ours and theirs:
        later = run(
            ["git", "-C", repo, "log", "--first-parent", "--format=%aI", f"{commit}..HEAD", "--", path]
        ).decode().split()
        if any(utc(d) < theirs for d in later):
            return "date order: a later commit of the file carries an earlier author date"
    return "unexplained"


def agreement(args, work, rng):
    index_dir = os.path.join(work, "index")
    repos = {}
    for bundle in args.bundles:
        repo = clone(bundle, work)
        seconds = index(args.bin, index_dir, repo)
        collection = bundle[: -len("-versions")] if bundle.endswith("-versions") else bundle
        repos[bundle] = (repo, collection)
        print(f"indexed {bundle} in {seconds:.1f} s")
    seen = set()
    per_bundle = [args.phrases // len(args.bundles)] * len(args.bundles)
    per_bundle[0] += args.phrases - sum(per_bundle)
    agree = 0
    causes = {}
    checked = 0
    for bundle, count in zip(args.bundles, per_bundle):
        repo, collection = repos[bundle]
        for path, phrase in sample(repo, count, rng, seen):
            checked += 1
            ours, error = history(args.bin, index_dir, collection, path, phrase)
            theirs, commit = git_first(repo, path, phrase)
            if ours == theirs and ours is not None:
                agree += 1
                continue
            cause = error or explain(repo, path, phrase, ours, theirs, commit)
            causes[cause.split(":")[0]] = causes.get(cause.split(":")[0], 0) + 1
            print(f"  differs: {bundle} {path} \"{phrase}\": history {ours}, git log -S {theirs} ({cause})")
    print(f"history first_seen agrees with git log -S: {agree}/{checked}")
    for cause, n in sorted(causes.items()):
        print(f"  {cause}: {n}")
    return agree, checked, causes


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timing(args, work, rng):
    repo = args.contrib or clone("contrib-versions", work)
    index_dir = os.path.join(work, "contrib-index")
    seconds = index(args.bin, index_dir, repo)
    print(f"indexed contrib-versions in {seconds:.1f} s")
    phrases = sample(repo, args.timing_phrases, rng, set())
    port = free_port()
    server = subprocess.Popen(
        [args.bin, "--index", index_dir, "--quiet", "serve", "--addr", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        # One kept-alive connection, as a client of the API would hold.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ratios, http_times, git_times, cli_times = [], [], [], []
        collection = "contrib"
        for path, phrase in phrases:
            service, terms_type = path[: -len(".md")].split("/", 1)
            query = urllib.parse.urlencode(
                {"q": f'"{phrase}"', "service": service, "terms_type": terms_type}
            )
            best = None
            for _ in range(3):
                start = time.perf_counter()
                connection.request("GET", f"/api/v1/history?{query}")
                body = connection.getresponse().read()
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
            ours = json.loads(body)["documents"]
            start = time.perf_counter()
            git_first(repo, path, phrase)
            git_seconds = time.perf_counter() - start
            start = time.perf_counter()
            history(args.bin, index_dir, collection, path, phrase)
            cli_times.append(time.perf_counter() - start)
            http_times.append(best)
            git_times.append(git_seconds)
            ratios.append(git_seconds / best)
            if not ours:
                print(f"  no history for {path} \"{phrase}\"")
        print(
            f"contrib-versions, {len(phrases)} phrases: git log -S median {statistics.median(git_times) * 1000:.0f} ms, "
            f"history over HTTP median {statistics.median(http_times) * 1000:.2f} ms, "
            f"CLI median {statistics.median(cli_times) * 1000:.0f} ms"
        )
        print(f"median ratio git log -S / history (HTTP): {statistics.median(ratios):.0f}x")
        # The HTTP round trip itself, measured on the same connection: what is left is the
        # engine's time.
        trips = []
        for _ in range(50):
            start = time.perf_counter()
            connection.request("GET", "/api/v1/health")
            connection.getresponse().read()
            trips.append(time.perf_counter() - start)
        trip = statistics.median(trips)
        engine = [max(h - trip, 1e-6) for h in http_times]
        print(
            f"HTTP round trip (GET /api/v1/health) median {trip * 1000:.2f} ms; "
            f"median ratio git log -S / history without it: "
            f"{statistics.median(g / e for g, e in zip(git_times, engine)):.0f}x"
        )
        print(f"median ratio git log -S / history (CLI process): "
              f"{statistics.median(g / c for g, c in zip(git_times, cli_times)):.0f}x")
        endpoints(connection)
    finally:
        server.terminate()
        server.wait()


def diff_of_longest_history(connection):
    """A diff of the first and the latest version of the document with most versions."""
    connection.request("GET", "/api/v1/services")
    services = json.loads(connection.getresponse().read())["services"]
    service, doc = max(
        ((s["service"], d) for s in services for d in s["documents"]),
        key=lambda pair: pair[1]["versions"],
    )
    quote = lambda text: urllib.parse.quote(text, safe="")
    return (
        f"/api/v1/diff/{quote(service)}/{quote(doc['terms_type'])}"
        f"?from={quote(doc['first_recorded'])}&collection={quote(doc['collection'])}"
    )


def endpoints(connection):
    """The other time-travel endpoints on the same server, against a search in the same run."""
    def median_ms(target, runs=5):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            connection.request("GET", target)
            response = connection.getresponse()
            response.read()
            times.append(time.perf_counter() - start)
            if response.status != 200:
                sys.exit(f"{target}: HTTP {response.status}")
        return statistics.median(times) * 1000

    baseline = median_ms("/api/v1/search?q=arbitration")
    print(f"other endpoints, median of 5, against GET /api/v1/search?q=arbitration ({baseline:.1f} ms):")
    for target in [
        "/api/v1/changes?from=2026-07-01",
        "/api/v1/changes?q=arbitration&from=2025-01-01",
        "/api/v1/changes?q=arbitration",
        "/api/v1/changes",
        "/api/v1/changes.atom?q=arbitration",
        "/api/v1/history?q=arbitration",
        "/api/v1/trend?q=arbitration",
        "/api/v1/trend?q=arbitration&by=year&terms_type=Terms+of+Service",
    ] + [diff_of_longest_history(connection)]:
        ms = median_ms(target)
        print(f"  {target}: {ms:.1f} ms ({ms / baseline:.1f}x the search)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "palimpsest"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--phrases", type=int, default=50)
    parser.add_argument("--timing-phrases", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--contrib", help="an existing clone of contrib-versions")
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("bundles", nargs="*", default=["pga-versions", "vlopses-us-versions"])
    args = parser.parse_args()
    if not os.path.isdir(CORPUS):
        sys.exit(f"{CORPUS} is missing: this check needs the real bundles")
    rng = random.Random(args.seed)
    agreement(args, args.work, rng)
    if not args.no_timing:
        timing(args, args.work, rng)


if __name__ == "__main__":
    main()
