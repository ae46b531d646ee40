#!/usr/bin/env python3
"""Same answers from two binaries: a change meant to keep behaviour, checked.

Indexes the same real archives with each binary (each into an index of its own), serves each
index with its binary, asks both the same requests (every endpoint: filters, the four time
modes, grouped changes, feeds, diffs, exports) and runs the same CLI commands, then compares
the bodies. `took_ms` is left out of the comparison, and so are the measured index layout
fields of `stats` (bytes, segments), which two builds write differently.

    python3 scripts/same_answers.py --before OLD_BIN --after NEW_BIN \\
        [--bundles pga-versions,vlopses-us-versions,contrib-versions] [--work DIR]

Prints one line per request (`same` or `DIFFERS` with the first differing path), then a
summary; exits 1 if any body differs. The documents asked about are chosen from the
services list (each collection's document with the most versions), so the requests follow
whatever archives are given. Release binaries are advised: contrib takes minutes to index.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpus")
IGNORED_KEYS = {"took_ms", "index_bytes", "segments"}


def clone(bundles, work):
    """Each bundle cloned once into work/archives, named by its collection."""
    archives = {}
    for bundle in bundles:
        name = bundle.removesuffix("-versions")
        path = os.path.join(work, "archives", name)
        if not os.path.isdir(path):
            source = os.path.join(CORPUS, bundle + ".bundle")
            if not os.path.exists(source):
                sys.exit(f"{source} is absent: this script needs ../shared/corpus")
            subprocess.run(["git", "clone", "-q", source, path], check=True)
        archives[name] = path
    return archives


def build_index(binary, archives, index):
    if os.path.exists(os.path.join(index, "meta.json")):
        return
    for name, path in archives.items():
        started = time.time()
        subprocess.run([binary, "--quiet", "--index", index, "index", path, "--collection", name],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"  indexed {name} with {os.path.basename(binary)} in {time.time() - started:.0f} s",
              file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, index):
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--index", index, "serve", "--addr", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                self.get("/api/v1/health")
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit(f"{binary} did not serve {index} within 120 s")

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=300) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        # Feeds name the address served; each server has a port of its own.
        return status, body.replace(f"127.0.0.1:{self.port}".encode(), b"HOST")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def query(path, **params):
    pairs = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item).lower() if isinstance(item, bool) else str(item)))
    return path + ("?" + urllib.parse.urlencode(pairs) if pairs else "")


def documents(server):
    """Per collection, its document with the most versions (ties by name)."""
    _, body = server.get("/api/v1/services")
    best = {}
    for service in json.loads(body)["services"]:
        for document in service["documents"]:
            for collection in document.get("collections", [document.get("collection")]):
                key = (-document["versions"], service["service"], document["terms_type"])
                if collection not in best or key < best[collection][0]:
                    best[collection] = (key, service["service"], document["terms_type"])
    return {c: (s, t) for c, (_, s, t) in sorted(best.items())}


def http_requests(docs):
    """The requests asked of both servers: at least 40, every endpoint."""
    v1 = "/api/v1"
    asked = [
        f"{v1}/health", f"{v1}/stats", f"{v1}/services", f"{v1}/openapi.json",
        query(f"{v1}/search", q="arbitration"),
        query(f"{v1}/search", q="personal data", limit=50),
        query(f"{v1}/search", q='"personal data" AND advertising', limit=50),
        query(f"{v1}/search", q="cook*", limit=20, offset=20),
        query(f"{v1}/search", q="arbitration", as_of="2023-01-01"),
        query(f"{v1}/search", q="artificial intelligence", history=True, limit=100),
        query(f"{v1}/search", q="children", **{"from": "2024-01-01", "to": "2025-01-01"}),
        query(f"{v1}/search", q="delete account", **{"match": "all"}, limit=50),
        query(f"{v1}/search", q="privacy", terms_type="Privacy Policy", year=2024),
        query(f"{v1}/search", q="*", history=True, limit=100),
        query(f"{v1}/search", q="advertsing partners"),
        query(f"{v1}/search", q="third parties -cookies", section="Sharing"),
        query(f"{v1}/changes"),
        query(f"{v1}/changes", q="arbitration", limit=50),
        query(f"{v1}/changes", q="political advertising", sort="relevance", limit=20),
        query(f"{v1}/changes", group="version", limit=30),
        query(f"{v1}/changes", first_records=True, technical_upgrades=True, minor=True, limit=100),
        query(f"{v1}/changes", kind=["added", "removed"], **{"from": "2025-01-01"}, limit=100),
        query(f"{v1}/changes", q="data", group="version", sort="relevance", limit=20),
        query(f"{v1}/changes", q="arbitration", html=True, limit=10),
        query(f"{v1}/changes.atom", q="arbitration"),
        query(f"{v1}/history", q='"AI at Meta"'),
        query(f"{v1}/history", q="arbitration", limit=100),
        query(f"{v1}/trend", q="arbitration", by="year"),
        query(f"{v1}/trend", q="artificial intelligence", by="month", **{"from": "2024-01-01"}),
        query(f"{v1}/export/search", q="arbitration", history=True, format="csv"),
        query(f"{v1}/export/changes", q="arbitration", format="jsonl"),
        query(f"{v1}/export/history", q="cookies", format="csv"),
        query(f"{v1}/search", q="((("),
        query(f"{v1}/search", q="x", service="Nosuchservice"),
        query(f"{v1}/changes", sort="sideways"),
    ]
    for collection, (service, terms) in docs.items():
        s, t = urllib.parse.quote(service, safe=""), urllib.parse.quote(terms, safe="")
        filters = {"service": service, "terms_type": terms, "collection": collection}
        asked += [
            query(f"{v1}/versions/{s}/{t}", collection=collection),
            query(f"{v1}/version/{s}/{t}/2026-01-01", collection=collection),
            query(f"{v1}/version/{s}/{t}/2024-06-01", collection=collection, html=True),
            query(f"{v1}/diff/{s}/{t}", collection=collection, **{"from": "2024-01-01"}),
            query(f"{v1}/diff/{s}/{t}", collection=collection, html=True,
                  **{"from": "2023-01-01", "to": "2025-01-01"}),
            query(f"{v1}/search", q="data", **filters, history=True),
            query(f"{v1}/changes", **filters, limit=100),
            query(f"{v1}/history", q="data", **filters),
        ]
    return asked


def cli_commands(docs):
    """CLI commands run with both binaries, each with --json or a --format."""
    commands = [
        ["search", "arbitration", "--json"],
        ["search", "arbitration", "--as-of", "2022-06-01", "--json"],
        ["changes", "arbitration", "--format", "csv", "--all"],
        ["history", "cookies", "--format", "jsonl"],
        ["trend", "arbitration", "--by", "year", "--json"],
        ["services", "--json"],
    ]
    for collection, (service, terms) in docs.items():
        commands += [
            ["versions", service, terms, "--collection", collection, "--json"],
            ["show", service, terms, "--collection", collection],
            ["diff", service, terms, "--collection", collection, "--from", "2024-01-01", "--json"],
        ]
    return commands


def normalised(body):
    """The body without the fields two equal answers may differ in."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        lines = body.decode("utf-8", "replace").splitlines()
        if lines and lines[0].startswith("{"):
            try:
                return [strip(json.loads(line)) for line in lines]
            except ValueError:
                pass
        return lines
    return strip(value)


