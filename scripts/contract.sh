#!/usr/bin/env bash
# Contract tests: schemathesis against the running server's own OpenAPI document.
#
#   scripts/contract.sh [SECONDS]      (default: 120, the time schemathesis may take)
#
# Starts `palimpsest serve` on the built-in sample archive the way the README's quick start
# does (no --index: the sample is indexed into ./palimpsest-index on first use, here a fresh
# one under target/tmp/contract), on a free loopback port, waits for /api/v1/health, and runs
# schemathesis on /api/v1/openapi.json: every operation, valid and invalid inputs (its
# examples, coverage and fuzzing phases), until SECONDS are spent. Fails on
#
#   not_a_server_error            any 5xx (nothing a client sends may give one);
#   status_code_conformance       a status the operation does not document;
#   content_type_conformance      a media type the operation does not document for it;
#   response_schema_conformance   a body that does not match the schema of its status;
#   response_headers_conformance  a documented response header missing or malformed;
#   unsupported_method            another method than GET not answered 405;
#   allow_header_conformance      a 405 without the Allow header naming GET and HEAD;
#
# Left out, as the document cannot state what they need:
#   positive_data_acceptance      wants every request the schema allows answered 2xx, but
#                                 some rules span parameters (`as_of` not with `from`,
#                                 `from` before `to`, `from` or `from_version` on diff),
#                                 filter names must be names the index holds (else 400
#                                 `unknown_name`), and an instant after the present is
#                                 416: each a documented 4xx, none a schema can express;
#   negative_data_rejection       wants every request the schema forbids refused, but a
#                                 query is free text whose syntax no JSON Schema states
#                                 (the fuzz target search_request and the property test
#                                 of server/tests/api.rs cover what it refuses).
#
# The server is stopped either way, and a panic in its log fails the run too. It is the
# debug build, as CI has it from `cargo test --workspace` (PALIMPSEST_BIN picks another),
# with tantivy's own debug assertions off as in release (Cargo.toml: one upstream assertion,
# tantivy#2811, trips on valid queries that release builds answer right).
# schemathesis is installed from PyPI, at the version pinned below, into a venv under
# target/ (kept between runs).
#
# Environment: PALIMPSEST_BIN (server binary; default: target/debug/palimpsest, built if
# needed), CONTRACT_WORKERS (concurrent schemathesis workers, default 2), CONTRACT_SEED
# (reproduce a run: its seed is printed in schemathesis' summary), CONTRACT_CHECKS (other
# checks, e.g. `all`, to look at what the left-out ones say).
# Writes target/tmp/contract/: server.log, the index, and report/ (JUnit XML and a
# cassette of every request and response, to replay a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
SECONDS_BUDGET=${1:-120}
[[ "$SECONDS_BUDGET" =~ ^[0-9]+$ && "$SECONDS_BUDGET" -gt 0 ]] || {
    echo "SECONDS must be a whole number above 0, not '$SECONDS_BUDGET'" >&2
    exit 2
}
WORK=$ROOT/target/tmp/contract
VENV=$ROOT/target/contract-venv
BIN=${PALIMPSEST_BIN:-}
if [ -z "$BIN" ]; then
    cargo build -q -p palimpsest
    BIN=$ROOT/target/debug/palimpsest
fi

if ! "$VENV/bin/st" --version 2>/dev/null | grep -qF " $SCHEMATHESIS_VERSION"; then
    echo "installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 needs python3-venv for ensurepip.
        rm -rf "$VENV"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

rm -rf "$WORK"
mkdir -p "$WORK/report"
cd "$WORK"

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || true
    fi
    SERVER_PID=
}
trap stop_server EXIT

# Port 0 lets the system pick a free port; the server prints its address first.
env -u PALIMPSEST_INDEX "$BIN" serve --addr 127.0.0.1:0 --log-level warn \
    >"$WORK/server.out" 2>"$WORK/server.log" &
SERVER_PID=$!
BASE=
for _ in $(seq 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited before answering:" >&2
        cat "$WORK/server.log" >&2
        exit 1
    fi
    BASE=$(sed -n '1s|^\(http://[^/]*\)/.*|\1|p' "$WORK/server.out")
    if [ -n "$BASE" ] && curl -sf "$BASE/api/v1/health" >/dev/null; then
        break
    fi
    BASE=
    sleep 0.1
done
[ -n "$BASE" ] || { echo "the server did not answer /api/v1/health within 60 s" >&2; cat "$WORK/server.log" >&2; exit 1; }
echo "serving the sample archive at $BASE ($("$BIN" --version))"

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
CHECKS=$CHECKS,response_headers_conformance,unsupported_method,allow_header_conformance
seed=()
[ -n "${CONTRACT_SEED:-}" ] && seed=(--seed "$CONTRACT_SEED")
started=$SECONDS
status=0
# --max-time bounds the whole run (fuzzing repeats until it is spent); `timeout` is a
# backstop should a request hang past it.
timeout --signal=INT --kill-after=30 $((SECONDS_BUDGET + 60)) \
    "$VENV/bin/st" run "$BASE/api/v1/openapi.json" \
    --checks "${CONTRACT_CHECKS:-$CHECKS}" \
    --phases examples,coverage,fuzzing \
    --max-time "$SECONDS_BUDGET" \
    --workers "${CONTRACT_WORKERS:-2}" \
    --request-timeout 30 \
    --generation-database none \
    --report junit,vcr --report-dir "$WORK/report" \
    --no-color "${seed[@]}" || status=$?
echo "schemathesis ran $((SECONDS - started)) s and exited $status"

stop_server
if grep -q 'panicked' "$WORK/server.log"; then
    echo "the server panicked:" >&2
    grep -A3 'panicked' "$WORK/server.log" >&2
    status=1
fi
exit "$status"
