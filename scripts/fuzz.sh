#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ for a given time each and summarizes every run.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default: 60 s; search_request split html paths)
#
# Environment: FUZZ_JOBS=N runs N targets at once (default 1); FUZZ_SANITIZER=none builds
# without AddressSanitizer (default: address); FUZZ_NICE=N runs the fuzzers under `nice -n N`.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); installs nothing. It works with the
# stable toolchain: RUSTC_BOOTSTRAP=1 lets it take the nightly flags cargo-fuzz passes.
# Builds the targets (release, debug assertions on, as cargo-fuzz does), seeds empty corpora
# from the sample archive (corpus/sample) and fuzz/seeds, runs each target with
# -max_total_time=SECONDS -rss_limit_mb=4096 -timeout=10 (an input taking over 10 s is a
# finding), then replays its corpus to time the slowest kept input.
#
# Writes logs to fuzz/logs/<target>.log, the corpus to fuzz/corpus/<target>, findings to
# fuzz/artifacts/<target>/ (crash-*, timeout-*, oom-*, slow-unit-*). Prints one line per
# target; exits 1 if any target crashed, timed out or ran out of memory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

all=(search_request split html paths)
seconds="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"
nice_level="${FUZZ_NICE:-0}"
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || { echo "SECONDS must be a whole number above 0, not '$seconds'" >&2; exit 2; }
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "unknown target '$t' (targets: ${all[*]})" >&2; exit 2; }
done
command -v cargo-fuzz >/dev/null || {
  echo "cargo-fuzz is not installed: run 'cargo install cargo-fuzz --locked' (it works on stable Rust)" >&2
  exit 2
}

