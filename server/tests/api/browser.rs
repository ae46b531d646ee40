//! The web page in a real headless browser: Debian's chromium driven through chromedriver
//! (WebDriver) against the server on the sample archive. Each step checks what the page
//! shows against what the engine answers, and saves a screenshot of each view at desktop
//! and phone width under `target/tmp/screenshots/` (or `PALIMPSEST_SCREENSHOTS`).
//!
//! Without chromium and chromedriver (`apt-get install chromium chromium-driver`) the test
//! says so and passes, except when `CI` or `PALIMPSEST_BROWSER_TESTS` is set: there a
//! missing browser fails.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use palimpsest_search::HistoryRequest;
use serde_json::json;
use tokio::net::TcpListener;

use super::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);
const WAIT: Duration = Duration::from_secs(15);

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("PALIMPSEST_BROWSER_TESTS").is_some()
}

fn start_driver() -> Option<Driver> {
    let driver = std::env::var("PALIMPSEST_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    let missing = [driver.as_str(), chromium().as_str()]
        .into_iter()
        .find(|p| !Path::new(p).exists())
        .map(str::to_owned);
    if let Some(missing) = missing {
        assert!(
            !browser_required(),
            "{missing} is missing: install Debian's chromium and chromium-driver (as .ci/run does)"
        );
        eprintln!(
            "browser test skipped: {missing} is missing (apt-get install chromium chromium-driver)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver}: {e}"));
    Some(Driver { child, port })
}

fn chromium() -> String {
    std::env::var("PALIMPSEST_CHROMIUM").unwrap_or_else(|_| CHROMIUM.into())
}

async fn connect(driver: &Driver) -> Client {
    let profile = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": chromium(),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.keep().display()),
            ],
        },
    });
    let serde_json::Value::Object(capabilities) = capabilities else {
        unreachable!()
    };
    let url = format!("http://127.0.0.1:{}", driver.port);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot open a chromium session through chromedriver: {e}"),
        }
    }
}

async fn start_server() -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    start_server_with(test_app()).await
}

async fn start_server_with(app: Router) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(palimpsest_server::serve_on(
        listener,
        app,
        Duration::from_secs(10),
        Duration::from_secs(30),
        Duration::from_secs(5),
        async {
            stopped.await.ok();
        },
    ));
    (addr, stop)
}

fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("PALIMPSEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A browser session on the page, with the helpers the steps share.
struct Page {
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Page {
    async fn open(&self, target: &str) {
        self.client
            .goto(&format!("{}{target}", self.base))
            .await
            .unwrap();
        self.settled().await;
    }

    /// Waits until the page has drawn its answer (`main` no longer busy).
    async fn settled(&self) {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css("main:not([aria-busy]) > :not(.loading)"))
            .await
            .unwrap_or_else(|e| panic!("the page did not finish drawing: {e}"));
    }

    async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element `{css}`: {e}"))
    }

    async fn all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    async fn query_string(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        url.query().unwrap_or("").to_owned()
    }

    /// Clicks a link and waits for the page the URL now names.
    async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
        self.settled().await;
    }

    async fn script(&self, code: &str) -> serde_json::Value {
        self.client.execute(code, vec![]).await.unwrap()
    }

    /// Saves the whole page as `{name}-{width}.png`: the window grows to the page's height
    /// (the window up to 3,000 px) for the picture, then returns to its size.
    async fn shot(&self, name: &str, width: &str) {
        let (w, h) = self.client.get_window_size().await.unwrap();
        let sizes = self
            .script("return [document.documentElement.scrollHeight, window.innerHeight]")
            .await;
        let size = |i: usize| sizes[i].as_u64().unwrap_or(h);
        // The window is taller than the page's viewport by its frame.
        let tall = (size(0) + h.saturating_sub(size(1))).clamp(h, 3_000);
        if tall > h {
            self.client
                .set_window_size(w as u32, tall as u32)
                .await
                .unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        if tall > h {
            self.client
                .set_window_size(w as u32, h as u32)
                .await
                .unwrap();
        }
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        std::fs::write(self.shots.join(format!("{name}-{width}.png")), png).unwrap();
    }

    async fn resize(&self, (width, height): (u32, u32)) {
        self.client.set_window_size(width, height).await.unwrap();
    }
}

fn query_has(query: &str, pair: &str) -> bool {
    query.split('&').any(|p| p == pair)
}

/// The views the journey passes through, revisited at phone width.
const VIEWS: [(&str, &str); 11] = [
    ("home", "/"),
    ("search", "/?q=data"),
    ("search-facet", "/?q=data&service=Birdsong"),
    ("search-history", "/?q=data&mode=history"),
    ("history", "/?view=history&q=%22artificial+intelligence%22"),
    ("changes", "/?view=changes"),
    (
        "document",
        "/?view=document&document=Acme+Cloud%2FTerms+of+Service&collection=sample",
    ),
    ("error", "/?q=nofield%3Ax"),
    (
        "document-markdown",
        "/?view=document&document=Dune+Maps%2FPrivacy+Policy&collection=sample",
    ),
    (
        "changes-by-version",
        "/?view=changes&group=version&minor=false",
    ),
    ("changes-split", "/?view=changes&layout=split"),
];

