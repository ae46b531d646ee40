#!/usr/bin/env python3
"""How deep a query may nest before it overflows a server thread's stack.

Starts `palimpsest serve` (loopback) with the query limits lifted past what `serve` now
accepts (so BINARY must be built without that check, e.g. from the commit before it),
sends one query of a given shape and depth, and sees whether the server survives; bisects
the depth at which it aborts.

    python3 scripts/nesting_depth.py --bin OLD_BINARY --index IDX --shape not

Shapes: `parens` ((((data)))), `not` (data NOT NOT … x), `notparen` (data AND NOT (NOT (…
x))), `minus` (data -(-(… x))), `mixed` ((a OR (a OR … data))). URIs are at most 64 KiB, so
depths past about 32,000 cannot be sent.
"""

import argparse
import socket
import subprocess
import time
import urllib.parse
import urllib.request

SHAPES = {
    "parens": lambda d: "(" * d + "data" + ")" * d,
    "not": lambda d: "data " + "NOT " * d + "x",
    "notparen": lambda d: "data AND " + "NOT (" * d + "x" + ")" * d,
    "minus": lambda d: "data " + "-(" * d + "x" + ")" * d,
    "mixed": lambda d: "(a OR " * d + "data" + ")" * d,
}


def start(binary, index):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    server = subprocess.Popen(
        [binary, "--index", index, "serve", "--addr", f"127.0.0.1:{port}",
         "--max-nesting", "1000000", "--max-query-bytes", "10000000",
         "--max-terms", "1000000", "--time-budget", "60s"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start (does it refuse the lifted limits?)")


def survives(binary, index, shape, depth):
    server, port = start(binary, index)
    q = urllib.parse.quote(SHAPES[shape](depth), safe="()+")
    request = f"GET /api/v1/search?q={q} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(60)
        s.sendall(request.encode())
        try:
            while s.recv(65536):
                pass
        except OSError:
            pass
    time.sleep(0.3)
    alive = server.poll() is None
    server.terminate()
    server.wait()
    return alive


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="parens")
    args = parser.parse_args()
    holds, crashes = 0, 32_000
    for depth in [1_000, 2_000, 4_000, 8_000, 16_000, 24_000, 32_000]:
        if not survives(args.bin, args.index, args.shape, depth):
            crashes = depth
            break
        holds = depth
    while crashes - holds > max(holds // 20, 50):
        middle = (holds + crashes) // 2
        if survives(args.bin, args.index, args.shape, middle):
            holds = middle
        else:
            crashes = middle
    print(f"{args.shape}: holds at {holds}, aborts at {crashes}")


if __name__ == "__main__":
    main()