export RUSTC_BOOTSTRAP=1
triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="$root/fuzz/target/$triple/release"
build_args=()
[ ${#targets[@]} -eq 1 ] && build_args=("${targets[0]}")
build_start=$SECONDS
cargo fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer" "${build_args[@]}"
echo "built the fuzz targets in $(( SECONDS - build_start )) s (sanitizer: $sanitizer)"

mkdir -p fuzz/logs fuzz/corpus fuzz/artifacts

# Seeds from the sample archive, written only into an empty corpus.
seed() {
  local target="$1" dir="fuzz/corpus/$1" n=0
  mkdir -p "$dir"
  [ -z "$(ls -A "$dir")" ] || return 0
  local files=()
  while IFS= read -r -d '' f; do files+=("$f"); done \
    < <(find corpus/sample -type f -name '*.md' ! -name README.md -print0 | sort -z)
  put() { printf '%s' "$1" > "$dir/sample-$n"; n=$((n + 1)); }
  case "$target" in
    split)
      for f in "${files[@]}"; do cp "$f" "$dir/sample-$n"; n=$((n + 1)); done
      ;;
    html)
      # Each sample version as a page: headings, paragraphs and list items in elements.
      for f in "${files[@]}"; do
        awk 'BEGIN { print "<!doctype html><html><body><nav>Menu</nav><main>" }
             /^#+ / { l = index($0, " ") - 1; print "<h" l ">" substr($0, l + 2) "</h" l ">"; next }
             /^[-*] / { print "<ul><li>" substr($0, 3) "</li></ul>"; next }
             /^[ \t]*$/ { next }
             { print "<p>" $0 "</p>" }
             END { print "</main><footer>Footer</footer></body></html>" }' "$f" > "$dir/sample-$n"
        n=$((n + 1))
        { echo '{"select": "main", "remove": ["nav", {"startBefore": "h2", "endBefore": "p"}]}'
          cat "$dir/sample-$((n - 1))"; } > "$dir/sample-$n"
        n=$((n + 1))
      done
      ;;
    paths)
      for f in "${files[@]}"; do
        rel="${f#corpus/sample/}"
        put "$rel"
        service="${rel%%/*}" rest="${rel#*/}"
        put "$service/${rest%%/*}.html"
      done
      ;;
    search_request)
      local services=() types=() dates=() words=()
      for f in "${files[@]}"; do
        rel="${f#corpus/sample/}"
        services+=("${rel%%/*}")
        rest="${rel#*/}"
        types+=("${rest%%/*}")
        dates+=("${rest#*/}")
      done
      mapfile -t words < <(cat "${files[@]}" | tr -cs 'A-Za-z' '\n' | awk 'length > 4' | sort | uniq -c | sort -rn | awk 'NR <= 12 { print $2 }')
      mapfile -t headings < <(cat "${files[@]}" | sed -n 's/^#\{1,6\} //p' | sort -u | head -12)
      enc() { printf '%s' "$1" | sed 's/%/%25/g; s/&/%26/g; s/+/%2B/g; s/>/%3E/g; s/ /+/g'; }
      for i in "${!services[@]}"; do
        d="${dates[$i]%%T*}"
        put "q=$(enc "${words[$((i % ${#words[@]}))]}")&service=$(enc "${services[$i]}")&terms_type=$(enc "${types[$i]}")&as_of=$d"
        put "q=%22$(enc "${words[$(((i + 1) % ${#words[@]}))]} ${words[$(((i + 2) % ${#words[@]}))]}")%22&from=$d&history=true&limit=5&offset=$i"
      done
      for h in "${headings[@]}"; do
        put "q=$(enc "$h")&section=$(enc "${services[0]} > $h")&year=2024"
      done
      put "q=*"
      put "q=$(enc "${words[0]} AND (${words[1]} OR NOT ${words[2]}) -${words[3]} +${words[4]}")&to=2024-01-01T00:00:00Z"
      ;;
  esac
}

# Runs one target; its summary goes to fuzz/logs/<target>.summary.
run() {
  local target="$1"
  local log="fuzz/logs/$target.log" artifacts="fuzz/artifacts/$target"
  local marker="fuzz/logs/$target.start" tmp="fuzz/logs/tmp-$target"
  mkdir -p "$artifacts" "$tmp"
  touch "$marker"
  local args=(
    "fuzz/corpus/$target" "fuzz/seeds/$target"
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=10
    -report_slow_units=1 -print_final_stats=1 -artifact_prefix="$artifacts/"
  )
  [ -f "fuzz/dicts/$target.dict" ] && args+=(-dict="fuzz/dicts/$target.dict")
  local start=$SECONDS status=0
  # TMPDIR: where search_request builds its index; removed after the run.
  TMPDIR="$root/$tmp" nice -n "$nice_level" "$bin_dir/$target" "${args[@]}" > "$log" 2>&1 || status=$?
  local wall=$(( SECONDS - start ))

  local runs rate slowest_s peak new findings
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  slowest_s="$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -1)"
  peak="$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)"
  new="$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -1)"
  findings="$(find "$artifacts" -newer "$marker" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"

  # The slowest kept input: replay the corpus twice (libFuzzer times each file) and keep each
  # file's best time, then run the five slowest three times more: a busy machine delays one
  # run of an input, seldom all of them.
  local replay="fuzz/logs/$target.replay" slowest_ms="?" slowest_file=""
  if [ "$status" -eq 0 ]; then
    : > "$replay"
    for _ in 1 2; do
      find "fuzz/corpus/$target" "fuzz/seeds/$target" -type f -print0 2>/dev/null \
        | TMPDIR="$root/$tmp" nice -n "$nice_level" xargs -0 -r -n 500 "$bin_dir/$target" -timeout=10 -rss_limit_mb=4096 >> "$replay" 2>&1 || status=$?
    done
    read -r slowest_ms slowest_file < <(
      sed -n 's/^Executed \(.*\) in \([0-9]*\) ms$/\2 \1/p' "$replay" |
        awk '!($2 in best) || $1 < best[$2] { best[$2] = $1 } END { for (f in best) print best[f], f }' |
        sort -rn | head -5 |
        while read -r ms file; do
          { TMPDIR="$root/$tmp" nice -n "$nice_level" "$bin_dir/$target" -timeout=10 "$file" "$file" "$file" < /dev/null 2>&1 |
              sed -n 's/^Executed .* in \([0-9]*\) ms$/\1/p'
            echo "$ms"; } | sort -n | head -1 | sed "s|\$| $file|"
        done | sort -rn | head -1
    ) || true
  fi
  rm -rf "$tmp" "$marker"

  local result=ok
  if [ "$status" -ne 0 ] || [ "$findings" -gt 0 ]; then
    result="FAILED (exit $status; see $log and $artifacts/)"
  fi
  printf '%-15s %s: %s runs in %s s (%s exec/s), %s crashes, slowest unit %s s while fuzzing, slowest corpus input %s ms (%s), %s new units, peak RSS %s MB\n' \
    "$target" "$result" "${runs:-?}" "$wall" "${rate:-?}" "$findings" "${slowest_s:-?}" "${slowest_ms:-?}" "${slowest_file##*/}" "${new:-?}" "${peak:-?}" \
    > "fuzz/logs/$target.summary"
  [ "$result" = ok ]
}

for t in "${targets[@]}"; do seed "$t"; done

for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "fuzzing $t for $seconds s (log: fuzz/logs/$t.log)"
  rm -f "fuzz/logs/$t.summary"
  run "$t" &
done
wait || true

echo
passed=0 failed=0
for t in "${targets[@]}"; do
  if [ -f "fuzz/logs/$t.summary" ]; then cat "fuzz/logs/$t.summary"; else echo "$t: no summary (the run was cut short)"; fi
  if grep -q '^[a-z_]* *ok:' "fuzz/logs/$t.summary" 2>/dev/null; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