/// The page and every file it links to are served from the binary, with a policy that
/// forbids other origins, and revalidated by ETag.
#[tokio::test]
async fn the_page_and_its_assets_are_served() {
    let app = test_app();
    let fetch = |uri: &'static str, etag: Option<String>| {
        let app = app.clone();
        async move {
            let mut request = Request::get(uri);
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            let response = app
                .oneshot(request.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            (status, headers, String::from_utf8(body.to_vec()).unwrap())
        }
    };
    let (status, headers, page) = fetch("/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    for (asset, kind) in [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/icon.svg", "image/svg+xml"),
    ] {
        assert!(
            page.contains(&format!("\"{asset}\"")),
            "the page links {asset}"
        );
        let (status, headers, body) = fetch(asset, None).await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert_eq!(headers[header::CONTENT_TYPE], kind, "{asset}");
        // The SVG namespace is a name, not an address.
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("http://") && !body.contains("https://"),
            "{asset} names no other origin"
        );
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let (status, _, body) = fetch(asset, Some(etag)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{asset}");
        assert!(body.is_empty());
    }
    assert!(
        !page.contains("https://"),
        "the page loads nothing from another origin"
    );
    let answer = get(&app, "/assets/missing.js").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_in_a_real_browser() {
    let Some(driver) = start_driver() else {
        return;
    };
    let (addr, stop) = start_server().await;
    in_browser(&driver, addr, |page| async move {
        journey(&page, &engine()).await
    })
    .await;
    stop.send(()).ok();
}

/// Runs `steps` on a page of the server at `addr`, in a task of their own so that a failed
/// step still closes the browser (and leaves a screenshot of where it failed).
async fn in_browser<F, Fut>(driver: &Driver, addr: SocketAddr, steps: F)
where
    F: FnOnce(Page) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let page = Page {
        client: connect(driver).await,
        base: format!("http://{addr}"),
        shots: screenshot_dir(),
    };
    page.resize(DESKTOP).await;
    let client = page.client.clone();
    let outcome = tokio::spawn(steps(page)).await;
    if outcome.is_err()
        && let Ok(png) = client.screenshot().await
    {
        let path = screenshot_dir().join("failure.png");
        std::fs::write(&path, png).ok();
        eprintln!("the page when the step failed: {}", path.display());
    }
    client.close().await.ok();
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

