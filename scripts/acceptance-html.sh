#!/usr/bin/env bash
# Acceptance of HTML snapshot extraction on the demo bundles of ../shared/corpus: index the
# 16,664 snapshot commits of demo-snapshots with demo-declarations, then compare each version
# Open Terms Archive extracted (demo-versions) with ours of the same snapshot by token F1
# (see scripts/acceptance-html.py). Prints per-document F1, the median and the minimum, and
# snapshot commits read → versions kept beside OTA's 143 versions.
#
#   scripts/acceptance-html.sh            (PALIMPSEST_BIN=path skips the release build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$root/../shared/corpus" ]; then
    echo "skipped: $root/../shared/corpus is absent (the demo bundles are needed)"
    exit 0
fi
bin="${PALIMPSEST_BIN:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release --quiet --bin palimpsest)
    bin="${CARGO_TARGET_DIR:-$root/target}/release/palimpsest"
fi
work="$(mktemp -d -t palimpsest-acceptance-html-XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/acceptance-html.py" --bin "$bin" --work "$work"
