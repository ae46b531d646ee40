#!/usr/bin/env bash
# Indexing benchmark on a real archive (default: contrib-versions, the scale case).
#
#   scripts/bench-index.sh [BUNDLE] [WORK_DIR]     (PALIMPSEST_BIN=path: use that binary)
#
# Measures, in one run so that ratios hold on a noisy machine:
#   baseline  reading every blob of the repository with `git cat-file --batch-all-objects`
#             (the I/O and decompression any indexer of this archive must pay);
#   naive     a one-document-per-version Tantivy index of the same versions, whole text with
#             positions, nothing stored (`examples/naive_index.rs`, NAIVE_BIN=path to override);
#   full      `palimpsest index --rebuild` of the whole history: wall time, peak memory;
#   size      the index on disk, against the archive's text (all versions, re-records included);
#   update    an index built at HEAD~100, then updated with the last 100 commits;
#   noop      `palimpsest index` again with nothing new.
# Design targets: full build under 20 s, index under 10 % of the text, update under 2 s.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle="${1:-$root/../shared/corpus/contrib-versions.bundle}"
work="${2:-$(mktemp -d -t palimpsest-bench-XXXXXX)}"
bin="${PALIMPSEST_BIN:-$root/target/release/palimpsest}"
[ -f "$bundle" ] || { echo "no bundle at $bundle: the real archives live in ../shared/corpus" >&2; exit 1; }
for tool in /usr/bin/time bc jq; do
  command -v "$tool" >/dev/null || { echo "needs $tool (Debian packages: time, bc, jq)" >&2; exit 1; }
done
[ -n "${PALIMPSEST_BIN:-}" ] || (cd "$root" && cargo build --release --quiet --bin palimpsest)

name="$(basename "$bundle" .bundle)"
repo="$work/$name"
[ -d "$repo" ] || git -c init.defaultBranch=main clone --quiet "$bundle" "$repo"
git -C "$repo" checkout --quiet --detach HEAD
head="$(git -C "$repo" rev-parse HEAD)"

seconds() { date +%s.%N; }
elapsed() { echo "$(seconds) - $1" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }

echo "archive: $name, $(git -C "$repo" rev-list --count HEAD) commits, work dir $work"
git -C "$repo" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' >/dev/null

start=$(seconds)
text_bytes=$(git -C "$repo" log --format= --raw --no-abbrev --no-renames -- '*/*.md' \
  | awk '$5 != "D" { print $4 }' | git -C "$repo" cat-file --batch-check='%(objectsize)' \
  | awk '{ s += $1 } END { print s }')
git -C "$repo" cat-file --batch-all-objects --batch --unordered >/dev/null
baseline=$(elapsed "$start")
echo "baseline: listing and reading every object with git: ${baseline} s; text of all versions $((text_bytes / 1048576)) MiB"

naive_bin="${NAIVE_BIN:-$root/target/release/examples/naive_index}"
[ -x "$naive_bin" ] || (cd "$root" && cargo build --release --workspace --examples -q)
start=$(seconds)
"$naive_bin" "$repo" "$work/naive-index"
naive=$(elapsed "$start")
naive_size=$(du -sb "$work/naive-index" | cut -f1)
echo "naive index: ${naive} s, $((naive_size / 1048576)) MiB"

index="$work/index"
/usr/bin/time -v -o "$work/full.time" "$bin" --index "$index" --quiet index --rebuild "$repo"
full=$(grep 'Elapsed (wall' "$work/full.time" | awk '{ print $NF }' | awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
rss=$(grep 'Maximum resident' "$work/full.time" | awk '{ print $NF }')
size=$(du -sb "$index" | cut -f1)
echo "full build: ${full} s ($(ratio "$full" "$baseline") x baseline, $(ratio "$full" "$naive") x the naive index); peak RSS $((rss / 1024)) MiB"
echo "index size: $((size / 1048576)) MiB = $(echo "scale=1; 100 * $size / $text_bytes" | bc) % of the text"
"$bin" --index "$index" stats

start=$(seconds)
"$bin" --index "$index" --quiet index "$repo"
noop=$(elapsed "$start")
echo "nothing new: ${noop} s"

git -C "$repo" checkout --quiet --detach HEAD~100
"$bin" --index "$work/index-update" --quiet index --rebuild "$repo"
git -C "$repo" checkout --quiet --detach "$head"
start=$(seconds)
"$bin" --index "$work/index-update" --quiet index "$repo"
update=$(elapsed "$start")
echo "update with the last 100 commits: ${update} s ($(ratio "$update" "$baseline") x baseline)"

# The updated index must hold and answer exactly what the full build does (scores aside:
# BM25 statistics count deleted documents until segments merge).
counts() { "$bin" --index "$1" --json stats | jq -c '[.collections, .documents, .versions, .spans]'; }
[ "$(counts "$index")" = "$(counts "$work/index-update")" ] \
  || { echo "MISMATCH: stats differ between full build and update" >&2; exit 1; }
for q in privacy '"personal data"' arbitration 'cookies AND advertising'; do
  answer() { "$bin" --index "$1" --json search "$q" --history --limit 100 | jq -cS '{total, facets}'; }
  [ "$(answer "$index")" = "$(answer "$work/index-update")" ] \
    || { echo "MISMATCH: search $q differs between full build and update" >&2; exit 1; }
done
echo "full build and update agree: same counts, same totals and facets for 4 queries over all history"
