#!/usr/bin/env python3
"""Out of disk: `palimpsest index` on a full disk exits non-zero and leaves the previous index serving.

Needs root (it mounts tmpfs file systems) and ../shared/corpus. Each round mounts a small tmpfs,
indexes the built-in sample into it, starts `palimpsest serve` on that index, then indexes a
clone of pga-versions, much larger than the disk, into the same index. Checked:

1. the run exits non-zero, with a message that names the full disk, and no panic;
2. the index opens with every checksum right (`stats --verify`) and holds exactly the
   sample's versions, in one collection;
3. the server answers the same search the same way before and after the run;
4. the run removed what it wrote: `meta.json` is unchanged, and files that belong to no
   commit are few (a second indexing thread may finish a segment after the run gave up) and
   gone once the next run starts;
5. once the disk is made larger (remounted), rerunning `index` completes, every checksum is
   right, the index holds what a clean build on an ordinary disk holds (collections,
   documents, versions, spans), the folder holds only files of committed segments, and the
   server, still running, serves the new versions.

Rounds differ by disk size, so the disk fills at different points of the run.

    scripts/out_of_disk.py --bin target/debug/palimpsest --work DIR [--sizes 1024,2048,4096]
                           [--commits 800] [--larger 64]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")
SAMPLE = os.path.join(ROOT, "corpus", "sample")
QUERY = "/api/v1/search?q=arbitration&history=true"


def run(args, check=True):
    return subprocess.run(args, check=check, capture_output=True)


def stats(binary, index):
    """The index's stats after checking every file's checksum, or the error."""
    out = run([binary, "--index", index, "--quiet", "--json", "stats", "--verify"], check=False)
    if out.returncode != 0:
        return None, out.stderr.decode().strip()
    return json.loads(out.stdout), None


def get(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def serve(binary, index):
    """Starts `palimpsest serve` on a free port; returns the process and its base URL."""
    child = subprocess.Popen(
        [binary, "--index", index, "serve", "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = child.stdout.readline()
    # "http://127.0.0.1:PORT/ (the web page; Ctrl-C stops the server)"
    url = next((w for w in line.split() if w.startswith("http://")), None)
    if url is None:
        child.kill()
        sys.exit(f"serve did not start: {line!r}")
    return child, url.rstrip("/").removesuffix("/api/v1")


def mount(path, kib, remount=False):
    os.makedirs(path, exist_ok=True)
    options = f"size={kib}k" + (",remount" if remount else "")
    args = ["mount", "-o", options, path] if remount else ["mount", "-t", "tmpfs", "-o", options, "tmpfs", path]
    out = run(args, check=False)
    if out.returncode != 0:
        sys.exit(f"cannot mount a {kib} KiB tmpfs at {path} (this check needs root): {out.stderr.decode().strip()}")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def uncommitted(index):
    """Segment files in the index folder that its meta.json does not list, sorted."""
    meta = json.loads(read(os.path.join(index, "meta.json")))
    live = {s["segment_id"].replace("-", "") for s in meta["segments"]}
    return sorted(
        name for name in os.listdir(index)
        if not name.startswith(".") and name != "meta.json" and name.split(".")[0] not in live
    )


def used_kib(path):
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize // 1024


def counts(s):
    return {k: s[k] for k in ("collections", "documents", "versions", "spans")}


def build(binary, index, repo):
    """The sample then the archive, indexed on the ordinary disk: what the rounds must end with."""
    subprocess.run(["rm", "-rf", index])
    run([binary, "--index", index, "--quiet", "index", SAMPLE, "--collection", "sample"])
    run([binary, "--index", index, "--quiet", "index", repo, "--collection", "pga"])
    built, error = stats(binary, index)
    if built is None:
        sys.exit(f"the clean build does not check: {error}")
    return built


def round_(args, repo, size, reference):
    disk = os.path.join(args.work, f"disk-{size}k")
    mount(disk, size)
    server = None
    try:
        index = os.path.join(disk, "index")
        run([args.bin, "--index", index, "--quiet", "index", SAMPLE, "--collection", "sample"])
        before, error = stats(args.bin, index)
        if before is None:
            sys.exit(f"{size} KiB: the sample index does not check: {error}")
        files_before = set(os.listdir(index))
        meta_before = read(os.path.join(index, "meta.json"))
        used_before = used_kib(disk)
        server, url = serve(args.bin, index)
        answer_before = get(url + QUERY)

        started = time.time()
        failed = run([args.bin, "--index", index, "--quiet", "index", repo, "--collection", "pga"], check=False)
        seconds = time.time() - started
        stderr = failed.stderr.decode().strip()
        if failed.returncode == 0:
            sys.exit(f"{size} KiB: the run did not fill the disk; give a smaller size or more --commits")
        if "panicked" in stderr or "no space left on the disk holding the index" not in stderr:
            sys.exit(f"{size} KiB: unclear failure (exit {failed.returncode}): {stderr}")

        after, error = stats(args.bin, index)
        if after is None:
            sys.exit(f"{size} KiB: the index does not check after the failed run: {error}")
        if (after["versions"], after["collections"]) != (before["versions"], before["collections"]):
            sys.exit(f"{size} KiB: the index changed: {before} before, {after} after")
        if read(os.path.join(index, "meta.json")) != meta_before:
            sys.exit(f"{size} KiB: meta.json changed")
        left = sorted(set(os.listdir(index)) - files_before)
        if uncommitted(index) != left:
            sys.exit(f"{size} KiB: files left behind that are not a segment's: {left}")
        answer_after = get(url + QUERY)
        if answer_after != answer_before or answer_before["total"] == 0:
            sys.exit(f"{size} KiB: the server answers differently: {answer_before} then {answer_after}")

        mount(disk, args.larger * 1024, remount=True)
        rerun = run([args.bin, "--index", index, "--quiet", "--json", "index", repo, "--collection", "pga"], check=False)
        if rerun.returncode != 0:
            sys.exit(f"{size} KiB: rerunning index on the larger disk failed: {rerun.stderr.decode().strip()}")
        report = json.loads(rerun.stdout)
        final, error = stats(args.bin, index)
        if uncommitted(index):
            sys.exit(f"{size} KiB: after the rerun, files of no commit remain: {uncommitted(index)}")
        if final is None or counts(final) != counts(reference):
            sys.exit(f"{size} KiB: after the rerun: {error or counts(final)}; a clean build: {counts(reference)}")
        deadline = time.time() + 10
        while get(url + "/api/v1/stats")["versions"] != final["versions"]:
            if time.time() > deadline:
                sys.exit(f"{size} KiB: the server does not serve the completed run")
            time.sleep(0.2)
        message = stderr.splitlines()[-1]
        print(
            f"{size} KiB disk: index failed after {seconds:.1f} s with exit {failed.returncode} "
            f"({used_before} KiB used before, {used_kib(disk)} KiB after the rerun); "
            f"the index kept its {after['versions']} versions with checksums right, "
            f"{len(left)} files of no commit left (removed by the rerun); the server answered {answer_after['total']} hits before and after; "
            f"on {args.larger} MiB the rerun indexed {report['versions']} versions in {report['seconds']:.1f} s "
            f"and the server followed",
            flush=True,
        )
        return message
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        run(["umount", disk], check=False)
        os.rmdir(disk)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "debug", "palimpsest"))
    parser.add_argument("--work", required=True)
    parser.add_argument("--sizes", default="1024,2048,4096", help="disk sizes in KiB, one round each")
    parser.add_argument("--commits", type=int, default=800,
                        help="index the first N first-parent commits of pga-versions (0: all)")
    parser.add_argument("--larger", type=int, default=64, help="MiB the disk is remounted with")
    args = parser.parse_args()
    bundle = os.path.join(CORPUS, "pga-versions.bundle")
    if not os.path.exists(bundle):
        sys.exit(f"{bundle} is missing: this check needs ../shared/corpus")
    os.makedirs(args.work, exist_ok=True)
    repo = os.path.join(args.work, "pga-versions")
    if not os.path.isdir(repo):
        run(["git", "clone", "--quiet", "--no-checkout", bundle, repo])
    commits = run(["git", "-C", repo, "rev-list", "--first-parent", "--reverse", "refs/remotes/origin/HEAD"]).stdout.decode().split()
    tip = commits[args.commits - 1] if 0 < args.commits <= len(commits) else commits[-1]
    run(["git", "-C", repo, "update-ref", "HEAD", tip])
    started = time.time()
    reference = build(args.bin, os.path.join(args.work, "reference"), repo)
    message = None
    for size in [int(s) for s in args.sizes.split(",")]:
        message = round_(args, repo, size, reference)
    print(f"all rounds passed in {time.time() - started:.0f} s; the message: {message}")


if __name__ == "__main__":
    main()
