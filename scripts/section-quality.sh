#!/usr/bin/env bash
# Section quality on the real bundles of ../shared/corpus: per collection, sections per
# version (median, p95), the share of versions over 1,000 words cut into at least 3 sections
# (aim >= 95 %), the share of sections over 1,500 words (aim <= 2 %), and the long versions
# cut worst. See examples/section_quality.rs.
#
#   scripts/section-quality.sh [BUNDLE...]   (default: vlopses-us, pga and contrib versions)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="$root/../shared/corpus"
(cd "$root" && cargo build --release --quiet --example section_quality)
work="$(mktemp -d -t palimpsest-sections-XXXXXX)"
trap 'rm -rf "$work"' EXIT
if [ "$#" -eq 0 ]; then set -- vlopses-us-versions pga-versions contrib-versions; fi
repos=()
for name in "$@"; do
  bundle="$corpus/${name%.bundle}.bundle"
  [ -f "$bundle" ] || { echo "no bundle at $bundle: the real archives live in ../shared/corpus" >&2; exit 1; }
  git -c init.defaultBranch=main clone --quiet "$bundle" "$work/${name%.bundle}"
  repos+=("$work/${name%.bundle}")
done
"$root/target/release/examples/section_quality" "${repos[@]}"