async fn journey(page: &Page, engine: &Engine) {
    // Home: what the archive holds, one row per document.
    page.open("/").await;
    let rows = page.all("table.documents tbody tr").await;
    let documents = engine
        .services()
        .unwrap()
        .services
        .iter()
        .map(|s| s.documents.len())
        .sum::<usize>();
    assert_eq!(rows.len(), documents, "one row per document");
    page.shot("home", "desktop").await;

    // A search typed in the box and sent with Enter.
    page.script("document.activeElement.blur()").await;
    page.client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("/")
        .await
        .unwrap();
    let focused = page.script("return document.activeElement.id").await;
    assert_eq!(focused, json!("q"), "`/` puts the cursor in the search box");
    page.find("#q")
        .await
        .send_keys("data\u{E007}")
        .await
        .unwrap();
    page.settled().await;
    page.find("ol.hits").await;
    let expected = engine.search(&SearchRequest::new("data")).unwrap();
    let hits = page.all("ol.hits > li").await;
    assert_eq!(hits.len(), expected.hits.len());
    let summary = page.text("h1.summary").await;
    assert!(
        summary.starts_with(&format!("{} sections in force now", expected.total)),
        "{summary}"
    );
    let marks = page.all("ol.hits mark").await;
    assert!(!marks.is_empty(), "matches are highlighted");
    assert_eq!(marks[0].text().await.unwrap().to_lowercase(), "data");
    let first = page.text("ol.hits > li:first-child .doc strong").await;
    assert_eq!(first, expected.hits[0].service);
    assert!(query_has(&page.query_string().await, "q=data"));
    page.shot("search", "desktop").await;

    // A facet click filters; the URL holds it; Back undoes it.
    page.click("a.facet[href*='service=Birdsong']").await;
    let filtered = engine
        .search(&SearchRequest {
            filters: Filters {
                services: vec!["Birdsong".into()],
                ..Filters::default()
            },
            ..SearchRequest::new("data")
        })
        .unwrap();
    let services = page.all("ol.hits .doc strong").await;
    assert_eq!(services.len(), filtered.hits.len());
    for s in services {
        assert_eq!(s.text().await.unwrap(), "Birdsong");
    }
    assert!(query_has(&page.query_string().await, "service=Birdsong"));
    assert_eq!(
        page.find("a.facet[aria-pressed='true']")
            .await
            .text()
            .await
            .unwrap()
            .lines()
            .next(),
        Some("Birdsong")
    );
    assert!(page.text(".chips").await.contains("Birdsong"));
    page.shot("search-facet", "desktop").await;
    page.client.back().await.unwrap();
    page.settled().await;
    assert!(!page.query_string().await.contains("service="));
    assert_eq!(page.all("ol.hits > li").await.len(), expected.hits.len());

    // The facet links work from the keyboard too.
    page.script("document.querySelector(\"a.facet[href*='service=Birdsong']\").focus()")
        .await;
    page.client
        .find(Locator::Css("a.facet[href*='service=Birdsong']"))
        .await
        .unwrap()
        .send_keys("\u{E007}")
        .await
        .unwrap();
    page.settled().await;
    assert!(query_has(&page.query_string().await, "service=Birdsong"));
    page.client.back().await.unwrap();
    page.settled().await;

    // Time modes: all history, then as of a date.
    page.click("input[name=mode][value=history]").await;
    let all = engine
        .search(&SearchRequest {
            time: TimeMode::History,
            ..SearchRequest::new("data")
        })
        .unwrap();
    assert!(query_has(&page.query_string().await, "mode=history"));
    let summary = page.text("h1.summary").await;
    assert!(
        summary.starts_with(&format!("{} sections ever recorded", all.total)),
        "{summary}"
    );
    page.shot("search-history", "desktop").await;
    page.script(
        "const d = document.querySelector('input[name=as_of]'); d.value = '2023-07-01';\
         document.querySelector('input[name=mode][value=as_of]').checked = true;\
         d.dispatchEvent(new Event('change', {bubbles: true}));",
    )
    .await;
    page.settled().await;
    let at = Timestamp::parse("2023-07-01").unwrap();
    let then = engine
        .search(&SearchRequest {
            time: TimeMode::AsOf(at),
            ..SearchRequest::new("data")
        })
        .unwrap();
    let query = page.query_string().await;
    assert!(
        query_has(&query, "mode=as_of") && query_has(&query, "as_of=2023-07-01"),
        "{query}"
    );
    let summary = page.text("h1.summary").await;
    assert!(
        summary.starts_with(&format!(
            "{} {} in force on 2023-07-01",
            then.total,
            if then.total == 1 {
                "section"
            } else {
                "sections"
            }
        )),
        "{summary}"
    );

    // Opening a hit shows the version in force at that date, on the span that matched
    // (not the first section with its heading), the query's words marked, the first
    // match in the section the current one.
    let hit = &then.hits[0];
    page.click("ol.hits > li:first-child h2 a").await;
    page.find("article.text").await;
    let focused = page.find(".part.focus").await;
    assert_eq!(
        focused.attr("data-span").await.unwrap().as_deref(),
        Some(hit.span.as_str())
    );
    assert!(
        focused
            .text()
            .await
            .unwrap()
            .contains(hit.section.last().unwrap()),
        "the focused section has the hit's heading"
    );
    let current = page.find(".part.focus mark.current").await;
    assert_eq!(current.text().await.unwrap().to_lowercase(), "data");
    let in_view = page
        .script(
            "const r = document.querySelector('mark.current').getBoundingClientRect();\
             return r.top >= 0 && r.bottom <= window.innerHeight;",
        )
        .await;
    assert_eq!(in_view, json!(true), "the match is scrolled into view");
    let marks = page.all("article.text mark").await.len();
    assert!(marks >= 1, "the query's words are marked in the document");
    let nav = page.text(".match-nav .where").await;
    assert!(nav.ends_with(&format!("of {marks}")), "{nav}");
    if marks > 1 {
        page.find("button.next-match").await.click().await.unwrap();
        let nav = page.text(".match-nav .where").await;
        assert!(nav.starts_with("Match 2 of"), "{nav}");
        page.find("button.prev-match").await.click().await.unwrap();
        assert!(
            page.text(".match-nav .where")
                .await
                .starts_with("Match 1 of")
        );
    }
    page.shot("document-hit", "desktop").await;
    let shown = engine
        .show(&ShowRequest {
            service: hit.service.clone(),
            terms_type: hit.terms_type.clone(),
            collection: None,
            at: Some(at),
            version: None,
        })
        .unwrap();
    let current = page.find(".versions a[aria-current='true']").await;
    assert_eq!(
        current.attr("title").await.unwrap().as_deref(),
        Some(shown.id.as_str())
    );

    // The text is Markdown rendered: a list, and a link to the source site that does not
    // pass this page's address on.
    let dune = engine
        .versions("Dune Maps", "Privacy Policy", Some("sample"))
        .unwrap();
    page.open(VIEWS[8].1).await;
    page.find("article.text").await;
    assert_eq!(page.all("article.text ul > li").await.len(), 2, "a list");
    let link = page
        .find("article.text a[href='https://dune-maps.example/cookies']")
        .await;
    assert_eq!(link.text().await.unwrap(), "cookie notice");
    let rel = link.attr("rel").await.unwrap().unwrap_or_default();
    assert!(
        rel.contains("nofollow") && rel.contains("noopener"),
        "{rel}"
    );
    let raw = page.text("article.text").await;
    assert!(
        !raw.contains("**") && !raw.contains("](") && !raw.contains("\n- "),
        "no Markdown syntax shows: {raw}"
    );
    page.shot("document-markdown", "desktop").await;
    // Its diff folds the unchanged paragraphs of a changed section away, behind a button.
    page.open(&format!(
        "{}&from_version={}&to_version={}",
        VIEWS[8].1, dune.versions[0].id, dune.versions[1].id
    ))
    .await;
    let fold = page.find(".diffs .folded button").await;
    assert!(
        fold.text()
            .await
            .unwrap()
            .starts_with("2 unchanged paragraphs"),
        "{:?}",
        fold.text().await
    );
    let hidden = page.all(".diffs [hidden]").await.len();
    assert_eq!(hidden, 2, "the folded paragraphs are hidden");
    fold.click().await.unwrap();
    assert!(
        page.all(".diffs [hidden]").await.is_empty(),
        "a click shows them"
    );
    assert!(page.all(".diffs .folded").await.is_empty());

    // A filter typed in lower case finds the service as it is spelt; a name with a typo
    // is refused with a link to the close name.
    page.open("/?q=data&service=birdsong").await;
    let services = page.all("ol.hits .doc strong").await;
    assert!(!services.is_empty(), "service=birdsong finds Birdsong");
    for s in services {
        assert_eq!(s.text().await.unwrap(), "Birdsong");
    }
    page.open("/?q=data&service=birdsonk").await;
    // In words, with "Did you mean" said once, by the link.
    let alert = page.text("[role=alert]").await;
    assert!(alert.contains("Did you mean Birdsong?"), "{alert}");
    assert_eq!(
        alert.to_lowercase().matches("did you mean").count(),
        1,
        "{alert}"
    );
    assert!(alert.starts_with("No such name in this archive"), "{alert}");
    assert!(
        !alert.contains("400") && !alert.contains("unknown_name"),
        "{alert}"
    );
    page.click("[role=alert] a.suggestion").await;
    assert!(query_has(&page.query_string().await, "service=Birdsong"));
    assert!(!page.all("ol.hits > li").await.is_empty());

    // The document view: its versions, and a diff between two of them.
    page.open(VIEWS[6].1).await;
    let versions = engine
        .versions("Acme Cloud", "Terms of Service", Some("sample"))
        .unwrap();
    assert_eq!(
        page.all(".versions li").await.len(),
        versions.versions.len()
    );
    page.shot("document", "desktop").await;
    page.click("form.compare button").await;
    page.find(".diffs").await;
    assert!(
        !page.all(".diffs ins, .diffs del").await.is_empty(),
        "the diff marks words"
    );
    let query = page.query_string().await;
    assert!(
        query.contains("from_version=") && query.contains("to_version="),
        "{query}"
    );
    page.shot("document-diff", "desktop").await;

    // History: one row per document with intervals, and the trend chart.
    page.open(VIEWS[4].1).await;
    page.find(".timeline").await;
    let history = engine
        .history(&HistoryRequest {
            limit: 50,
            ..HistoryRequest::new("\"artificial intelligence\"")
        })
        .unwrap();
    assert_eq!(
        page.all(".timeline li.row").await.len(),
        history.documents.len()
    );
    let intervals: usize = history.documents.iter().map(|d| d.intervals.len()).sum();
    assert_eq!(page.all(".timeline .interval").await.len(), intervals);
    let trend = engine
        .trend(&palimpsest_search::TrendRequest::new(
            "\"artificial intelligence\"",
        ))
        .unwrap();
    assert_eq!(
        page.all("svg.chart rect.bar").await.len(),
        trend.points.len()
    );
    // The axis scales to the data: the tallest bar fills most of the chart.
    let max = trend
        .points
        .iter()
        .map(|p| p.share.unwrap_or(0.0))
        .fold(0.0, f64::max);
    let top: f64 = page
        .find("svg.chart")
        .await
        .attr("data-top")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        top >= max && max / top >= 0.4,
        "axis to {top} for a highest share of {max}"
    );
    let fill = page
        .script(
            "const bars = [...document.querySelectorAll('svg.chart rect.bar')];\
             const tallest = Math.max(...bars.map(b => b.getBBox().height));\
             const plot = Number(document.querySelector('svg.chart line.grid').getAttribute('y1'))\
               - Number([...document.querySelectorAll('svg.chart line.grid')].pop().getAttribute('y1'));\
             return tallest / plot;",
        )
        .await;
    assert!(
        fill.as_f64().unwrap() >= 0.4,
        "the tallest bar fills {fill} of the chart"
    );
    // The trend and the intervals share one time axis: the plot is where the tracks are.
    let edges = page
        .script(
            "const box = (css) => document.querySelector(css).getBoundingClientRect();\
             const [plot, track] = [box('svg.chart'), box('.timeline .track')];\
             return [plot.left - track.left, plot.right - track.right];",
        )
        .await;
    for edge in edges.as_array().unwrap() {
        assert!(
            edge.as_f64().unwrap().abs() < 1.0,
            "plot and tracks apart: {edges}"
        );
    }
    page.shot("history", "desktop").await;

    // Changes: the feed for the filters, word diffs, and its Atom link.
    page.open(VIEWS[5].1).await;
    page.find("ol.changes").await;
    let changes = engine
        .changes(&palimpsest_search::ChangesRequest::default())
        .unwrap();
    assert_eq!(
        page.all("ol.changes > li").await.len(),
        changes.changes.len().min(20)
    );
    assert!(
        page.text("h1.summary")
            .await
            .starts_with(&format!("{} change", changes.total))
    );
    let feed = page
        .find("a.feed")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    assert!(feed.starts_with("/api/v1/changes.atom"), "{feed}");
    assert!(!page.all("ol.changes ins").await.is_empty());
    hidden_note_steps(page, &changes).await;
    page.click("a.facet[href*='service=Birdsong']").await;
    assert!(
        page.find("a.feed")
            .await
            .attr("href")
            .await
            .unwrap()
            .unwrap()
            .contains("service=Birdsong")
    );
    // Every result can leave as a file: the export of the same list, past the pages.
    let csv = page
        .find("p.exports a[data-format='csv']")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let (path, query) = csv.split_once('?').unwrap();
    assert!(
        path == "/api/v1/export/changes"
            && query_has(query, "service=Birdsong")
            && query_has(query, "format=csv")
            && !query.contains("limit="),
        "{csv}"
    );
    let birdsong = page.text("h1.summary").await;
    let count = birdsong.split(' ').next().unwrap();
    assert!(
        page.text("p.exports")
            .await
            .starts_with(&format!("Download all {count}:")),
        "{birdsong}"
    );
    // The Kind facet filters like the others: in the URL, the feed and the list.
    page.click("a.facet[href*='kind=modified']").await;
    assert!(query_has(&page.query_string().await, "kind=modified"));
    let feed = page.find("a.feed").await.attr("href").await.unwrap();
    assert!(feed.unwrap().contains("kind=modified"));
    let badges = page
        .script(
            "return [...document.querySelectorAll('ol.changes article .meta .badge:nth-of-type(1)')]\
             .map(b => b.textContent);",
        )
        .await;
    let badges = badges.as_array().unwrap();
    assert!(!badges.is_empty());
    assert!(badges.iter().all(|b| b == "modified"), "{badges:?}");
    page.shot("changes-kind", "desktop").await;
    page.click("a.chip[aria-label='Remove the filter kind modified']")
        .await;
    assert!(!page.query_string().await.contains("kind="));
    page.shot("changes", "desktop").await;

    // One entry per version, and minor changes hidden: both in the URL.
    page.click("input[data-option=group]").await;
    assert!(query_has(&page.query_string().await, "group=version"));
    let grouped = engine
        .changes(&palimpsest_search::ChangesRequest {
            group: palimpsest_search::ChangeGrouping::Version,
            filters: Filters {
                services: vec!["Birdsong".into()],
                ..Filters::default()
            },
            ..palimpsest_search::ChangesRequest::default()
        })
        .unwrap();
    let versions = grouped.versions.unwrap();
    assert_eq!(
        page.all("ol.changes article.version-changes").await.len(),
        versions.len()
    );
    let words = page.text("ol.changes > li:first-child .words").await;
    assert!(
        words.starts_with(&format!(
            "+{} −{}",
            versions[0].words_inserted, versions[0].words_deleted
        )),
        "{words}"
    );
    page.click("input[data-option=minor]").await;
    assert!(query_has(&page.query_string().await, "minor=false"));
    page.shot("changes-by-version", "desktop").await;

    // Errors: the server's own message, in an alert.
    page.open(VIEWS[7].1).await;
    let alert = page.text("[role=alert]").await;
    let api = get(&test_app(), "/api/v1/search?q=nofield%3Ax").await;
    assert_eq!(api.status, StatusCode::BAD_REQUEST);
    let message = api.json["error"]["message"].as_str().unwrap();
    assert!(alert.contains(message), "{alert:?} shows {message:?}");
    // Said in words, not as a status code: "The server answered 400 (invalid_query)".
    assert!(alert.starts_with("The search cannot be read"), "{alert}");
    assert!(
        !alert.contains("400") && !alert.contains("invalid_query"),
        "{alert}"
    );
    page.shot("error", "desktop").await;
    page.open("/?q=zzzunmatchedzzz").await;
    assert!(page.text(".message").await.contains("No results"));

    // Nothing was fetched from another origin.
    let foreign = page
        .script(
            "return performance.getEntriesByType('resource')\
             .map(e => e.name).filter(n => !n.startsWith(location.origin));",
        )
        .await;
    assert_eq!(foreign, json!([]));

    // Every view at phone width: drawn, and nothing wider than the screen.
    page.resize(PHONE).await;
    for (name, target) in VIEWS {
        page.open(target).await;
        let overflow = page
            .script("return document.documentElement.scrollWidth - window.innerWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name} is wider than a phone screen by {overflow} px"
        );
        page.shot(name, "phone").await;
    }
    // The start page's documents table stacks its rows on a phone: it scrolled sideways.
    page.open("/").await;
    let sideways = page
        .script(
            "const box = document.querySelector('table.documents').parentElement;\
             return box.scrollWidth - box.clientWidth",
        )
        .await;
    assert!(
        sideways.as_i64().unwrap_or(0) <= 0,
        "the documents table scrolls sideways by {sideways} px"
    );
}

