#!/usr/bin/env bash
# Acceptance of `history` against `git log -S` on the real bundles of ../shared/corpus:
# agreement of first_seen for 50 random phrases (pga and vlopses-us), then the time of both
# on contrib-versions (see scripts/acceptance_history.py).
#
#   scripts/acceptance-history.sh [--phrases N] [--timing-phrases N] [--seed S] [--no-timing]
#                                 [--contrib EXISTING_CLONE]
#
# Takes about 10 minutes on 2 cores, most of it git log -S on contrib-versions.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$root/../shared/corpus" ]; then
    echo "../shared/corpus is missing: this check needs the real bundles" >&2
    exit 2
fi
(cd "$root" && cargo build --release --quiet --bin palimpsest)
work="$(mktemp -d -t palimpsest-history-XXXXXX)"
trap 'rm -rf "$work"' EXIT
python3 "$root/scripts/acceptance_history.py" --bin "$root/target/release/palimpsest" --work "$work" "$@"
