#!/usr/bin/env bash
# Acceptance on the real bundles of ../shared/corpus: index vlopses-us and pga into one index
# and check every recorded version against git (see scripts/acceptance.py for the checks).
# Prints the versions checked and the mismatches; exits non-zero on any mismatch.
#
#   scripts/acceptance.sh [BUNDLE...]        (default: vlopses-us-versions pga-versions)
#
# Takes about 2 minutes on 2 cores (every version is shown by its own process).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
(cd "$root" && cargo build --release --quiet --bin palimpsest)
work="$(mktemp -d -t palimpsest-acceptance-XXXXXX)"
trap 'rm -rf "$work"' EXIT
if [ "$#" -eq 0 ]; then set -- vlopses-us-versions pga-versions; fi
python3 "$root/scripts/acceptance.py" --work "$work" "$@"
