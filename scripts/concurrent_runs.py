#!/usr/bin/env python3
"""Concurrent indexing runs: two or three `palimpsest index` / `index --rebuild` at once.

On a clone of pga-versions (../shared/corpus), each round moves the branch to another commit
of its first `--commits` commits (forward by a random step; past the end, back to a random
earlier commit, which rewrites the history under the indexed collection), then starts two
or three indexing runs on one index, each an update or a rebuild at random, each after a
random delay, while a reader opens the index every 50 ms (its failures are counted and
printed: a reader that opens the index while a writer replaces its files can fail once, and
succeeds when it opens it again). After each round:

1. every run completed (exit 0) or was refused because another run held the index; at least
   one completed; none printed a panic or a missing-file error;
2. the index opens and every file's checksum is right (`stats --verify`);
3. it holds exactly the versions of a clean build of the branch's commit (built once per
   commit into a separate index), so no run left half of itself or a dropped history;
4. rerunning `index` adds nothing.

At the end the index is compared with a clean build of the last commit (services, stats,
two histories and a page of changes, as JSON).

    scripts/concurrent_runs.py --bin target/release/palimpsest --work DIR [--rounds 100] [--commits 1000]
        [--max-delay 0.3] [--seed 1]
"""

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
# How a run says another holds the index: the run lock, or Tantivy's writer lock inside it.
REFUSED = ("another indexing run is writing the index", "is another `index` running?")


def run(args, check=True):
    return subprocess.run(args, check=check, capture_output=True)


def stats(binary, index):
    """The index's stats after checking every file's checksum, or the error."""
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


class Prober(threading.Thread):
    """Opens the index (`stats`) every 50 ms while runs go on, counting failures."""

    def __init__(self, binary, index):
        super().__init__(daemon=True)
        self.binary, self.index = binary, index
        self.stop = threading.Event()
        self.probes = self.failures = 0
        self.errors = []

    def run(self):
        while not self.stop.is_set():
            out = run([self.binary, "--index", self.index, "--quiet", "--json", "stats"], check=False)
            self.probes += 1
            if out.returncode != 0:
                self.failures += 1
                self.errors.append(out.stderr.decode().strip())
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "palimpsest"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--commits", type=int, default=1000, help="use the first N commits")
    parser.add_argument("--max-delay", type=float, default=0.3,
                        help="most seconds between the starts of two runs of a round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bundle = os.path.join(CORPUS, "pga-versions.bundle")
    if not os.path.exists(bundle):
        sys.exit(f"{bundle} is missing: this check needs ../shared/corpus")
    rng = random.Random(args.seed)
    repo = os.path.join(args.work, "pga-versions")
    if not os.path.isdir(repo):
        run(["git", "clone", "--quiet", "--no-checkout", bundle, repo])
        # The branch moves in every round (and stays where a failed round left it): the
        # bundle's own head is kept under another name.
        run(["git", "-C", repo, "update-ref", "refs/tips/bundle", "HEAD"])
    all_commits = run(["git", "-C", repo, "rev-list", "--first-parent", "--reverse", "refs/tips/bundle"]).stdout.decode().split()
    head = all_commits[-1]
    commits = all_commits[: args.commits]
    index = os.path.join(args.work, "index")
    clean = os.path.join(args.work, "clean")
    subprocess.run(["rm", "-rf", index, index + ".rebuilding", index + ".old", index + ".lock"])
    base = [args.bin, "--index", index, "--quiet", "index", repo, "--collection", "pga"]
    clean_counts = {}

    def clean_count(position):
        if position not in clean_counts:
            subprocess.run(["rm", "-rf", clean])
            run([args.bin, "--index", clean, "--quiet", "index", repo, "--collection", "pga"])
            clean_counts[position] = stats(args.bin, clean)[0]["versions"]
        return clean_counts[position]

    def move(position):
        run(["git", "-C", repo, "update-ref", "refs/heads/main", commits[position]])
        run(["git", "-C", repo, "symbolic-ref", "HEAD", "refs/heads/main"])

    position = 0
    totals = {"runs": 0, "updates": 0, "rebuilds": 0, "completed": 0, "refused": 0,
              "rounds_all_completed": 0, "backward": 0}
    probes = failures = 0
    probe_errors = []
    started = time.time()
    for round_no in range(1, args.rounds + 1):
        step = rng.randint(1, max(1, len(commits) // 8))
        if position + step >= len(commits):
            position = rng.randint(0, max(0, position - 1))
            totals["backward"] += 1
        else:
            position += step
        move(position)
        kinds = [rng.choice(["update", "rebuild"]) for _ in range(rng.choice([2, 3]))]
        # Before the first round completes there is no index to open.
        prober = Prober(args.bin, index)
        if round_no > 1:
            prober.start()
        children = []
        for kind in kinds:
            time.sleep(rng.uniform(0.0, args.max_delay))
            cmd = base + (["--rebuild"] if kind == "rebuild" else [])
            children.append((kind, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)))
        outcomes = []
        for kind, child in children:
            _, err = child.communicate()
            err = err.decode()
            totals["runs"] += 1
            totals[kind + "s"] += 1
            if "panicked" in err or "FileDoesNotExist" in err:
                sys.exit(f"round {round_no}: a {kind} run failed badly: {err}")
            if child.returncode == 0:
                outcomes.append(f"{kind} done")
                totals["completed"] += 1
            elif any(r in err for r in REFUSED):
                outcomes.append(f"{kind} refused")
                totals["refused"] += 1
            else:
                sys.exit(f"round {round_no}: a {kind} run failed: {err}")
        prober.stop.set()
        if round_no > 1:
            prober.join()
        probes += prober.probes
        failures += prober.failures
        probe_errors += prober.errors
        if not any(o.endswith("done") for o in outcomes):
            sys.exit(f"round {round_no}: no run completed: {outcomes}")
        if all(o.endswith("done") for o in outcomes):
            totals["rounds_all_completed"] += 1
        after, error = stats(args.bin, index)
        if after is None:
            sys.exit(f"round {round_no}: the index does not open: {error}")
        expected = clean_count(position)
        if after["versions"] != expected:
            sys.exit(f"round {round_no}: the index holds {after['versions']} versions, a clean build {expected}")
        rerun = json.loads(run(base[:3] + ["--json"] + base[3:]).stdout)
        if rerun["versions"] != 0:
            sys.exit(f"round {round_no}: rerunning index added {rerun['versions']} versions")
        print(f"round {round_no}: commit {position + 1}/{len(commits)}, {', '.join(outcomes)}; "
              f"{after['versions']} versions, as a clean build", flush=True)

    move(position)
    subprocess.run(["rm", "-rf", clean])
    run([args.bin, "--index", clean, "--quiet", "index", repo, "--collection", "pga"])
    same = observe(args.bin, index) == observe(args.bin, clean)
    print(
        f"{args.rounds} rounds in {time.time() - started:.0f} s: {totals['runs']} runs "
        f"({totals['updates']} updates, {totals['rebuilds']} rebuilds), {totals['completed']} completed, "
        f"{totals['refused']} refused, 0 failed otherwise; {totals['rounds_all_completed']} rounds in which "
        f"no run overlapped another; {totals['backward']} moves back (rewritten history); "
        f"every round the index verified and held a clean build's versions, and a rerun added none; "
        f"reader probes {probes}, failed {failures}; "
        f"the final index {'equals' if same else 'DIFFERS FROM'} a clean build"
    )
    for error in sorted(set(probe_errors))[:5]:
        print(f"probe error: {error}")
    run(["git", "-C", repo, "update-ref", "refs/heads/main", head])
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
