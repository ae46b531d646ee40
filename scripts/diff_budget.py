#!/usr/bin/env python3
"""Diffs within their budget: two crafted git archives served by `palimpsest serve`.

1. Rewritten lines: one section of --lines `x` lines rewritten as `y` lines (two commits).
   A small second document is the target of cheap searches (`search?q=cookies&limit=1`,
   --clients keep-alive connections), which run for --window seconds alone, then for
   --attack seconds while four clients loop on plain `GET /api/v1/changes` (the line diff used to run unbounded, past the time budget, holding
   the slots), then for --window seconds after. Prints the throughput of each phase, its
   ratio to the first, the statuses of the attack's answers, and the server's peak RSS.
2. A long section: one section of about --section-kib KiB in paragraphs, --versions versions
   each rewriting one paragraph. Times `changes?limit=100`, the same with `full_text=true`,
   and four of the former at once, with the server's peak RSS for each and its RSS a few
   seconds after.

Everything runs on 127.0.0.1, every loop is bounded in time, and the servers are stopped at
the end. Prints one JSON object.

    python3 scripts/diff_budget.py --bin target/release/palimpsest [--work DIR]
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SERVICE_FILE = "Terms of Service.md"


def git(repo, *args, date=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@e")
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def archive(repo, service, texts, others=None):
    """A git archive of `service`'s terms, one commit per text, a day apart; the first commit
    also records `others` (service: text)."""
    os.makedirs(repo, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    for day, text in enumerate(texts):
        files = {service: text, **((others or {}) if day == 0 else {})}
        for name, content in files.items():
            os.makedirs(os.path.join(repo, name), exist_ok=True)
            with open(os.path.join(repo, name, SERVICE_FILE), "w") as f:
                f.write(content)
        git(repo, "add", "-A")
        subject = ("First record of" if day == 0 else "Record new changes of") + f" {service} Terms of Service"
        date = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(1704067200 + day * 86400))
        git(repo, "commit", "-qm", subject, date=date)
    git(repo, "gc", "-q", "--aggressive")


def packed_kib(repo):
    total = 0
    for root, _, files in os.walk(os.path.join(repo, ".git", "objects")):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    return round(total / 1024)


def rewritten_lines(lines):
    return ["# Rewritten\n\n" + "x\n" * lines, "# Rewritten\n\n" + "y\n" * lines]


def long_section(kib, versions):
    paragraph = "We keep the data you give us for as long as the law requires, then delete it. "
    count = kib * 1024 // (len(paragraph) * 4 + 16)

    def text(edits):
        body = "".join(
            f"{i} " + (paragraph if i not in edits else f"Revised {edits[i]}: " + paragraph) * 4 + "\n\n"
            for i in range(count))
        return "# Long\n\n" + body

    return [text({i * 7 % count: i for i in range(1, v + 1)}) for v in range(versions)]


def index(binary, idx, repo, collection):
    started = time.monotonic()
    subprocess.run([binary, "--index", idx, "index", repo, "--collection", collection, "--quiet"],
                   check=True, capture_output=True)
    return round(time.monotonic() - started, 1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Peak(threading.Thread):
    """The server's highest VmRSS, sampled every 50 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopping = pid, 0.0, threading.Event()

    def run(self):
        while not self.stopping.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.join()
        return round(self.peak, 1)


def get(port, target, timeout):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        size = len(response.read())
        return response.status, size, round(time.monotonic() - started, 2)
    except OSError:
        return "timeout", 0, round(time.monotonic() - started, 2)
    finally:
        conn.close()


