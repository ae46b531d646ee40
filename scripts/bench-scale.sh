#!/usr/bin/env bash
# How cost grows with the archive (not a test): contrib-versions indexed once, twice and
# four times (the same archive again under other collection names, one build each), then
# served, each size measured in the same run so that the growth per doubling is a ratio.
#
#   scripts/bench-scale.sh [BUNDLE] [WORK_DIR]     (PALIMPSEST_BIN=path: use that binary)
#
# Per size: full build (wall, peak RSS), index size, and the median of 7 requests over HTTP
# for a few searches, the whole-history change list, a change list with a query, and the
# services list. Environment: SCALES (default "1 2 4"), PORT (default 7795).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="${1:-$root/../shared/corpus/contrib-versions.bundle}"
work="${2:-$(mktemp -d -t palimpsest-scale-XXXXXX)}"
bin="${PALIMPSEST_BIN:-$root/target/release/palimpsest}"
scales="${SCALES:-1 2 4}"
port="${PORT:-7795}"
[ -f "$bundle" ] || { echo "no bundle at $bundle: the real archives live in ../shared/corpus" >&2; exit 1; }
for tool in /usr/bin/time curl bc; do
  command -v "$tool" >/dev/null || { echo "needs $tool (Debian packages: time, curl, bc)" >&2; exit 1; }
done
[ -n "${PALIMPSEST_BIN:-}" ] || (cd "$root" && cargo build --release --quiet --bin palimpsest)

name="$(basename "$bundle" .bundle)"
max=$(echo "$scales" | tr ' ' '\n' | sort -n | tail -1)
# One clone per copy: a collection is named after its folder.
for i in $(seq "$max"); do
  [ -d "$work/$name-$i" ] || git -c init.defaultBranch=main clone --quiet "$bundle" "$work/$name-$i"
done

requests=(
  "/api/v1/search?q=cookies"
  "/api/v1/search?q=%22personal+data%22"
  "/api/v1/search?q=arbitration&terms_type=Terms+of+Service"
  "/api/v1/changes?limit=20"
  "/api/v1/changes?q=arbitration&limit=20"
  "/api/v1/services"
)

median_ms() {
  local times=()
  for _ in 1 2 3 4 5 6 7; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port$1")")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 4p | awk '{ printf "%.1f", $1 * 1000 }'
}

printf '| copies | build s | peak RSS MiB | index MiB |'
for r in "${requests[@]}"; do printf ' `%s` ms |' "${r#/api/v1/}"; done
echo
for scale in $scales; do
  index="$work/index-$scale"
  rm -rf "$index"
  paths=()
  for i in $(seq "$scale"); do paths+=("$work/$name-$i"); done
  /usr/bin/time -f '%e %M' -o "$work/time-$scale" "$bin" --index "$index" --quiet index "${paths[@]}" >/dev/null
  read -r wall rss < "$work/time-$scale"
  size=$(du -sb "$index" | cut -f1)
  "$bin" --index "$index" serve --addr "127.0.0.1:$port" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.1; done
  for r in "${requests[@]}"; do curl -s -o /dev/null "http://127.0.0.1:$port$r"; done
  printf '| %s | %s | %s | %s |' "$scale" "$wall" "$((rss / 1024))" "$((size / 1048576))"
  for r in "${requests[@]}"; do printf ' %s |' "$(median_ms "$r")"; done
  echo
  kill "$server"; wait "$server" 2>/dev/null || true
done
