#!/usr/bin/env python3
"""Clients that ask for a large answer and never read it: the server's memory must stay flat.

Starts `palimpsest serve` on an index (loopback only), opens CONNECTIONS connections, each
sending one GET for TARGET and then reading nothing, with a small receive buffer so the
answer stays on the server's side. Samples the server's resident memory (VmRSS) every
half second for HOLD seconds, closes the connections, waits, samples again, and checks that
the server still answers. Prints one JSON object with the figures.

    python3 scripts/slow_readers.py --bin target/release/palimpsest --index IDX \\
        --connections 900 --target '/api/v1/changes?limit=100&technical_upgrades=true'
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, target, timeout=30):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{target}", timeout=timeout) as r:
            size = len(r.read())
            return r.status, size, time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, len(error.read()), time.monotonic() - started


def wait_ready(port, server):
    for _ in range(600):
        if server.poll() is not None:
            sys.exit(f"the server exited with {server.returncode}")
        try:
            if fetch(port, "/api/v1/health", timeout=1)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not start")


def open_readers(port, target, count):
    readers = []
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    for _ in range(count):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", port))
        s.sendall(request)
        readers.append(s)
    return readers


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--connections", type=int, default=900)
    parser.add_argument("--target", default="/api/v1/changes?limit=100&technical_upgrades=true")
    parser.add_argument("--hold", type=float, default=40.0, help="seconds the clients hold on")
    parser.add_argument("--serve-args", default="", help="extra arguments for serve")
    args = parser.parse_args()

    port = free_port()
    command = [args.bin, "--index", args.index, "serve", "--addr", f"127.0.0.1:{port}"]
    command += args.serve_args.split()
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, server)
        status, size, seconds = fetch(port, args.target)
        baseline = rss_mib(server.pid)
        readers = open_readers(port, args.target, args.connections)
        samples = []
        started = time.monotonic()
        while time.monotonic() - started < args.hold:
            samples.append(round(rss_mib(server.pid), 1))
            time.sleep(0.5)
        during = fetch(port, "/api/v1/stats")
        for s in readers:
            s.close()
        time.sleep(2)
        after = rss_mib(server.pid)
        print(json.dumps({
            "connections": args.connections,
            "target": args.target,
            "answer_status": status,
            "answer_bytes": size,
            "answer_seconds": round(seconds, 2),
            "rss_mib_before": round(baseline, 1),
            "rss_mib_peak": max(samples),
            "rss_mib_last_while_held": samples[-1],
            "rss_mib_after_close": round(after, 1),
            "stats_while_held": {"status": during[0], "seconds": round(during[2], 2)},
            "server_alive": server.poll() is None,
        }))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
