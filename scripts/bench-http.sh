#!/usr/bin/env bash
# HTTP benchmark of `palimpsest serve` on the contrib-versions archive (not a test).
#
# 1. a fixed mix of term, phrase, filtered and faceted searches with wrk at concurrency
#    1, 8 and 32: req/s, p50, p99, errors, server RSS;
# 2. the same mix in-process (Engine::search from threads, and app(state).oneshot), to show
#    what HTTP adds;
# 3. the mix at concurrency 8 while `palimpsest index` adds the last 200 commits to the
#    index being served: errors must stay 0.
#
# Usage: scripts/bench-http.sh [SECONDS per run, default 10]
# Environment: WORK (scratch folder, default /tmp/palimpsest-bench-http), BUNDLE (the
# contrib-versions bundle), PORT (default 7790).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECONDS_PER_RUN=${1:-10}
WORK=${WORK:-/tmp/palimpsest-bench-http}
BUNDLE=${BUNDLE:-$ROOT/../shared/corpus/contrib-versions.bundle}
PORT=${PORT:-7790}
BIN=$ROOT/target/release/palimpsest
mkdir -p "$WORK"

if ! command -v wrk >/dev/null; then
    echo "installing wrk" >&2
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi
if [ ! -d "$WORK/contrib/.git" ]; then
    if [ ! -f "$BUNDLE" ]; then
        echo "skipped: no contrib-versions bundle at $BUNDLE" >&2
        exit 0
    fi
    git clone -q "$BUNDLE" "$WORK/contrib"
fi
cargo build --release -q -p palimpsest -p palimpsest-server --example bench_inprocess
EXAMPLE=$ROOT/target/release/examples/bench_inprocess

echo "## machine: $(nproc) cores, $(free -m | awk '/Mem:/ {print $2}') MiB; wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}')"

# The index of the whole archive.
if [ ! -f "$WORK/index/meta.json" ]; then
    /usr/bin/time -f "indexed in %e s, peak RSS %M KiB" "$BIN" --quiet --index "$WORK/index" index "$WORK/contrib" --collection contrib >/dev/null
fi
"$BIN" --index "$WORK/index" --json stats | tr -d ' \n'; echo

# The query mix: one request target per line, cycled by every client.
QUERIES=$WORK/queries.txt
cat > "$QUERIES" <<'EOF'
/api/v1/search?q=cookies
/api/v1/search?q=arbitration
/api/v1/search?q=children&limit=10
/api/v1/search?q=%22personal+data%22
/api/v1/search?q=%22third+parties%22
/api/v1/search?q=%22artificial+intelligence%22+OR+%22machine+learning%22
/api/v1/search?q=advertising&terms_type=Privacy+Policy
/api/v1/search?q=refund&terms_type=Terms+of+Service&limit=5
/api/v1/search?q=cookies&service=Google&service=Facebook&service=Instagram
/api/v1/search?q=data&as_of=2021-01-01
/api/v1/search?q=tracking&from=2019-01-01&to=2020-01-01
/api/v1/search?q=%22class+action%22&history=true
/api/v1/search?q=retention&section=Data
/api/v1/search?q=location+AND+consent&offset=20
/api/v1/search?q=*&service=Google
EOF
LUA=$WORK/mix.lua
{
    echo "local targets = {"
    sed 's/.*/  "&",/' "$QUERIES"
    cat <<'EOF'
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", targets[(i % #targets) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d req_per_s=%.0f p50_ms=%.2f p99_ms=%.2f socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
EOF
} > "$LUA"

SERVER_PID=
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" || true
    fi
    SERVER_PID=
}
trap stop_server EXIT
start_server() { # INDEX
    "$BIN" --quiet --index "$1" serve --addr "127.0.0.1:$PORT" --log-level warn >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && return 0
        sleep 0.1
    done
    echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
peak() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
load() { # CONCURRENCY SECONDS
    local threads=$(( $1 < 2 ? 1 : 2 ))
    wrk -t"$threads" -c"$1" -d"$2"s --latency -s "$LUA" "http://127.0.0.1:$PORT" | grep '^RESULT' | sed 's/^RESULT //'
}

echo "## HTTP (wrk against palimpsest serve, ${SECONDS_PER_RUN}s per run)"
start_server "$WORK/index"
echo "rss_after_start_mib=$(rss)"
load 8 3 >/dev/null # warm-up
for c in 1 8 32; do
    echo "c=$c $(load "$c" "$SECONDS_PER_RUN") rss_mib=$(rss) peak_rss_mib=$(peak)"
done
stop_server

echo "## in-process (same mix, same index)"
"$EXAMPLE" "$WORK/index" "$QUERIES" "$SECONDS_PER_RUN" 1 8 32

echo "## while indexing (c=8): last 200 commits added to the served index"
LIVE=$WORK/live
rm -rf "$LIVE" "$WORK/live-index"
git clone -q "$WORK/contrib" "$LIVE"
HEAD_SHA=$(git -C "$LIVE" rev-parse HEAD)
git -C "$LIVE" reset -q --hard HEAD~200
"$BIN" --quiet --index "$WORK/live-index" index "$LIVE" --collection contrib >/dev/null
git -C "$LIVE" reset -q --hard "$HEAD_SHA"
start_server "$WORK/live-index"
before=$(curl -s "http://127.0.0.1:$PORT/api/v1/stats")
duration=$(( SECONDS_PER_RUN * 3 ))
load 8 "$duration" > "$WORK/live.txt" &
LOAD_PID=$!
sleep 2
/usr/bin/time -f "index_seconds=%e" "$BIN" --quiet --index "$WORK/live-index" index "$LIVE" --collection contrib >/dev/null 2>"$WORK/index-time.txt"
wait "$LOAD_PID"
sleep 1
after=$(curl -s "http://127.0.0.1:$PORT/api/v1/stats")
echo "c=8 $(cat "$WORK/live.txt") rss_mib=$(rss) peak_rss_mib=$(peak) $(tail -1 "$WORK/index-time.txt")"
echo "versions served before: $(echo "$before" | grep -o '"versions":[0-9]*'), after: $(echo "$after" | grep -o '"versions":[0-9]*')"
stop_server