/// What the change list leaves out, said with a link that shows it: first records were left
/// out without a word.
async fn hidden_note_steps(page: &Page, changes: &palimpsest_search::ChangesResponse) {
    let hidden = changes.hidden;
    assert!(hidden.first_records > 0 && hidden.technical_upgrades > 0);
    let note = page.text("ul.hidden-note").await;
    assert!(
        note.contains(&format!(
            "{} changes from first records not shown — show them",
            hidden.first_records
        )),
        "{note}"
    );
    assert!(
        note.contains(&format!(
            "{} change from technical upgrades not shown — show them",
            hidden.technical_upgrades
        )) || note.contains(&format!(
            "{} changes from technical upgrades not shown — show them",
            hidden.technical_upgrades
        )),
        "{note}"
    );
    page.click("ul.hidden-note li:first-child a.show-hidden")
        .await;
    assert!(query_has(&page.query_string().await, "first_records=true"));
    let shown = changes.total + hidden.first_records + hidden.deletions;
    let heading = page.text("h1.summary").await;
    assert!(
        heading.starts_with(&format!("{shown} changes")),
        "{heading}"
    );
    assert!(!page.text("ul.hidden-note").await.contains("first records"));
    page.shot("changes-hidden-shown", "desktop").await;
    page.open(VIEWS[5].1).await;
    page.find("ol.changes").await;
}

