//! Regressions of the second hostile review: one client must not take the server down, and
//! the feed must always parse. Each fixture is a small index the test writes itself.

use palimpsest_schema::{DocKey, VersionKind};
use palimpsest_search::CHANGE_TEXT_BYTES;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

use super::*;

fn version(service: &str, at: &str, kind: VersionKind, content: &str) -> PolicyVersion {
    PolicyVersion {
        key: DocKey::new("hostile", service, "Terms of Service").unwrap(),
        recorded_at: Timestamp::parse(at).unwrap(),
        source_id: format!("{service}-{at}"),
        kind,
        content: content.to_owned(),
    }
}

/// An index of `versions` in a folder of its own, and the app over it.
fn fixture(versions: &[PolicyVersion], options: ServerOptions) -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    index(dir.path(), versions);
    let state = AppState::new(Engine::open(dir.path()).unwrap(), options);
    (dir, state)
}

async fn body(app: &Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn feed(app: &Router, uri: &str, headers: &[(&str, &str)]) -> String {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let (status, text) = body(app, request.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{uri}: {text}");
    text
}

/// Every `href` and id of a feed.
fn links(xml: &str) -> Vec<String> {
    let document = roxmltree::Document::parse(xml).unwrap();
    let mut links: Vec<String> = document
        .descendants()
        .filter_map(|node| node.attribute("href").map(str::to_owned))
        .collect();
    links.extend(
        document
            .descendants()
            .filter(|n| n.has_tag_name("id"))
            .filter_map(|n| n.text().map(str::to_owned))
            .filter(|id| id.starts_with("http")),
    );
    links
}

#[tokio::test]
async fn feeds_with_characters_xml_forbids_are_well_formed() {
    let (_dir, state) = fixture(
        &[
            version(
                "Lingua",
                "2024-01-01",
                VersionKind::FirstRecord,
                "# Terms\n\nalert one\n",
            ),
            version(
                "Lingua",
                "2024-02-01",
                VersionKind::Change,
                "# Terms\n\nalert\u{c}two \u{1}\u{1f}\u{fffe}\n",
            ),
        ],
        ServerOptions::default(),
    );
    let app = app(state);
    for uri in [
        "/api/v1/changes.atom",
        "/api/v1/changes.atom?q=alert%01",
        "/api/v1/changes.atom?q=alert%EF%BF%BE",
        "/api/v1/changes.atom?q=%22alert%EF%BF%BF%0C%22",
    ] {
        let xml = feed(&app, uri, &[]).await;
        let parsed = roxmltree::Document::parse(&xml);
        assert!(parsed.is_ok(), "{uri}: {parsed:?}\n{xml}");
    }
    let xml = feed(&app, "/api/v1/changes.atom", &[]).await;
    assert!(xml.contains('\u{fffd}') && !xml.contains('\u{c}'), "{xml}");
}

#[tokio::test]
async fn feed_links_come_from_the_public_url_not_the_host_header() {
    let evil = [
        ("host", "evil.example"),
        ("x-forwarded-host", "evil.example"),
        ("x-forwarded-proto", "https"),
    ];
    let uri = "/api/v1/changes.atom?technical_upgrades=true";
    let check = |links: Vec<String>, base: &str| {
        assert!(!links.is_empty());
        for link in links {
            assert!(
                link.starts_with(&format!("{base}/api/v1/"))
                    || link.starts_with(&format!("{base}/?view=document&")),
                "{link}"
            );
        }
    };
    check(
        links(&feed(&test_app(), uri, &evil).await),
        "http://localhost",
    );
    let public = |trust_forwarded| {
        app(state_with(
            ServerOptions {
                public_url: Some("https://example.org/palimpsest/".into()),
                trust_forwarded,
                ..ServerOptions::default()
            }
            .validate()
            .unwrap(),
        ))
    };
    check(
        links(&feed(&public(false), uri, &evil).await),
        "https://example.org/palimpsest",
    );
    // Behind a proxy, when told so: the forwarded scheme and host, the configured path.
    check(
        links(&feed(&public(true), uri, &evil).await),
        "https://evil.example/palimpsest",
    );
    let odd = [
        ("x-forwarded-host", "a\"b/c"),
        ("x-forwarded-proto", "gopher"),
    ];
    check(
        links(&feed(&public(true), uri, &odd).await),
        "https://example.org/palimpsest",
    );
    assert!(
        ServerOptions {
            public_url: Some("example.org".into()),
            ..ServerOptions::default()
        }
        .validate()
        .is_err()
    );
}

#[tokio::test]
async fn range_and_set_queries_and_internal_fields_are_refused() {
    // Each of these used to expand to every indexed term of its field.
    let app = test_app();
    for query in [
        "body:[a TO zzzz]",
        "title:[a TO zzzz]",
        "data OR body:[a TO zzzz] OR title:{a TO z}",
        "body: IN [data privacy]",
        "section_key:[a TO z]",
        "doc_key:[a TO z]",
        "doc_type:version",
        "valid_to:[0 TO 99999999999]",
    ] {
        for path in ["search", "changes", "history", "trend"] {
            let uri = format!("/api/v1/{path}?q={}", encode(query));
            let answer = get(&app, &uri).await;
            assert_eq!(
                answer.status,
                StatusCode::BAD_REQUEST,
                "{uri}: {}",
                answer.json
            );
            assert_eq!(error_code(&answer), "invalid_query", "{uri}");
        }
    }
    let answer = get(&app, &search_uri("title:cookies OR body:data", "")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
}

#[tokio::test]
async fn a_section_filter_at_the_size_limit_is_answered() {
    // A 1,000-character prefix compiled to a regex over its size limit: a 400 that quoted
    // tantivy's internals.
    let app = test_app();
    for section in ["a".repeat(1000), "😀".repeat(250), "(x) [y]? ".repeat(100)] {
        let uri = format!("/api/v1/search?q=*&section={}", encode(&section));
        let answer = get(&app, &uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["total"], 0);
    }
    // Prefixes still select what they start.
    let all = get(&app, "/api/v1/search?q=*&history=true").await.json["total"]
        .as_u64()
        .unwrap();
    let some = get(&app, "/api/v1/search?q=*&history=true&section=d")
        .await
        .json["total"]
        .as_u64()
        .unwrap();
    assert!(some > 0 && some < all, "{some} of {all}");
}

#[tokio::test]
async fn not_found_messages_do_not_echo_long_names_whole() {
    let app = test_app();
    let long = "N".repeat(60_000);
    for uri in [
        format!("/api/v1/versions/{long}/Terms"),
        format!("/api/v1/version/{long}/Terms/2024-01-01"),
        format!("/api/v1/versions/Acme%20Cloud/{long}"),
        format!("/api/v1/diff/Acme%20Cloud/Terms%20of%20Service?from_version={long}"),
    ] {
        let answer = get(&app, &uri).await;
        assert!(answer.status.is_client_error(), "{}", answer.json);
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(message.len() < 600, "{} bytes", message.len());
    }
}

#[tokio::test]
async fn an_instant_in_the_future_has_one_rule_everywhere() {
    let (_dir, state) = fixture(
        &[
            version(
                "Clock",
                "2020-01-01",
                VersionKind::FirstRecord,
                "# T\n\npast words\n",
            ),
            version(
                "Clock",
                "2100-01-01",
                VersionKind::Change,
                "# T\n\nfuture words\n",
            ),
            version(
                "Later",
                "2100-01-01",
                VersionKind::FirstRecord,
                "# T\n\nfuture words\n",
            ),
        ],
        ServerOptions::default(),
    );
    let app = app(state);
    // A version recorded in the future is not in force yet: not for search, not for version.
    let total = |uri: String| {
        let app = app.clone();
        async move { get(&app, &uri).await.json["total"].as_u64().unwrap() }
    };
    assert_eq!(total(search_uri("past", "")).await, 1);
    assert_eq!(total(search_uri("future", "")).await, 0);
    assert_eq!(total(search_uri("future", "&history=true")).await, 2);
    let now = Timestamp::now().to_string();
    let answer = get(
        &app,
        &format!("/api/v1/version/Clock/Terms%20of%20Service/{now}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["content"], "# T\n\npast words\n");
    let answer = get(
        &app,
        &format!("/api/v1/version/Later/Terms%20of%20Service/{now}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.json);
    let answer = get(
        &app,
        "/api/v1/diff/Clock/Terms%20of%20Service?from=2020-06-01",
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["to"]["recorded_at"], "2020-01-01T00:00:00Z");
    // An instant after the present is 416 wherever one is asked for.
    for uri in [
        "/api/v1/version/Clock/Terms%20of%20Service/2030-01-01",
        "/api/v1/diff/Clock/Terms%20of%20Service?from=2030-01-01",
        "/api/v1/diff/Clock/Terms%20of%20Service?from=2020-06-01&to=2030-01-01",
        "/api/v1/search?q=words&as_of=2030-01-01",
    ] {
        let answer = get(&app, uri).await;
        assert_eq!(
            answer.status,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "{uri}: {}",
            answer.json
        );
        assert_eq!(error_code(&answer), "date_in_future");
    }
}

/// Two versions of one section of `words` words each, every word changed.
fn long_section(words: usize) -> Vec<PolicyVersion> {
    let text = |word: &str| format!("# Long\n\n{}\n", vec![word; words].join(" "));
    vec![
        version(
            "Long",
            "2024-01-01",
            VersionKind::FirstRecord,
            &text("before"),
        ),
        version("Long", "2024-02-01", VersionKind::Change, &text("after")),
    ]
}

#[tokio::test]
async fn long_texts_in_changes_are_cut_unless_asked_for_in_full() {
    let (_dir, state) = fixture(&long_section(20_000), ServerOptions::default());
    let app = app(state);
    let cut = get(&app, "/api/v1/changes").await.json;
    let change = &cut["changes"][0];
    assert_eq!(change["truncated"], true, "{change}");
    for side in ["before", "after"] {
        let text = change[side].as_str().unwrap();
        assert!(text.len() <= CHANGE_TEXT_BYTES, "{side}: {}", text.len());
    }
    let diff: usize = change["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().len())
        .sum();
    assert!(diff <= 2 * CHANGE_TEXT_BYTES, "diff: {diff}");
    let full = get(&app, "/api/v1/changes?full_text=true").await.json;
    let change = &full["changes"][0];
    assert_eq!(change["truncated"], false);
    assert!(change["after"].as_str().unwrap().len() > 100_000);
    let xml = feed(&app, "/api/v1/changes.atom", &[]).await;
    assert!(xml.len() < 4 * CHANGE_TEXT_BYTES, "{} bytes", xml.len());
}

#[tokio::test]
async fn full_texts_larger_than_the_unsent_budget_are_refused_while_built() {
    // `--max-unsent` refused a full-text page only once it was whole, after it peaked at
    // 1.37 GiB; the answer's texts are now counted as they are read.
    let (_dir, state) = fixture(
        &long_section(20_000),
        ServerOptions {
            max_unsent_bytes: 200 << 10,
            ..ServerOptions::default()
        },
    );
    let app = app(state);
    for uri in [
        "/api/v1/changes?full_text=true",
        "/api/v1/diff/Long/Terms%20of%20Service?from=2024-01-15",
    ] {
        let refused = get(&app, uri).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            refused.json
        );
        assert_eq!(error_code(&refused), "answer_too_large");
    }
    assert_eq!(get(&app, "/api/v1/changes").await.status, StatusCode::OK);
}

/// One section of `lines` lines of `x`, rewritten as lines of `y`.
fn rewritten_lines(lines: usize) -> Vec<PolicyVersion> {
    let text = |line: &str| format!("# Rewritten\n\n{}", line.repeat(lines));
    vec![
        version(
            "Lines",
            "2024-01-01",
            VersionKind::FirstRecord,
            &text("x\n"),
        ),
        version("Lines", "2024-02-01", VersionKind::Change, &text("y\n")),
    ]
}

#[tokio::test]
async fn rewritten_lines_are_answered_as_replaced_wherever_they_are_diffed() {
    // One section of 200,000 `x` lines rewritten as `y` lines: four plain change lists held
    // both cores past the time budget (Myers over the lines, no cap and no clock), and a
    // cheap search fell from 6,046 to 0.2 answers a second.
    let (_dir, state) = fixture(&rewritten_lines(200_000), ServerOptions::default());
    let app = app(state);
    let replaced = |diff: &Value| {
        let ops: Vec<&str> = diff
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["op"].as_str().unwrap())
            .filter(|op| *op != "equal")
            .collect();
        assert_eq!(ops, ["delete", "insert"], "{}", &diff.to_string()[..200]);
    };
    // Cut at 32 KiB, the diff shown holds the start of the deletion only.
    let cut = &get(&app, "/api/v1/changes").await.json["changes"][0];
    assert_eq!(cut["truncated"], true);
    assert_eq!(cut["diff"][1]["op"], "delete");
    assert_eq!(cut["diff"].as_array().unwrap().len(), 2);
    replaced(&get(&app, "/api/v1/changes?full_text=true").await.json["changes"][0]["diff"]);
    let diff = get(
        &app,
        "/api/v1/diff/Lines/Terms%20of%20Service?from=2024-01-15",
    )
    .await;
    replaced(&diff.json["changes"][0]["diff"]);
    let grouped = get(&app, "/api/v1/changes?group=version").await.json;
    let version = &grouped["versions"][0];
    assert_eq!(
        (&version["words_inserted"], &version["words_deleted"]),
        (&serde_json::json!(200_000), &serde_json::json!(200_000))
    );
    let xml = feed(&app, "/api/v1/changes.atom", &[]).await;
    assert!(xml.contains("x\nx\nx"), "{}", &xml[..xml.len().min(400)]);
    let (status, _) = body(
        &app,
        Request::get("/api/v1/export/changes")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn answers_waiting_for_their_clients_are_bounded_in_memory() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    index(dir.path(), &long_section(60_000));
    let uri = "/api/v1/version/Long/Terms%20of%20Service/2024-03-01";
    let request = || Request::get(uri).body(Body::empty()).unwrap();
    let one = body(
        &app(AppState::new(
            Engine::open(dir.path()).unwrap(),
            ServerOptions::default(),
        )),
        request(),
    )
    .await
    .1
    .len();
    // Room for two such answers, not three.
    let app = app(AppState::new(
        Engine::open(dir.path()).unwrap(),
        ServerOptions {
            max_unsent_bytes: 2 * one + one / 2,
            ..ServerOptions::default()
        },
    ));
    let first = app.clone().oneshot(request()).await.unwrap();
    let second = app.clone().oneshot(request()).await.unwrap();
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = send(&app, request()).await;
    assert_eq!(
        third.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        third.json
    );
    assert_eq!(error_code(&third), "overloaded");
    // Small answers are not held back.
    assert_eq!(get(&app, "/api/v1/stats").await.status, StatusCode::OK);
    drop(first);
    let (status, text) = body(&app, request()).await;
    assert_eq!((status, text.len()), (StatusCode::OK, one));
}

#[tokio::test]
async fn a_client_that_reads_nothing_is_closed_after_the_write_timeout() {
    let (_dir, state) = fixture(&long_section(300_000), ServerOptions::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(palimpsest_server::serve_on(
        listener,
        app(state),
        Duration::from_secs(10),
        Duration::from_millis(500),
        Duration::from_secs(5),
        async {
            stopped.await.ok();
        },
    ));
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!(
        "GET /api/v1/version/Long/Terms%20of%20Service/2024-03-01 HTTP/1.1\r\nHost: {addr}\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut received = Vec::new();
    let mut chunk = vec![0; 1 << 16];
    let start = Instant::now();
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&chunk[..n]),
        }
        assert!(start.elapsed() < Duration::from_secs(10), "still reading");
    }
    let head = String::from_utf8_lossy(&received[..received.len().min(300)]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no length: {head}"));
    assert!(
        received.len() < length,
        "the whole answer ({length} bytes) was kept for a client that did not read"
    );
    stop.send(()).unwrap();
    server.await.unwrap();
}

/// `versions` versions, a day apart, of `sections` sections each, every section new in every
/// version.
fn many_versions(versions: usize, sections: usize) -> Vec<PolicyVersion> {
    let first = Timestamp::parse("2024-01-01").unwrap().as_unix();
    (0..versions)
        .map(|v| {
            let text: String = (0..sections).map(|i| format!("# {v} {i}\n")).collect();
            let day = Timestamp::from_unix(first + v as i64 * 86_400).unwrap();
            let kind = if v == 0 {
                VersionKind::FirstRecord
            } else {
                VersionKind::Change
            };
            version("Many", &day.to_string(), kind, &text)
        })
        .collect()
}

#[tokio::test]
async fn work_past_the_time_budget_stops_and_frees_its_slot() {
    // Showing a version of 150,000 sections ran for seconds past its budget, holding its
    // slot: with one slot, every other request was then 503. A version now holds at most
    // 5,000 sections, so the work is as large over 40 versions that change every section.
    let (_dir, state) = fixture(
        &many_versions(40, 5_000),
        ServerOptions {
            max_concurrency: 1,
            time_budget: Duration::from_millis(400),
            ..ServerOptions::default()
        },
    );
    let app = app(state);
    let mut stopped = 0;
    for uri in [
        "/api/v1/version/Many/Terms%20of%20Service/2024-06-01",
        "/api/v1/diff/Many/Terms%20of%20Service?from=2024-01-01",
        "/api/v1/search?q=*&history=true",
    ] {
        let start = Instant::now();
        let answer = get(&app, uri).await;
        if answer.status == StatusCode::OK {
            continue;
        }
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert_eq!(error_code(&answer), "time_budget_exceeded");
        assert!(start.elapsed() < Duration::from_secs(1), "{uri}");
        // The slot is free soon after: another request gets it within its own budget (or
        // two, on a loaded machine), where the abandoned work used to hold it for seconds.
        let mut stats = get(&app, "/api/v1/stats").await;
        if stats.status != StatusCode::OK {
            stats = get(&app, "/api/v1/stats").await;
        }
        assert_eq!(stats.status, StatusCode::OK, "after {uri}: {}", stats.json);
        stopped += 1;
    }
    assert!(
        stopped > 0,
        "every request finished within its budget: nothing was tested"
    );
}

#[test]
fn query_limits_beyond_what_the_stacks_hold_are_refused_at_start() {
    // `--max-nesting 100000` let 25,000 nested parentheses overflow a stack and abort the
    // whole server.
    use palimpsest_search::Limits;
    use palimpsest_server::{MAX_QUERY_DEPTH, THREAD_STACK_BYTES};
    for limits in [
        Limits {
            max_nesting: 100_000,
            ..Limits::default()
        },
        Limits {
            max_terms: MAX_QUERY_DEPTH + 1,
            ..Limits::default()
        },
    ] {
        let refused = ServerOptions {
            limits,
            ..ServerOptions::default()
        }
        .validate();
        assert!(
            refused.as_ref().is_err_and(|e| e.contains("stack")),
            "{refused:?}"
        );
    }
    // The deepest queries the highest accepted limits let through run on such a stack.
    let limits = ServerOptions {
        limits: Limits {
            max_nesting: MAX_QUERY_DEPTH,
            max_terms: MAX_QUERY_DEPTH,
            max_query_bytes: 1 << 20,
            ..Limits::default()
        },
        ..ServerOptions::default()
    }
    .validate()
    .unwrap()
    .limits;
    let engine = engine().with_limits(limits);
    let depth = MAX_QUERY_DEPTH;
    let queries = [
        format!("{}data{}", "(".repeat(depth), ")".repeat(depth)),
        format!("data {}x", "NOT ".repeat(depth - 2)),
        format!("data {}x{}", "-(".repeat(depth - 2), ")".repeat(depth - 2)),
        format!(
            "data AND {}x{}",
            "NOT (".repeat(depth / 2 - 2),
            ")".repeat(depth / 2 - 2)
        ),
    ];
    std::thread::Builder::new()
        .stack_size(THREAD_STACK_BYTES)
        .spawn(move || {
            for query in queries {
                let answer = engine.search(&SearchRequest::new(query.as_str()));
                assert!(
                    !matches!(&answer, Err(e) if e.kind() != palimpsest_search::ErrorKind::BadRequest),
                    "{}: {:?}",
                    &query[..40],
                    answer.err()
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
}