class Server:
    def __init__(self, binary, idx, extra):
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--index", idx, "serve", "--addr", f"127.0.0.1:{self.port}", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if self.process.poll() is not None:
                sys.exit(f"the server exited with {self.process.returncode}")
            try:
                if get(self.port, "/api/v1/health", 1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit("the server did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def loop(port, target, until, counts, timeout):
    """GETs `target` on one keep-alive connection until `until`; counts answers by status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    while time.monotonic() < until:
        try:
            conn.request("GET", target)
            response = conn.getresponse()
            response.read()
            key = response.status
        except (OSError, http.client.HTTPException):
            key = "error"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        counts[key] = counts.get(key, 0) + 1
    conn.close()


def phase(port, target, clients, seconds, timeout=5):
    """`clients` loops on `target` for `seconds`: answers a second and statuses."""
    until = time.monotonic() + seconds
    tallies = [{} for _ in range(clients)]
    threads = [threading.Thread(target=loop, args=(port, target, until, t, timeout)) for t in tallies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = {}
    for tally in tallies:
        for k, v in tally.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    ok = statuses.get("200", 0)
    return {"ok_per_s": round(ok / seconds, 1), "statuses": statuses}


def attack(args, work):
    repo = os.path.join(work, "lines")
    archive(repo, "Lines", rewritten_lines(args.lines),
            {"Small": "# Small\n\n## Cookies\n\nWe use cookies to remember your language.\n"})
    idx = os.path.join(work, "lines-index")
    indexed = index(args.bin, idx, repo, "lines")
    server = Server(args.bin, idx, args.serve_args.split())
    peak = Peak(server.process.pid)
    peak.start()
    cheap = "/api/v1/search?q=cookies&limit=1"
    try:
        before = phase(server.port, cheap, args.clients, args.window)
        attack_counts = [{} for _ in range(4)]
        attackers = [threading.Thread(target=loop, args=(
            server.port, "/api/v1/changes", time.monotonic() + args.attack, counts, args.attack + 5))
            for counts in attack_counts]
        for t in attackers:
            t.start()
        during = phase(server.port, cheap, args.clients, args.attack)
        for t in attackers:
            t.join()
        after = phase(server.port, cheap, args.clients, args.window)
    finally:
        rss = peak.stop()
        server.stop()
    statuses = {}
    for counts in attack_counts:
        for k, v in counts.items():
            statuses[str(k)] = statuses.get(str(k), 0) + v
    ratio = lambda p: round(p["ok_per_s"] / before["ok_per_s"], 4) if before["ok_per_s"] else None
    return {
        "archive_kib": packed_kib(repo), "lines": args.lines, "index_seconds": indexed,
        "cheap_before": before, "cheap_during": during, "cheap_after": after,
        "ratio_during": ratio(during), "ratio_after": ratio(after),
        "attack_answers": statuses, "peak_rss_mib": rss,
    }


def long_changes(args, work):
    repo = os.path.join(work, "long")
    archive(repo, "Long", long_section(args.section_kib, args.versions))
    idx = os.path.join(work, "long-index")
    indexed = index(args.bin, idx, repo, "long")
    server = Server(args.bin, idx, args.serve_args.split())
    result = {"archive_kib": packed_kib(repo), "index_seconds": indexed}
    try:
        result["rss_mib_start"] = round(rss_mib(server.process.pid), 1)
        for name, target in [("page", "/api/v1/changes?limit=100"),
                             ("full_text", "/api/v1/changes?limit=100&full_text=true")]:
            peak = Peak(server.process.pid)
            peak.start()
            status, size, seconds = get(server.port, target, 120)
            result[name] = {"status": status, "bytes": size, "seconds": seconds, "peak_rss_mib": peak.stop()}
        peak = Peak(server.process.pid)
        peak.start()
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(
            get(server.port, "/api/v1/changes?limit=100", 120))) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(3)
        result["four_pages"] = {
            "statuses": [a[0] for a in answers], "seconds": max(a[2] for a in answers),
            "peak_rss_mib": peak.stop(), "rss_mib_3s_after": round(rss_mib(server.process.pid), 1),
        }
    finally:
        server.stop()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", help="folder for the archives and indexes (default: a temporary one)")
    parser.add_argument("--lines", type=int, default=200_000, help="lines of the rewritten section")
    parser.add_argument("--clients", type=int, default=4, help="cheap-search connections")
    parser.add_argument("--window", type=float, default=10.0, help="seconds before and after the attack")
    parser.add_argument("--attack", type=float, default=30.0, help="seconds of the attack")
    parser.add_argument("--section-kib", type=int, default=2048)
    parser.add_argument("--versions", type=int, default=101)
    parser.add_argument("--serve-args", default="", help="extra arguments for serve")
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        print(json.dumps({"rewritten_lines": attack(args, work),
                          "long_section": long_changes(args, work)}, indent=1))


if __name__ == "__main__":
    main()
