#!/usr/bin/env bash
# Screenshots of the web page's views on a real index, at desktop and phone width, as the
# browser test takes them on the sample:
#
#   scripts/screenshots.sh INDEX OUT_DIR [QUERY]
#
# e.g. after indexing pga and vlopses-us into idx (README, "Index a real archive"):
#   scripts/screenshots.sh idx target/screenshots-real arbitration
#
# PALIMPSEST_BIN chooses the binary (default target/release/palimpsest), PALIMPSEST_CHROMIUM
# the browser (default /usr/bin/chromium), PALIMPSEST_CHROMEDRIVER its driver (default
# /usr/bin/chromedriver). PALIMPSEST_EXTRA_VIEWS adds views, one "NAME /?…" a line.
# Nothing is written but the pictures.
set -euo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,14p' "$0" >&2
  exit 2
fi
index=$1
out=$2
query=${3:-arbitration}
bin=${PALIMPSEST_BIN:-target/release/palimpsest}
chromium=${PALIMPSEST_CHROMIUM:-/usr/bin/chromium}
for tool in "$bin" "$chromium"; do
  [ -x "$tool" ] || { echo "screenshots: $tool is missing" >&2; exit 1; }
done
mkdir -p "$out"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$bin" --index "$index" serve --addr "127.0.0.1:$port" >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "$base/api/v1/health" >/dev/null && break
  sleep 0.2
done

# The views: the same as the browser test's, with the real archive's first hit, its
# document, and a diff of its last two versions.
views=$(BASE="$base" QUERY="$query" python3 - <<'EOF'
import json, os, urllib.parse, urllib.request

base, q = os.environ["BASE"], os.environ["QUERY"]
get = lambda path: json.load(urllib.request.urlopen(base + "/api/v1" + path))
enc = urllib.parse.quote
query = urllib.parse.urlencode
views = [
    ("home", "/"),
    ("search", "/?" + query({"q": q})),
    ("search-history", "/?" + query({"q": q, "mode": "history"})),
    ("search-lower-case-service", None),
    ("history", "/?" + query({"view": "history", "q": q})),
    ("changes", "/?" + query({"view": "changes", "q": q})),
    ("changes-by-version", "/?" + query({"view": "changes", "q": q, "group": "version", "minor": "false"})),
    ("changes-modified", "/?" + query({"view": "changes", "q": q, "kind": "modified"})),
]
hits = get("/search?" + query({"q": q, "limit": 1}))["hits"]
if hits:
    hit = hits[0]
    views[3] = (views[3][0], "/?" + query({"q": q, "service": hit["service"].lower()}))
    document = {"view": "document", "document": f'{hit["service"]}/{hit["terms_type"]}', "collection": hit["collection"]}
    views.append(("document-hit", "/?" + query({**document, "span": hit["span"], "hl": q})))
    versions = get(f'/versions/{enc(hit["service"], safe="")}/{enc(hit["terms_type"], safe="")}?' + query({"collection": hit["collection"]}))["versions"]
    # Two versions that changed the text at the source, else any two with text.
    recorded = [v for v in versions if v["kind"] == "change"] or [v for v in versions if v["kind"] != "deleted"]
    if len(recorded) >= 2:
        diff = {**document, "from_version": recorded[-2]["id"], "to_version": recorded[-1]["id"]}
        views.append(("document-diff", "/?" + query(diff)))
        views.append(("document-diff-split", "/?" + query({**diff, "layout": "split"})))
for name, target in views:
    if target:
        print(name, target)
EOF
)

views="$views"$'\n'"${PALIMPSEST_EXTRA_VIEWS:-}"

# Through chromedriver (WebDriver), as the browser test does: headless `--screenshot`
# paints nothing once the page has scrolled to a match.
driver=${PALIMPSEST_CHROMEDRIVER:-/usr/bin/chromedriver}
[ -x "$driver" ] || { echo "screenshots: $driver is missing" >&2; exit 1; }
dport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$driver" --port="$dport" >/dev/null 2>&1 &
chromedriver=$!
trap 'kill "$server" "$chromedriver" 2>/dev/null || true' EXIT
VIEWS="$views" BASE="$base" OUT="$out" DRIVER="http://127.0.0.1:$dport" CHROMIUM="$chromium" python3 - <<'EOF'
import base64, json, os, time, urllib.request

driver, base, out = os.environ["DRIVER"], os.environ["BASE"], os.environ["OUT"]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(driver + path, data=data, method=method, headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request, timeout=60))["value"]


for _ in range(100):
    try:
        call("GET", "/status")
        break
    except OSError:
        time.sleep(0.2)
args = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-dev-shm-usage"]
options = {"binary": os.environ["CHROMIUM"], "args": args}
session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}})["sessionId"]
s = f"/session/{session}"
busy = "return !!document.querySelector('main[aria-busy], main > .loading')"
try:
    for line in filter(str.strip, os.environ["VIEWS"].splitlines()):
        name, target = line.split(" ", 1)
        for width, (w, h) in {"desktop": (1280, 900), "phone": (390, 844)}.items():
            call("POST", s + "/window/rect", {"width": w, "height": h})
            call("POST", s + "/url", {"url": base + target})
            for _ in range(150):
                if not call("POST", s + "/execute/sync", {"script": busy, "args": []}):
                    break
                time.sleep(0.1)
            # The whole page, as the browser test takes it: the window grows to the page's
            # height (up to 3,000 px) for the picture.
            page, inner = call("POST", s + "/execute/sync", {"script": "return [document.documentElement.scrollHeight, window.innerHeight]", "args": []})
            tall = min(max(h, page + h - inner), 3000)
            if tall > h:
                call("POST", s + "/window/rect", {"width": w, "height": tall})
            path = os.path.join(out, f"{name}-{width}.png")
            with open(path, "wb") as f:
                f.write(base64.b64decode(call("GET", s + "/screenshot")))
            print(path)
finally:
    call("DELETE", s)
EOF
