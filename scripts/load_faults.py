#!/usr/bin/env python3
"""Load with faults: `palimpsest serve` at a constant rate near its capacity, with faults.

On a clone of pga-versions (../shared/corpus) whose branch is set back by enough commits:

1. index the start and start `palimpsest serve` on it;
2. capacity: a closed-loop burst (oha without a rate, --capacity-seconds) over a mix of real
   requests picked from the API (searches with filters, history, trend, changes, versions, a
   version at a date, a diff);
3. the same mix at a constant rate, --fraction of that capacity, for --duration seconds
   (oha -q with --latency-correction, so queueing delay counts: no coordinated omission), while
   a. every --reindex-every seconds the branch moves forward by --step commits and
      `palimpsest index` adds them to the index being served (the served version count must
      grow),
   b. --slowloris connections send the start of a request and then one header line every
      2 s, never ending it, reconnecting when the server drops them after its header timeout,
   c. the server's RSS is read from /proc/PID/status every --rss-every seconds;
   targets: no non-2xx answer, no connection error, the rate reached, every re-index run
   served, the stalled connections held (90 % of them at every sample);
4. SIGTERM under load: the same rate and the stalled connections, 2 x --probes slow requests
   sent just before the signal on connections opened earlier and on new ones; targets: every
   one of them answered 200 in full, no non-2xx answer, no request cut (oha errors other than
   refused connections, which are expected once the listener is closed), exit code 0, and the
   process gone within --exit-within seconds.

Exits non-zero if any target is missed. Writes the figures to WORK/result.json.

    scripts/load_faults.py --bin target/release/palimpsest --work DIR [--duration 600]

Needs oha (`cargo install oha --locked`) on PATH or in ~/.cargo/bin.
"""

import argparse
import atexit
import datetime
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def run(args, check=True):
    return subprocess.run(args, check=check, capture_output=True)


def get_json(base, path, timeout=10):
    with urllib.request.urlopen(base + path, timeout=timeout) as response:
        return json.load(response)


