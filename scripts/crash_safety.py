#!/usr/bin/env python3
"""Crash safety of `palimpsest index`: kill it with SIGKILL at random points, again and again.

On a clone of pga-versions (../shared/corpus), each round moves the branch forward to a
random later commit, starts `palimpsest index` and kills it with SIGKILL after a random
delay. After each kill:

1. the index opens and every file's checksum is right (`stats --verify`), unless no run ever
   completed;
2. it holds exactly the versions of a completed run: the count before the killed run, or the
   count the same run gives when it is let finish (checked by rerunning it), never one in
   between (a run is one Tantivy commit);
3. rerunning `index` completes.

At the end the index built through all those kills is compared with a clean build of the same
commit: the same services, versions, spans and a history for a set of phrases.

    scripts/crash_safety.py --bin target/release/palimpsest --work DIR [--rounds 100] [--seed 1]
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


def run(args, check=True):
    return subprocess.run(args, check=check, capture_output=True)


def stats(binary, index):
    """The index's stats after checking every file's checksum."""
    out = run([binary, "--index", index, "--quiet", "--json", "stats", "--verify"], check=False)
    if out.returncode != 0:
        return None, out.stderr.decode().strip()
    return json.loads(out.stdout), None


def observe(binary, index):
    """What a user sees of an index, for comparing two builds."""
    parts = []
    for args in (["services"], ["history", "privacy"], ["history", '"personal data"'],
                 ["changes", "--limit", "100", "--first-records", "--technical-upgrades"]):
        out = run([binary, "--index", index, "--quiet", "--json", *args])
        parts.append(out.stdout.decode())
    s, _ = stats(binary, index)
    parts.append(json.dumps({k: s[k] for k in ("collections", "documents", "versions", "spans")}))
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "palimpsest"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bundle = os.path.join(CORPUS, "pga-versions.bundle")
    if not os.path.exists(bundle):
        sys.exit(f"{bundle} is missing: this check needs ../shared/corpus")
    rng = random.Random(args.seed)
    repo = os.path.join(args.work, "pga-versions")
    if not os.path.isdir(repo):
        run(["git", "clone", "--quiet", "--no-checkout", bundle, repo])
    commits = run(["git", "-C", repo, "rev-list", "--first-parent", "--reverse", "HEAD"]).stdout.decode().split()
    head = commits[-1]
    index = os.path.join(args.work, "index")
    index_cmd = [args.bin, "--index", index, "--quiet", "index", repo, "--collection", "pga"]

    position = 0
    kills = mid_states = before_states = after_states = fresh = 0
    started = time.time()
    for round_no in range(1, args.rounds + 1):
        # Move forward: a run indexes what is new since the last completed run.
        if position >= len(commits) - 1:
            position = 0
            subprocess.run(["rm", "-rf", index])
        position = min(len(commits) - 1, position + rng.randint(1, len(commits) // 8))
        run(["git", "-C", repo, "update-ref", "refs/heads/main", commits[position]])
        run(["git", "-C", repo, "symbolic-ref", "HEAD", "refs/heads/main"])
        before, _ = stats(args.bin, index)
        child = subprocess.Popen(index_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # A run over a few hundred commits takes about a second: kill within that.
        time.sleep(rng.uniform(0.0, 1.2))
        killed = child.poll() is None
        if killed:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
        mid, error = stats(args.bin, index)
        if mid is None and (before is not None or "damaged" in (error or "")):
            sys.exit(f"round {round_no}: the index does not open after the kill: {error}")
        finish = run(index_cmd, check=False)
        if finish.returncode != 0:
            sys.exit(f"round {round_no}: rerunning index failed: {finish.stderr.decode()}")
        after, error = stats(args.bin, index)
        if after is None:
            sys.exit(f"round {round_no}: no index after a completed run: {error}")
        # Before any completed run, an index may exist with nothing committed in it yet.
        allowed = {after["versions"]} | ({before["versions"]} if before else {None, 0})
        seen = mid["versions"] if mid else None
        if seen not in allowed:
            sys.exit(
                f"round {round_no}: after the kill the index holds {seen} versions; "
                f"a completed run gives {sorted(v for v in allowed if v is not None)}"
            )
        if killed:
            if mid is None or (before is None and mid["versions"] == 0):
                fresh += 1
            elif before and mid["versions"] == before["versions"] and before["versions"] != after["versions"]:
                before_states += 1
            elif mid["versions"] == after["versions"]:
                after_states += 1
            else:
                mid_states += 1
        print(
            f"round {round_no}: commit {position + 1}/{len(commits)}, "
            f"{'killed' if killed else 'finished before the kill'}; versions before {before and before['versions']}, "
            f"after the kill {seen}, after the rerun {after['versions']}",
            flush=True,
        )

    # The index built through the kills against a clean build of the same commit.
    run(["git", "-C", repo, "update-ref", "refs/heads/main", commits[position]])
    run(index_cmd)
    clean = os.path.join(args.work, "clean")
    subprocess.run(["rm", "-rf", clean])
    run([args.bin, "--index", clean, "--quiet", "index", repo, "--collection", "pga"])
    same = observe(args.bin, index) == observe(args.bin, clean)
    print(
        f"{args.rounds} rounds in {time.time() - started:.0f} s: {kills} runs killed "
        f"({before_states} left the previous run's state, {after_states} had already committed, "
        f"{fresh} before any commit, {mid_states} in between); every index opened with its checksums right; "
        f"the index built through the kills {'equals' if same else 'DIFFERS FROM'} a clean build"
    )
    if not same:
        sys.exit(1)
    run(["git", "-C", repo, "update-ref", "refs/heads/main", head])


if __name__ == "__main__":
    main()
