#!/usr/bin/env bash
# Instructions of a full build against the naive index, counted by callgrind (all threads):
# unlike seconds, a count does not move with the machine's load, so two builds of the
# project compare to the instruction (BENCHMARKS.md, "Where a full build's time goes").
#
#   scripts/bench-instructions.sh [BUNDLE] [WORK_DIR]
#
# PALIMPSEST_BIN and NAIVE_BIN choose the binaries, as for scripts/bench-index.sh. The
# default archive is pga-versions (4,857 versions: about six minutes under callgrind, the
# two builds side by side on two cores).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="${1:-$root/../shared/corpus/pga-versions.bundle}"
work="${2:-$(mktemp -d -t palimpsest-instructions-XXXXXX)}"
bin="${PALIMPSEST_BIN:-$root/target/release/palimpsest}"
naive_bin="${NAIVE_BIN:-$root/target/release/examples/naive_index}"
[ -f "$bundle" ] || { echo "no bundle at $bundle: the real archives live in ../shared/corpus" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "needs valgrind (Debian package: valgrind)" >&2; exit 1; }
[ -n "${PALIMPSEST_BIN:-}" ] || (cd "$root" && cargo build --release --quiet --bin palimpsest)
[ -n "${NAIVE_BIN:-}" ] || (cd "$root" && cargo build --release --quiet --example naive_index)

repo="$work/$(basename "$bundle" .bundle)"
[ -d "$repo" ] || git -c init.defaultBranch=main clone --quiet "$bundle" "$repo"
rm -rf "$work/index" "$work/naive-index"

count() { # NAME COMMAND...: runs COMMAND under callgrind, prints its instruction count
  local name=$1; shift
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.callgrind" "$@" \
    >"$work/$name.log" 2>&1 || { echo "$name failed: see $work/$name.log" >&2; return 1; }
  grep -o 'refs: *[0-9,]*' "$work/$name.log" | tr -dc '0-9'
}
count palimpsest "$bin" --index "$work/index" --quiet index "$repo" >"$work/palimpsest.count" &
project=$!
count naive "$naive_bin" "$repo" "$work/naive-index" >"$work/naive.count"
wait "$project"
ours=$(cat "$work/palimpsest.count")
naive=$(cat "$work/naive.count")
echo "full build: $ours instructions; naive index: $naive; ratio $(echo "scale=3; $ours / $naive" | bc)"