def rss_kib(pid):
    """VmRSS and RssAnon of a process, in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                values[key] = int(rest.split()[0])
    return values


def find_oha():
    found = shutil.which("oha") or os.path.expanduser("~/.cargo/bin/oha")
    if not os.access(found, os.X_OK):
        sys.exit("oha is missing: cargo install oha --locked")
    return found


# The request mix ------------------------------------------------------------------------------

WORDS = ["cookies", "arbitration", '"personal data"', '"third parties"', "advertising",
         "children", "retention", '"artificial intelligence" OR "machine learning"',
         "location AND consent", "refund"]


def request_mix(base):
    """Request targets built from what the index holds: one per line, cycled by oha."""
    q = urllib.parse.quote
    documents = [
        (s["service"], d["terms_type"], d["first_recorded"][:10], d["last_recorded"][:10], d["versions"])
        for s in get_json(base, "/services")["services"]
        for d in s["documents"]
    ]
    documents.sort(key=lambda d: -d[4])
    targets = []
    for i, word in enumerate(WORDS):
        service, terms_type, first, last, _ = documents[i % 6]
        word = q(word)
        targets += [
            f"/api/v1/search?q={word}",
            f"/api/v1/search?q={word}&terms_type={q(terms_type)}&limit=10",
            f"/api/v1/search?q={word}&as_of=2024-01-01",
            f"/api/v1/search?q={word}&from=2023-01-01&to=2024-01-01&service={q(service)}",
            f"/api/v1/search?q={word}&history=true",
            f"/api/v1/history?q={word}",
        ]
        if i % 2 == 0:
            targets += [f"/api/v1/trend?q={word}", f"/api/v1/changes?q={word}&limit=20"]
    for service, terms_type, first, last, _ in documents[:8]:
        path = f"{q(service)}/{q(terms_type)}"
        # Dates at which a version is in force: the day after the first record, the middle.
        first, last = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
        after_first = first + datetime.timedelta(days=1)
        middle = first + (last - first) / 2
        targets += [
            f"/api/v1/versions/{path}",
            f"/api/v1/version/{path}/{last + datetime.timedelta(days=1)}",
            f"/api/v1/version/{path}/{middle}",
            f"/api/v1/diff/{path}?from={after_first}&to={middle}",
            f"/api/v1/changes?service={q(service)}&terms_type={q(terms_type)}&limit=20",
        ]
    for target in targets:
        try:
            with urllib.request.urlopen(base.removesuffix("/api/v1") + target, timeout=10) as response:
                response.read()
        except Exception as error:  # noqa: BLE001 - any failure here is a bad mix
            sys.exit(f"the request mix holds a failing target {target}: {error}")
    return targets


def oha(binary, url_file, seconds, connections, rate=None):
    """Runs oha over the targets of `url_file`; its JSON summary."""
    args = [binary, "--no-tui", "--output-format", "json", "-z", f"{seconds}s", "-c", str(connections),
            "-w", "--urls-from-file", url_file]
    if rate:
        args += ["-q", str(rate), "--latency-correction"]
    out = subprocess.run(args, capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"oha failed: {out.stderr.decode()}")
    return json.loads(out.stdout)


def summarize(report):
    s = report["summary"]
    p = report["latencyPercentiles"]
    statuses = {int(k): v for k, v in report.get("statusCodeDistribution", {}).items()}
    errors = report.get("errorDistribution", {})
    return {
        "requests": sum(statuses.values()) + sum(errors.values()),
        "req_per_s": round(s["requestsPerSec"], 1),
        "p50_ms": round(p["p50"] * 1000, 2),
        "p99_ms": round(p["p99"] * 1000, 2),
        "p99_9_ms": round(p["p99.9"] * 1000, 2),
        "max_ms": round(s["slowest"] * 1000, 2),
        "statuses": statuses,
        "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "errors": errors,
        "error_count": sum(errors.values()),
    }


# The faults -----------------------------------------------------------------------------------

class Slowloris(threading.Thread):
    """Holds `count` connections that send a request header a line at a time and never end it.

    A connection the server closes is replaced at once; `samples` holds the number open, once a
    second."""

    def __init__(self, host, port, count, trickle_seconds=2.0):
        super().__init__(daemon=True)
        self.addr = (host, port)
        self.count = count
        self.trickle = trickle_seconds
        self.stopping = threading.Event()
        self.selector = selectors.DefaultSelector()
        self.open = {}  # socket -> time of its next header line
        self.samples = []  # (time, open)
        self.connects = self.dropped = self.refused = 0

    def _connect(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2)
        try:
            sock.connect(self.addr)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: palimpsest\r\n")
        except OSError:
            sock.close()
            self.refused += 1
            return False
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)
        self.open[sock] = time.monotonic() + self.trickle
        self.connects += 1
        return True

    def _close(self, sock, dropped):
        self.selector.unregister(sock)
        del self.open[sock]
        sock.close()
        self.dropped += dropped

    def run(self):
        next_sample = time.monotonic()
        while not self.stopping.is_set():
            while len(self.open) < self.count and not self.stopping.is_set():
                if not self._connect():
                    time.sleep(0.2)  # the server is not accepting: try again later
                    break
            now = time.monotonic()
            if now >= next_sample:
                self.samples.append((time.time(), len(self.open)))
                next_sample = now + 1.0
            for key, _ in self.selector.select(timeout=0.1):
                # Readable: an answer (408) or the end of the connection; either way it is over.
                self._close(key.fileobj, dropped=1)
            now = time.monotonic()
            for sock, due in list(self.open.items()):
                if due <= now:
                    try:
                        sock.send(b"X-Stall: 1\r\n")
                        self.open[sock] = now + self.trickle
                    except OSError:
                        self._close(sock, dropped=1)
        for sock in list(self.open):
            self._close(sock, dropped=0)

    def stop(self):
        self.stopping.set()
        self.join()

    def figures(self, since=0.0):
        held = [n for t, n in self.samples if t >= since]
        return {
            "target": self.count,
            "open_min": min(held, default=0),
            "open_mean": round(sum(held) / len(held), 1) if held else 0,
            "open_max": max(held, default=0),
            "connections_made": self.connects,
            "closed_by_server": self.dropped,
            "refused": self.refused,
        }


class RssSampler(threading.Thread):
    def __init__(self, pid, every):
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.stopping = threading.Event()
        self.samples = []  # (time, VmRSS KiB, RssAnon KiB)

    def run(self):
        while not self.stopping.is_set():
            try:
                r = rss_kib(self.pid)
            except OSError:
                return
            if "VmRSS" not in r:  # exited, not yet reaped
                return
            self.samples.append((time.time(), r["VmRSS"], r["RssAnon"]))
            self.stopping.wait(self.every)

    def stop(self):
        self.stopping.set()
        self.join()

    def figures(self, since=0.0):
        s = [x for x in self.samples if x[0] >= since]
        mib = lambda kib: round(kib / 1024, 1)  # noqa: E731
        return {
            "samples": len(s),
            "rss_start_mib": mib(s[0][1]), "rss_end_mib": mib(s[-1][1]), "rss_max_mib": mib(max(x[1] for x in s)),
            "anon_start_mib": mib(s[0][2]), "anon_end_mib": mib(s[-1][2]), "anon_max_mib": mib(max(x[2] for x in s)),
            # Whether it levels off or keeps growing: RSS and anonymous RSS once a minute.
            "by_minute_mib": [(mib(x[1]), mib(x[2])) for x in s if (x[0] - s[0][0]) % 60 < self.every]
            + [(mib(s[-1][1]), mib(s[-1][2]))],
        }


class Reindexer(threading.Thread):
    """Every `every` seconds moves the clone's branch forward by `step` commits and indexes
    them into the served index; checks that the server then serves more versions."""

    def __init__(self, args, repo, commits, position, base):
        super().__init__(daemon=True)
        self.args, self.repo, self.commits, self.position, self.base = args, repo, commits, position, base
        self.stopping = threading.Event()
        self.runs = []  # dicts
        self.failures = []

    def run(self):
        # On a fixed schedule, whatever each run takes.
        first, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            if self.stopping.wait(max(0.0, first + attempt * self.args.reindex_every - time.monotonic())):
                return
            if self.position >= len(self.commits) - 1:
                self.failures.append("no commits left to add: set the clone back further")
                return
            self.position = min(len(self.commits) - 1, self.position + self.args.step)
            before = get_json(self.base, "/stats")["versions"]
            move_branch(self.repo, self.commits[self.position])
            started = time.monotonic()
            out = run(index_command(self.args, self.repo), check=False)
            took = time.monotonic() - started
            if out.returncode != 0:
                self.failures.append(f"index run failed: {out.stderr.decode().strip()}")
                continue
            # The server reloads within about a second of a commit.
            served = before
            deadline = time.monotonic() + 10
            while served <= before and time.monotonic() < deadline:
                time.sleep(0.2)
                served = get_json(self.base, "/stats")["versions"]
            seen_after = time.monotonic() - started - took
            self.runs.append({"commit": self.position + 1, "index_s": round(took, 2),
                              "versions_before": before, "versions_after": served,
                              "served_after_s": round(seen_after, 2)})
            if served <= before:
                self.failures.append(f"the server still serves {served} versions 10 s after an index run")
            log(f"re-index {len(self.runs)}: commit {self.position + 1}/{len(self.commits)} in {took:.1f} s; "
                f"versions served {before} -> {served} ({seen_after:.1f} s after the run)")

    def stop(self):
        self.stopping.set()
        self.join()


def move_branch(repo, commit):
    run(["git", "-C", repo, "update-ref", "refs/heads/main", commit])
    run(["git", "-C", repo, "symbolic-ref", "HEAD", "refs/heads/main"])


def index_command(args, repo):
    return [args.bin, "--index", os.path.join(args.work, "index"), "--quiet", "index", repo, "--collection", "pga"]


# SIGTERM under load ---------------------------------------------------------------------------

class Probe(threading.Thread):
    """One slow request, sent when `go` is set, on a connection opened beforehand (`reuse`,
    warmed with one request) or opened then; records the answer."""

    def __init__(self, host, port, target, reuse, go):
        super().__init__(daemon=True)
        self.target, self.go = target, go
        self.sent = threading.Event()
        self.reuse = reuse
        self.connection = http.client.HTTPConnection(host, port, timeout=60)
        self.status = self.error = None
        self.complete = False
        self.sent_at = self.done_at = None
        if reuse:
            self.connection.request("GET", "/api/v1/health")
            self.connection.getresponse().read()

    def run(self):
        self.go.wait()
        try:
            self.connection.request("GET", self.target)
            self.sent_at = time.time()
            self.sent.set()
            response = self.connection.getresponse()
            body = response.read()
            self.status = response.status
            length = response.getheader("content-length")
            self.complete = length is None or int(length) == len(body)
            json.loads(body)
        except Exception as error:  # noqa: BLE001 - every failure is reported
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.sent.set()
            self.done_at = time.time()
            self.connection.close()


def sigterm_under_load(args, server, host, port, url_file, rate, oha_bin, slowloris):
    """Load at `rate`, slow requests in flight, then SIGTERM: how the server stops."""
    load_seconds = args.sigterm_after + args.exit_within + 5
    result = {}
    load = threading.Thread(
        target=lambda: result.update(report=oha(oha_bin, url_file, load_seconds, args.connections, rate)))
    load.start()
    time.sleep(args.sigterm_after - 1)
    go = threading.Event()
    probes = [Probe(host, port, args.probe_target, reuse=i % 2 == 0, go=go) for i in range(2 * args.probes)]
    for probe in probes:
        probe.start()
    time.sleep(1)
    go.set()
    for probe in probes:
        probe.sent.wait(10)
    time.sleep(0.05)
    stalled_open = len(slowloris.open)
    signalled = time.time()
    server.send_signal(signal.SIGTERM)
    try:
        code = server.wait(timeout=max(60, 2 * args.exit_within))
    except subprocess.TimeoutExpired:
        server.kill()
        code = server.wait()
    exit_seconds = time.time() - signalled
    for probe in probes:
        probe.join(60)
    load.join()
    oha_figures = summarize(result["report"])
    answered = [p for p in probes if p.status == 200 and p.complete and p.error is None]
    return {
        "exit_seconds": round(exit_seconds, 2),
        "exit_code": code,
        "slowloris_open_at_signal": stalled_open,
        "probes": len(probes),
        "probes_answered_in_full": len(answered),
        "probes_answered_after_signal": sum(1 for p in answered if p.done_at > signalled),
        "probe_failures": [f"{'kept' if p.reuse else 'new'} connection: {p.status} {p.error}"
                           for p in probes if p not in answered],
        "load": oha_figures,
    }


# Main -----------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "palimpsest"))
    parser.add_argument("--work", default="/tmp/palimpsest-load-faults")
    parser.add_argument("--duration", type=int, default=600, help="seconds at a constant rate")
    parser.add_argument("--capacity-seconds", type=int, default=20)
    parser.add_argument("--fraction", type=float, default=0.75, help="of the measured capacity")
    parser.add_argument("--connections", type=int, default=64, help="oha's connections")
    parser.add_argument("--reindex-every", type=float, default=30, help="seconds; 0: no re-indexing")
    parser.add_argument("--step", type=int, default=20, help="commits added per re-index")
    parser.add_argument("--slowloris", type=int, default=500)
    parser.add_argument("--rss-every", type=float, default=2)
    parser.add_argument("--sigterm-after", type=float, default=8, help="seconds of load before SIGTERM")
    parser.add_argument("--probes", type=int, default=8, help="slow requests in flight at SIGTERM, per kind")
    parser.add_argument("--probe-target", default="/api/v1/changes?limit=100&technical_upgrades=true")
    parser.add_argument("--exit-within", type=float, default=30)
    args = parser.parse_args()
    args.bin = os.path.abspath(args.bin)
    args.work = os.path.abspath(args.work)
    oha_bin = find_oha()
    bundle = os.path.join(CORPUS, "pga-versions.bundle")
    if not os.path.exists(bundle):
        sys.exit(f"{bundle} is missing: this check needs ../shared/corpus")
    os.makedirs(args.work, exist_ok=True)
    failures = []

    # The clone, set back by enough commits for every re-index run, and the index of the start.
    repo = os.path.join(args.work, "pga-versions")
    if not os.path.isdir(repo):
        run(["git", "clone", "--quiet", "--no-checkout", bundle, repo])
    head = run(["git", "-C", repo, "rev-parse", "refs/remotes/origin/main"]).stdout.decode().strip()
    commits = run(["git", "-C", repo, "rev-list", "--first-parent", "--reverse", head]).stdout.decode().split()
    reindex_runs = int(args.duration // args.reindex_every) + 1 if args.reindex_every > 0 else 0
    position = len(commits) - 1 - reindex_runs * args.step
    move_branch(repo, commits[position])
    index = os.path.join(args.work, "index")
    shutil.rmtree(index, ignore_errors=True)
    started = time.monotonic()
    run(index_command(args, repo))
    log(f"indexed pga-versions up to commit {position + 1}/{len(commits)} in {time.monotonic() - started:.0f} s")

    # The server, on a free port.
    out_path = os.path.join(args.work, "server.out")
    with open(out_path, "w") as out, open(os.path.join(args.work, "server.log"), "w") as err:
        server = subprocess.Popen([args.bin, "--index", index, "serve", "--addr", "127.0.0.1:0", "--log-level", "warn"],
                                  stdout=out, stderr=err)
    # A failed step ends the script: never leave the server behind.
    atexit.register(lambda: server.poll() is None and server.kill())
    addr = None
    for _ in range(100):
        found = re.search(r"http://([0-9.]+):([0-9]+)/", open(out_path).read())
        if found:
            addr = found.group(1), int(found.group(2))
            break
        time.sleep(0.1)
    if addr is None:
        server.kill()
        sys.exit("the server did not start: see " + os.path.join(args.work, "server.log"))
    host, port = addr
    base = f"http://{host}:{port}/api/v1"
    targets = request_mix(base)
    url_file = os.path.join(args.work, "urls.txt")
    with open(url_file, "w") as f:
        f.writelines(f"http://{host}:{port}{t}\n" for t in targets)
    versions_start = get_json(base, "/stats")["versions"]
    log(f"serving on {host}:{port}, {versions_start} versions; {len(targets)} request targets in {url_file}")

    rss = RssSampler(server.pid, args.rss_every)
    rss.start()
    # Capacity: closed loop, as many requests as the server answers.
    oha(oha_bin, url_file, 3, 16)  # warm-up
    capacity = summarize(oha(oha_bin, url_file, args.capacity_seconds, 16))
    rate = max(1, round(capacity["req_per_s"] * args.fraction))
    log(f"capacity {capacity['req_per_s']} req/s (p50 {capacity['p50_ms']} ms, p99 {capacity['p99_ms']} ms); "
        f"constant rate {rate} req/s for {args.duration} s")
    if capacity["non_2xx"] or capacity["error_count"]:
        failures.append(f"capacity burst: {capacity['non_2xx']} non-2xx, errors {capacity['errors']}")

    # Constant rate with faults.
    slowloris = Slowloris(host, port, args.slowloris)
    slowloris.start()
    time.sleep(2)
    reindexer = Reindexer(args, repo, commits, position, base)
    loaded_from = time.time()
    if args.reindex_every > 0:
        reindexer.start()
    loaded = summarize(oha(oha_bin, url_file, args.duration, args.connections, rate))
    loaded_to = time.time()
    if args.reindex_every > 0:
        reindexer.stop()
    versions_end = get_json(base, "/stats")["versions"]
    memory = rss.figures(since=loaded_from)
    stalled = slowloris.figures(since=loaded_from)
    log(f"constant rate: {json.dumps(loaded)}")
    log(f"rss: {json.dumps(memory)}; slowloris: {json.dumps(stalled)}")
    if loaded["non_2xx"]:
        failures.append(f"{loaded['non_2xx']} non-2xx answers at a constant rate: {loaded['statuses']}")
    if loaded["error_count"]:
        failures.append(f"connection errors at a constant rate: {loaded['errors']}")
    if loaded["req_per_s"] < 0.95 * rate:
        failures.append(f"the rate was not reached: {loaded['req_per_s']} of {rate} req/s")
    failures += reindexer.failures
    if args.reindex_every > 0 and len(reindexer.runs) < int((loaded_to - loaded_from) // args.reindex_every) - 1:
        failures.append(f"only {len(reindexer.runs)} re-index runs in {loaded_to - loaded_from:.0f} s")
    if stalled["open_min"] < 0.9 * args.slowloris:
        failures.append(f"only {stalled['open_min']} stalled connections were held at times")

    # SIGTERM under load, the stalled connections still open.
    stop = sigterm_under_load(args, server, host, port, url_file, rate, oha_bin, slowloris)
    slowloris.stop()
    rss.stop()
    log(f"SIGTERM: {json.dumps(stop)}")
    if stop["exit_seconds"] > args.exit_within:
        failures.append(f"the server took {stop['exit_seconds']} s to exit after SIGTERM")
    if stop["exit_code"] != 0:
        failures.append(f"the server exited with {stop['exit_code']} after SIGTERM")
    if stop["probe_failures"]:
        failures.append(f"requests in flight at SIGTERM failed: {stop['probe_failures']}")
    # Once the listener is closed new connections are refused: expected. Anything else (a reset,
    # a connection closed before its answer) is a request cut.
    cut = {k: v for k, v in stop["load"]["errors"].items() if "refused" not in k.lower()}
    if cut:
        failures.append(f"requests cut around SIGTERM: {cut}")
    if stop["load"]["non_2xx"]:
        failures.append(f"{stop['load']['non_2xx']} non-2xx answers around SIGTERM: {stop['load']['statuses']}")

    result = {
        "versions_start": versions_start, "versions_end": versions_end,
        "capacity": capacity, "rate": rate, "constant_rate": loaded, "rss": memory,
        "rss_whole_run": rss.figures(), "slowloris": stalled, "reindex_runs": reindexer.runs,
        "sigterm": stop, "failures": failures,
    }
    with open(os.path.join(args.work, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    move_branch(repo, head)
    print(
        f"capacity {capacity['req_per_s']} req/s; at {rate} req/s ({args.fraction:.0%}) for {args.duration} s: "
        f"{loaded['req_per_s']} req/s, p50 {loaded['p50_ms']} ms, p99 {loaded['p99_ms']} ms, "
        f"p99.9 {loaded['p99_9_ms']} ms, {loaded['requests']} requests, {loaded['non_2xx']} non-2xx, "
        f"{loaded['error_count']} errors; RSS {memory['rss_start_mib']} -> {memory['rss_end_mib']} MiB "
        f"(max {memory['rss_max_mib']}), anonymous {memory['anon_start_mib']} -> {memory['anon_end_mib']} MiB "
        f"(max {memory['anon_max_mib']}); {len(reindexer.runs)} re-index runs, versions {versions_start} -> "
        f"{versions_end}; stalled connections open {stalled['open_min']}..{stalled['open_max']} "
        f"(mean {stalled['open_mean']}), {stalled['closed_by_server']} closed by the server; "
        f"SIGTERM: exit in {stop['exit_seconds']} s with {stop['slowloris_open_at_signal']} stalled connections "
        f"open, {stop['probes_answered_in_full']}/{stop['probes']} requests in flight answered in full "
        f"({stop['probes_answered_after_signal']} after the signal)"
    )
    for failure in failures:
        print(f"FAILED: {failure}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
