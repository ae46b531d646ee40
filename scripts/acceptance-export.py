#!/usr/bin/env python3
"""Exports on a real index: every change of a collection exported equals, item for item,
the pages of /api/v1/changes read one after the other; and the server's memory while it
streams every change of a large collection.

Starts `palimpsest serve` on INDEX (loopback only, the result window raised so that pages
reach every change), then:

1. reads GET /api/v1/changes?collection=EQUAL&first_records=true page by page (100 a
   page) and GET /api/v1/export/changes with the same parameters, and compares them item
   for item (and the count with `total` and X-Total-Count);
2. asks for one page (100) of every change of the collection MEASURED, then exports them
   all as JSON Lines (whole texts), read at full speed, sampling the server's resident
   memory (VmRSS) every 50 ms during each: the export's peak beside the page's;
3. exports the same list again as CSV and drops the connection after the first MiB,
   then checks that the export slot is free again (another export starts within 5 s).

Prints one JSON object with the figures; exits non-zero on any mismatch.

    scripts/acceptance-export.py --bin target/release/palimpsest --index INDEX \\
        [--equal pga] [--measured contrib]
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slow_readers import free_port, rss_mib, wait_ready  # noqa: E402


def anon_mib(pid):
    """Resident memory that is not a mapped file (the index is read through mmap, and its
    pages count in VmRSS while the kernel keeps them)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    return 0.0


def get(port, path, params):
    url = f"http://127.0.0.1:{port}{path}?{urllib.parse.urlencode(params)}"
    return urllib.request.urlopen(url, timeout=600)


def paged_changes(port, params):
    items, total = [], None
    while True:
        page = json.load(get(port, "/api/v1/changes", {**params, "limit": 100, "offset": len(items)}))
        total = page["total"]
        if not page["changes"]:
            return total, items
        items.extend(page["changes"])


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.peak_anon, self.running = pid, 0.0, 0.0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_mib(self.pid))
            self.peak_anon = max(self.peak_anon, anon_mib(self.pid))
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default="target/release/palimpsest")
    parser.add_argument("--index", required=True)
    parser.add_argument("--equal", default="pga", help="collection compared with its pages")
    parser.add_argument("--measured", default="contrib", help="collection whose export is measured")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [args.bin, "--index", args.index, "serve", "--addr", f"127.0.0.1:{port}",
         "--max-window", "1000000", "--time-budget", "60s", "--max-exports", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    report, failures = {}, []
    try:
        wait_ready(port, server)
        # 1. equal to the pages
        params = {"collection": args.equal, "first_records": "true"}
        started = time.monotonic()
        total, pages = paged_changes(port, params)
        report["pages_seconds"] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        answer = get(port, "/api/v1/export/changes", params)
        header_total = int(answer.headers["X-Total-Count"])
        exported = [json.loads(line) for line in answer]
        report["export_seconds"] = round(time.monotonic() - started, 1)
        report["equal"] = {"collection": args.equal, "total": total, "pages": len(pages),
                           "exported": len(exported), "x_total_count": header_total}
        if not (total == len(pages) == len(exported) == header_total):
            failures.append(f"counts differ: {report['equal']}")
        differing = [i for i, (a, b) in enumerate(zip(pages, exported)) if a != b]
        mismatches = len(differing)
        for i in differing[:3]:
            print(f"item {i}: page {json.dumps(pages[i])[:300]}\n  export {json.dumps(exported[i])[:300]}", file=sys.stderr)
        report["equal"]["mismatched_items"] = mismatches
        if mismatches:
            failures.append(f"{mismatches} items differ between the pages and the export")

        # 2. memory while streaming every change of the measured collection, beside the
        # memory of one page of the same list (the order is found the same way for both)
        idle = rss_mib(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        started = time.monotonic()
        get(port, "/api/v1/changes", {"collection": args.measured, "first_records": "true",
                                      "full_text": "true", "limit": 100}).read()
        page_seconds = time.monotonic() - started
        sampler.running = False
        sampler.join()
        page_peak, page_anon = sampler.peak, sampler.peak_anon
        sampler = Sampler(server.pid)
        sampler.start()
        started = time.monotonic()
        answer = get(port, "/api/v1/export/changes",
                     {"collection": args.measured, "first_records": "true", "full_text": "true"})
        size, lines = 0, 0
        expected = int(answer.headers["X-Total-Count"])
        marks, along = [expected * k // 4 for k in (1, 2, 3)], []
        for line in answer:
            size += len(line)
            lines += 1
            if marks and lines >= marks[0]:
                marks.pop(0)
                along.append((round(rss_mib(server.pid), 1), round(anon_mib(server.pid), 1)))
        sampler.running = False
        sampler.join()
        report["measured"] = {
            "collection": args.measured, "changes": lines,
            "x_total_count": int(answer.headers["X-Total-Count"]),
            "export_mib": round(size / 2**20, 1),
            "seconds": round(time.monotonic() - started, 1),
            "rss_before_mib": round(idle, 1),
            "rss_peak_page_of_100_mib": round(page_peak, 1),
            "page_seconds": round(page_seconds, 1),
            "rss_peak_export_mib": round(sampler.peak, 1),
            "rss_and_anon_at_quarter_half_three_quarters_mib": along,
            "export_peak_over_page_peak": round(sampler.peak / page_peak, 2),
            "anon_peak_page_mib": round(page_anon, 1),
            "anon_peak_export_mib": round(sampler.peak_anon, 1),
            "export_anon_peak_over_page_anon_peak": round(sampler.peak_anon / page_anon, 2),
        }
        if lines != report["measured"]["x_total_count"]:
            failures.append(f"the measured export listed {lines} of {report['measured']['x_total_count']}")

        # 3. a reader that leaves part way frees the export's slot (the server runs one at a time)
        answer = get(port, "/api/v1/export/changes",
                     {"collection": args.measured, "first_records": "true", "format": "csv"})
        answer.read(1 << 20)
        answer.close()
        deadline = time.monotonic() + 5
        freed = False
        while time.monotonic() < deadline and not freed:
            try:
                with get(port, "/api/v1/export/history", {"q": "arbitration"}) as again:
                    again.read()
                    freed = True
            except urllib.error.HTTPError:
                time.sleep(0.1)
        report["slot_freed_after_disconnect"] = freed
        if not freed:
            failures.append("no export could start after a reader left")
    finally:
        server.terminate()
        server.wait()
    print(json.dumps(report, indent=2))
    for failure in failures:
        print("FAIL:", failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