def strip(value):
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k not in IGNORED_KEYS}
    if isinstance(value, list):
        return ties_sorted([strip(v) for v in value])
    return value


def tie_groups(items):
    """Runs of consecutive items of equal score (a list without scores is one run each)."""
    groups = []
    for item in items:
        score = item.get("score") if isinstance(item, dict) else None
        if score is not None and groups and groups[-1][0] == score:
            groups[-1][1].append(item)
        else:
            groups.append((score, [item]))
    return groups


def ties_sorted(items):
    """Items of equal score in one order: Tantivy orders ties by document address, which
    depends on how the index's segments were written, not on the data."""
    out = []
    for score, group in tie_groups(items):
        out += sorted(group, key=lambda v: json.dumps(v, sort_keys=True)) if score is not None else group
    return out


def without_last_ties(value):
    """The body with each scored list's last run of ties left out: a page that ends inside a
    run of ties may hold other members of it."""
    if isinstance(value, dict):
        return {k: without_last_ties(v) for k, v in value.items()}
    if isinstance(value, list):
        groups = tie_groups(value)
        if groups and groups[-1][0] is not None:
            groups = groups[:-1]
        return [without_last_ties(v) for _, g in groups for v in g]
    return value


def first_difference(a, b, path="$"):
    if type(a) is not type(b):
        return path
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path} (length {len(a)} vs {len(b)})"
    return None if a == b else path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--bundles", default="pga-versions,vlopses-us-versions,contrib-versions")
    parser.add_argument("--work", default="target/tmp/same-answers")
    parser.add_argument("--reuse-indexes", action="store_true",
                        help="ask the indexes a previous run left in --work (same binaries)")
    args = parser.parse_args()
    binaries = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    os.makedirs(args.work, exist_ok=True)
    archives = clone(args.bundles.split(","), args.work)
    answers = {}
    for label, binary in binaries.items():
        index = os.path.join(args.work, f"index-{label}")
        if not args.reuse_indexes:
            shutil.rmtree(index, ignore_errors=True)
        build_index(binary, archives, index)
        server = Server(binary, index)
        try:
            docs = documents(server)
            asked = http_requests(docs)
            answers[label] = {path: server.get(path) for path in asked}
        finally:
            server.stop()
        for command in cli_commands(docs):
            run = subprocess.run([binary, "--quiet", "--index", index, *command],
                                 capture_output=True)
            answers[label]["$ " + " ".join(command)] = (run.returncode, run.stdout)
    differing = 0
    for asked, (status, body) in answers["before"].items():
        after_status, after_body = answers["after"].get(asked, (None, b""))
        before, after = normalised(body), normalised(after_body)
        found = "status" if status != after_status else first_difference(before, after)
        verdict = "same"
        if found and found != "status" and not first_difference(
                without_last_ties(before), without_last_ties(after)):
            verdict, found = "same but the page's last ties", None
        differing += found is not None
        print(f"{verdict if found is None else 'DIFFERS at ' + found:40} {status} {asked}")
    total = len(answers["before"])
    print(f"{total - differing} of {total} answers the same ({differing} differ)")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