/// What the page relies on beyond the other endpoints: the `year` filter of search (the
/// year facet's clicks) and the sections of a version (its headings as the splitter read
/// them).
#[tokio::test]
async fn the_year_filter_and_the_sections_of_a_version() {
    let app = test_app();
    let engine = engine();
    let all = engine
        .search(&SearchRequest {
            time: TimeMode::History,
            limit: 100,
            ..SearchRequest::new("*")
        })
        .unwrap();
    for facet in &all.facets.year {
        let year: i16 = facet.value.parse().unwrap();
        let answer = get(
            &app,
            &format!("/api/v1/search?q=*&history=true&limit=100&year={year}"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        // The facet counts spans; hits join the runs of one unchanged text.
        let hits = answer.json["hits"].as_array().unwrap();
        let spans: u64 = hits.iter().map(|h| h["spans"].as_u64().unwrap()).sum();
        assert_eq!(spans, facet.count, "year {year}: the facet's count");
        for hit in hits {
            let from = hit["valid_from"].as_str().unwrap();
            assert!(from.starts_with(&facet.value), "{from} in {year}");
        }
    }
    for bad in ["0", "9999", "-1", "20x", "70000"] {
        let answer = get(&app, &format!("/api/v1/search?q=*&year={bad}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "year={bad}");
        assert_eq!(
            answer.json["error"]["code"], "invalid_parameter",
            "year={bad}"
        );
    }

    // Dune Maps marks its headings with bold lines; the sections carry their paths.
    let answer = get(
        &app,
        "/api/v1/version/Dune%20Maps/Privacy%20Policy/2023-07-01",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let sections = answer.json["sections"].as_array().unwrap();
    let joined: String = sections
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(joined, answer.json["content"].as_str().unwrap());
    let paths: Vec<Vec<&str>> = sections
        .iter()
        .map(|s| {
            s["section"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect()
        })
        .collect();
    assert!(paths.contains(&vec!["Location data"]), "{paths:?}");
}

/// A paragraph of `n` numbered words, `word{from}` to `word{from + n - 1}`.
fn numbered(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("word{i}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the sample lacks, in a tiny archive: one long paragraph changed in its middle, a
/// section moved under another heading, a long section added, and a deleted document.
fn tiny_versions() -> Vec<PolicyVersion> {
    use palimpsest_schema::{DocKey, VersionKind};
    let version = |service: &str, at: &str, kind, content: String| PolicyVersion {
        key: DocKey::new("tiny", service, "Terms of Service").unwrap(),
        recorded_at: Timestamp::parse(at).unwrap(),
        source_id: format!("{}-{at}", service.to_lowercase()),
        kind,
        content,
    };
    let stays = "Text that keeps its words under a new heading.";
    let before = format!("# Terms\n\n{}\n\n# Moving\n\n{stays}\n", numbered(1, 200));
    let annex: Vec<String> = (0..8).map(|i| numbered(1000 + 50 * i, 50)).collect();
    let after = format!(
        "# Terms\n\n{} altered {}\n\n# Moved here\n\n{stays}\n\n# Annex\n\n{}\n",
        numbered(1, 99),
        numbered(101, 100),
        annex.join("\n\n")
    );
    vec![
        version("Longform", "2024-01-01", VersionKind::FirstRecord, before),
        version("Longform", "2024-02-01", VersionKind::Change, after),
        version(
            "Gone",
            "2024-01-01",
            VersionKind::FirstRecord,
            "# Terms\n\nWe keep nothing.\n".into(),
        ),
        version(
            "Gone",
            "2024-03-01T12:00:00Z",
            VersionKind::Deleted,
            String::new(),
        ),
        version("Linked", "2024-01-01", VersionKind::FirstRecord, linked(16)),
        version("Linked", "2024-02-01", VersionKind::Change, linked(23)),
        version(
            "Brief",
            "2024-05-01T09:00:00Z",
            VersionKind::FirstRecord,
            "# Terms\n\nA fleeting clause.\n".into(),
        ),
        version(
            "Brief",
            "2024-05-01T15:30:00Z",
            VersionKind::Change,
            "# Terms\n\nNothing here.\n".into(),
        ),
    ]
}

/// A clause in force five times, a month apart each time.
fn flickering_versions() -> Vec<PolicyVersion> {
    use palimpsest_schema::{DocKey, VersionKind};
    (0..10)
        .map(|i| PolicyVersion {
            key: DocKey::new("tiny", "Flicker", "Terms of Service").unwrap(),
            recorded_at: Timestamp::parse(&format!("2023-{:02}-01", i + 1)).unwrap(),
            source_id: format!("flicker-{i}"),
            kind: match i {
                0 => VersionKind::FirstRecord,
                _ => VersionKind::Change,
            },
            content: match i % 2 {
                0 => "# Terms

A recurring clause.
"
                .into(),
                _ => "# Terms

Something else.
"
                .into(),
            },
        })
        .collect()
}

/// "and 2 more times" in a phrase's history expands to list those times.
async fn more_times_steps(page: &Page) {
    page.open("/?view=history&q=recurring").await;
    let more = page.find(".timeline details.more-times").await;
    assert_eq!(more.attr("open").await.unwrap(), None);
    let summary = page.text(".timeline details.more-times summary").await;
    assert_eq!(summary, "and 2 more times");
    page.click(".timeline details.more-times summary").await;
    assert!(more.attr("open").await.unwrap().is_some());
    let line = page.text(".timeline li.row > div.small").await;
    assert!(
        line.contains("2023-07-01 → 2023-08-01; 2023-09-01 → 2023-10-01"),
        "{line}"
    );
}

/// Links as Meta's policies write them: a printable version whose address changes with
/// each version, and a "link card" whose text spans a blank line.
fn linked(day: u32) -> String {
    format!(
        "# Terms\n\nEffective July {day}, 2025 | [View printable \
         version](https://example.com/printable/{day}/) | **Read** it.\n\n[Manage the \
         information we collect\n\nPrivacy Center](https://example.com/center/{day}/)\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_diffs_fold_and_a_deleted_document_says_so() {
    let Some(driver) = start_driver() else {
        return;
    };
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    index(
        dir.path(),
        &[tiny_versions(), flickering_versions()].concat(),
    );
    let template = "tiny=https://archive.example/%VERSION/%SERVICE/%TERMS_TYPE.md";
    let options = ServerOptions {
        source_urls: palimpsest_server::SourceUrls::new(vec![
            palimpsest_server::SourceUrlTemplate::parse(template).unwrap(),
        ])
        .unwrap(),
        ..ServerOptions::default()
    };
    let state = AppState::new(Engine::open(dir.path()).unwrap(), options);
    let (addr, stop) = start_server_with(app(state)).await;
    in_browser(&driver, addr, |page| async move { tiny_steps(&page).await }).await;
    stop.send(()).ok();
}

async fn tiny_steps(page: &Page) {
    let diff = "/?view=document&document=Longform%2FTerms+of+Service&collection=tiny\
                &from_version=longform-2024-01-01&to_version=longform-2024-02-01";
    page.open(diff).await;
    page.find("ol.changes").await;
    // One long paragraph: 30 words of context either side of its change, the rest folded.
    let folds = page.all("button.expand-words").await;
    assert_eq!(folds.len(), 2, "one fold before the change, one after");
    assert_eq!(folds[0].text().await.unwrap(), "… 69 unchanged words …");
    assert_eq!(folds[1].text().await.unwrap(), "… 70 unchanged words …");
    let shown = page.text("ol.changes > li:first-child .diff").await;
    assert!(
        shown.contains("word70 ") && !shown.contains("word69 "),
        "{shown}"
    );
    folds[0].click().await.unwrap();
    assert!(
        page.text("ol.changes > li:first-child .diff")
            .await
            .contains("word69 ")
    );
    // A moved section names where it was.
    let sections = page.all("ol.changes .section").await;
    let mut lines = Vec::new();
    for section in sections {
        lines.push(section.text().await.unwrap());
    }
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("moved from Moving to Moved here")),
        "{lines:?}"
    );
    // A long section added whole: its start, and "show all".
    let show_all = page.find("button.show-all").await;
    assert_eq!(show_all.text().await.unwrap(), "Show all 401 words");
    assert_eq!(page.all(".diff.start-only").await.len(), 1);
    page.shot("diff-long", "desktop").await;
    show_all.click().await.unwrap();
    assert_eq!(page.all(".diff.start-only").await.len(), 0);

    // Side by side: in the address; deletions on the left, insertions on the right.
    page.click("a[data-layout=split]").await;
    assert!(query_has(&page.query_string().await, "layout=split"));
    assert!(!page.all(".split .side.before del").await.is_empty());
    assert!(page.all(".split .side.before ins").await.is_empty());
    assert!(!page.all(".split .side.after ins").await.is_empty());
    assert!(page.all(".split .side.after del").await.is_empty());
    assert_eq!(page.all(".split button.expand-words").await.len(), 4);
    page.shot("diff-split", "desktop").await;
    page.click("a[data-layout=unified]").await;
    assert!(!page.query_string().await.contains("layout="));

    // Links whose addresses changed: no Markdown syntax in either layout, each link one
    // link marked as changed, pointing where it pointed then on the earlier side.
    let linked = "/?view=document&document=Linked%2FTerms+of+Service&collection=tiny\
                  &from_version=linked-2024-01-01&to_version=linked-2024-02-01";
    for layout in ["", "&layout=split"] {
        page.open(&format!("{linked}{layout}")).await;
        let shown = page.text("ol.changes .diff").await;
        for syntax in ["](", "~~", "**", "[", "https://"] {
            assert!(!shown.contains(syntax), "{syntax} in {shown}");
        }
        assert!(shown.contains("View printable version"), "{shown}");
        assert!(shown.contains("Privacy Center"), "{shown}");
        assert!(
            page.all(".diff del").await.len() <= 2,
            "only the dates: {shown}"
        );
    }
    let links = page.all(".split .side.before a.changed-link").await;
    assert_eq!(links.len(), 2);
    assert_eq!(
        links[0].attr("href").await.unwrap().as_deref(),
        Some("https://example.com/printable/16/")
    );
    let links = page.all(".split .side.after a.changed-link").await;
    assert_eq!(
        links[1].attr("href").await.unwrap().as_deref(),
        Some("https://example.com/center/23/")
    );
    page.shot("diff-links", "desktop").await;

    // A deleted document: a banner with the date, its versions still readable.
    page.open("/?view=document&document=Gone%2FTerms+of+Service&collection=tiny")
        .await;
    let banner = page.text(".message.removed").await;
    assert!(
        banner.contains("deleted from the archive on 2024-03-01"),
        "{banner}"
    );
    assert!(page.text(".text").await.contains("We keep nothing."));
    // The deletion is listed, but not counted as a version (as `stats` counts).
    assert_eq!(
        page.text("nav.versions h2").await.to_lowercase(),
        "1 version"
    );
    // The version links to itself online, from the server's template.
    let online = page.find(".text .meta a.online").await;
    assert_eq!(
        online.attr("href").await.unwrap().as_deref(),
        Some("https://archive.example/gone-2024-01-01/Gone/Terms%20of%20Service.md")
    );
    page.shot("document-deleted", "desktop").await;

    // Text in force for a few hours: its interval says when, to the minute, and that it was
    // there at the document's first record (it may be older).
    page.open("/?view=history&q=fleeting").await;
    let summary = page.text(".timeline li.row > div.small").await;
    assert_eq!(
        summary,
        "in force 2024-05-01 09:00 → 15:30 UTC (there when tracking began); no longer in force"
    );

    more_times_steps(page).await;

    page.resize(PHONE).await;
    page.open(&format!("{diff}&layout=split")).await;
    let overflow = page
        .script("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "wider than a phone by {overflow}"
    );
    page.shot("diff-split", "phone").await;
}

#[path = "browser/coverage.rs"]
mod coverage;
