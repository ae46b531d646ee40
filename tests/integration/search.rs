//! Searching the sample: matching, filters, facets, snippets and the time modes.

use super::*;

#[test]
fn time_modes_select_spans_by_validity() {
    let (_dir, engine) = sample_engine();
    let total = |time| engine.search(&request("arbitration", time)).unwrap().total;
    assert_eq!(total(TimeMode::Current), 0, "removed in 2024-05");
    assert_eq!(total(TimeMode::AsOf(at("2023-07-01"))), 1);
    assert_eq!(total(TimeMode::AsOf(at("2022-01-01"))), 0);
    assert_eq!(
        total(TimeMode::AsOf(at("2024-05-20T10:00:00Z"))),
        0,
        "valid_to is exclusive"
    );
    assert_eq!(total(TimeMode::AsOf(at("2024-05-20T09:59:59Z"))), 1);
    assert_eq!(
        total(TimeMode::Between {
            from: Some(at("2024-06-01")),
            to: None
        }),
        0
    );
    assert_eq!(
        total(TimeMode::Between {
            from: Some(at("2023-01-01")),
            to: Some(at("2023-02-01"))
        }),
        1
    );
    assert_eq!(total(TimeMode::History), 1);
}

#[test]
fn history_groups_adjacent_spans_of_one_section() {
    let (_dir, engine) = sample_engine();
    // "spam" is in Acme's "Acceptable use" section, which changed once (2024-05):
    // two spans, adjacent, so one hit over the whole range.
    let response = engine.search(&request("spam", TimeMode::History)).unwrap();
    assert_eq!(response.total, 1);
    let hit = &response.hits[0];
    assert_eq!(hit.spans, 2);
    assert_eq!(hit.valid_from, at("2023-01-10T09:00:00Z"));
    assert_eq!(hit.valid_to, None);
    let plain = engine.search(&request("spam", EVER)).unwrap();
    assert_eq!(plain.total, 2);
}

#[test]
fn renamed_and_setext_and_heading_less_sections_have_paths() {
    let (_dir, engine) = sample_engine();
    let hit = &engine
        .search(&request("suspend", TimeMode::Current))
        .unwrap();
    let acme = hit.hits.iter().find(|h| h.service == "Acme Cloud").unwrap();
    assert_eq!(
        acme.section,
        ["Acme Cloud Terms of Service", "Ending the agreement"]
    );
    let old = engine
        .search(&request("suspend", TimeMode::AsOf(at("2023-12-01"))))
        .unwrap();
    assert!(
        old.hits
            .iter()
            .any(|h| h.section.last().map(String::as_str) == Some("Termination"))
    );
    let bird = &engine
        .search(&request("location", TimeMode::Current))
        .unwrap()
        .hits;
    assert!(
        bird.iter()
            .any(|h| h.section == ["Birdsong Privacy Policy", "What we collect"])
    );
    let minors = &engine
        .search(&request("minors", TimeMode::Current))
        .unwrap()
        .hits[0];
    assert_eq!(minors.section, ["Protecting minors"]);
    let cookies = &engine
        .search(&request("cookies", TimeMode::Current))
        .unwrap()
        .hits[0];
    assert_eq!(cookies.section, ["Cookies"]);
    let marked: Vec<String> = cookies
        .snippet
        .highlights
        .iter()
        .map(|&[s, e]| cookies.snippet.text.chars().skip(s).take(e - s).collect())
        .collect();
    assert!(
        marked.iter().any(|m| m.eq_ignore_ascii_case("cookies")),
        "{:?}",
        cookies.snippet
    );
}

#[test]
fn filters_restrict_hits() {
    let (_dir, engine) = sample_engine();
    let mut r = request("data OR account", TimeMode::Current);
    let all = engine.search(&r).unwrap().total;
    r.filters.services = vec!["Birdsong".into()];
    let bird = engine.search(&r).unwrap();
    assert!(bird.total > 0 && bird.total < all);
    assert!(bird.hits.iter().all(|h| h.service == "Birdsong"));
    r.filters.services.clear();
    r.filters.terms_types = vec!["Terms of Service".into()];
    assert!(
        engine
            .search(&r)
            .unwrap()
            .hits
            .iter()
            .all(|h| h.terms_type == "Terms of Service")
    );
    r.filters.terms_types.clear();
    // A collection the index does not hold is refused, not silently matched by nothing.
    r.filters.collections = vec!["elsewhere".into()];
    let error = engine.search(&r).unwrap_err();
    assert!(
        matches!(
            error,
            palimpsest_search::SearchError::UnknownName {
                parameter: "collection",
                ..
            }
        ),
        "{error}"
    );
    r.filters.collections = vec!["SAMPLE".into()];
    assert_eq!(engine.search(&r).unwrap().total, all);
    r.filters.collections.clear();
    r.filters.section = vec!["birdsong privacy policy".into(), "how we".into()];
    let section = engine.search(&r).unwrap();
    assert_eq!(section.total, 1);
    assert_eq!(section.hits[0].section[1], "How we use your data");
}

#[test]
fn facet_counts_equal_a_brute_force_count() {
    let (_dir, engine) = sample_engine();
    // A document whose sections in force all stand under one top-level heading is titled
    // by it: the section facet counts them under their second heading.
    let mut current = request("*", TimeMode::Current);
    current.limit = 100;
    let mut paths: HashMap<String, Vec<Vec<String>>> = HashMap::new();
    for hit in engine.search(&current).unwrap().hits {
        paths
            .entry(hit.service.clone())
            .or_default()
            .push(hit.section);
    }
    let titled: std::collections::HashSet<String> = paths
        .into_iter()
        .filter(|(_, paths)| {
            let headed: Vec<&Vec<String>> = paths.iter().filter(|p| !p.is_empty()).collect();
            headed.iter().filter(|p| p.len() == 1).count() == 1
                && headed.len() > 1
                && headed.iter().all(|p| p[0] == headed[0][0])
        })
        .map(|(service, _)| service)
        .collect();
    for time in [TimeMode::Current, EVER] {
        let mut r = request("*", time);
        r.limit = 100;
        let response = engine.search(&r).unwrap();
        assert_eq!(response.total as usize, response.hits.len());
        let mut services: HashMap<String, u64> = HashMap::new();
        let mut sections: HashMap<String, u64> = HashMap::new();
        let mut years: HashMap<String, u64> = HashMap::new();
        for hit in &response.hits {
            *services.entry(hit.service.clone()).or_default() += 1;
            let level = usize::from(titled.contains(&hit.service));
            *sections
                .entry(hit.section.get(level).cloned().unwrap_or_default())
                .or_default() += 1;
            *years
                .entry(hit.valid_from.to_string()[..4].to_owned())
                .or_default() += 1;
        }
        let as_map = |list: &[palimpsest_search::FacetCount]| {
            list.iter()
                .map(|f| (f.value.clone(), f.count))
                .collect::<HashMap<_, _>>()
        };
        assert_eq!(as_map(&response.facets.service), services);
        assert_eq!(as_map(&response.facets.section), sections);
        assert_eq!(as_map(&response.facets.year), years);
        assert_eq!(
            response.facets.collection,
            [palimpsest_search::FacetCount {
                value: "sample".into(),
                count: response.total
            }]
        );
    }
}

#[test]
fn paging_is_stable_and_bounded() {
    let (_dir, engine) = sample_engine();
    let mut r = request("*", EVER);
    r.limit = 5;
    let first = engine.search(&r).unwrap();
    r.offset = 5;
    let second = engine.search(&r).unwrap();
    assert_eq!(first.total, second.total);
    assert!(first.hits.iter().all(|a| !second.hits.contains(a)));
    for (limit, offset) in [(0, 0), (101, 0), (100, 9_901), (1, usize::MAX)] {
        r.limit = limit;
        r.offset = offset;
        assert_eq!(
            engine.search(&r).unwrap_err().kind(),
            ErrorKind::BadRequest,
            "{limit} {offset}"
        );
    }
}

#[test]
fn malformed_queries_get_a_message_not_a_panic() {
    let (_dir, engine) = sample_engine();
    let deep = format!("{}a{}", "(".repeat(800), ")".repeat(800));
    let long = "a".repeat(1_000_000);
    for query in [
        "a:(^",
        "\"unclosed",
        "((((",
        "",
        "nofield:x",
        "- *",
        "AND",
        "a\0b",
        &deep,
        &long,
        "))",
    ] {
        match engine.search(&request(query, TimeMode::Current)) {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind(), ErrorKind::BadRequest, "{query:.40}: {e}"),
        }
    }
    assert!(
        engine
            .search(&request("nofield:x", TimeMode::Current))
            .is_err()
    );
    // Prose punctuation is text, never a syntax error.
    for prose in [
        "a:(^",
        "don't sell",
        "Update: new terms",
        "(see above",
        "what?!",
    ] {
        assert!(
            engine.search(&request(prose, TimeMode::Current)).is_ok(),
            "{prose}"
        );
    }
    assert!(engine.search(&request(&deep, TimeMode::Current)).is_err());

    for section in [vec!["x".repeat(60_000)], vec!["Terms".to_string(); 17]] {
        let mut long = request("privacy", TimeMode::Current);
        long.filters.section = section;
        let err = engine.search(&long).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest);
        assert!(err.to_string().contains("`section`"), "{err}");
    }
    let mut nul = request("privacy", TimeMode::Current);
    nul.filters.section = vec!["Priv\0acy".into(), "(.*".into()];
    assert!(engine.search(&nul).is_ok());
}

#[test]
fn phrases_and_boolean_operators_work() {
    let (_dir, engine) = sample_engine();
    let total = |q: &str| engine.search(&request(q, TimeMode::Current)).unwrap().total;
    assert_eq!(total("\"artificial intelligence\""), 2);
    // A phrase no section holds: nothing with every word required; by default the words
    // of the phrase, with the unquoted query suggested.
    let strict = SearchRequest {
        matching: palimpsest_search::MatchMode::All,
        ..request("\"intelligence artificial\"", TimeMode::Current)
    };
    assert_eq!(engine.search(&strict).unwrap().total, 0);
    let relaxed = engine
        .search(&request("\"intelligence artificial\"", TimeMode::Current))
        .unwrap();
    assert_eq!(relaxed.total, 2);
    assert_eq!(
        relaxed.did_you_mean.as_deref(),
        Some("intelligence artificial")
    );
    assert_eq!(total("artificial AND birds"), 1);
    assert_eq!(total("artificial -birds"), 1);
    assert_eq!(total("cookies OR elections"), 2);
    assert_eq!(total("ÉLECTIONS"), 1, "case and accents are folded");
}

/// Every span a query finds over all history, as comparable lines.
fn found(engine: &Engine, query: &str) -> std::collections::BTreeSet<String> {
    let mut all = request(query, EVER);
    all.limit = 100;
    let response = engine.search(&all).unwrap();
    assert!(response.total < 100, "{query}: more than a page");
    response
        .hits
        .iter()
        .map(|h| format!("{} {:?} {}", h.service, h.section, h.valid_from))
        .collect()
}

#[test]
fn trailing_wildcards_stand_for_the_indexed_words_they_start() {
    let (dir, engine) = sample_engine();
    let words: std::collections::BTreeSet<String> = sample_versions()
        .iter()
        .flat_map(|v| {
            v.content
                .split(|c: char| !c.is_alphanumeric())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
        })
        .filter(|w| w.starts_with("co"))
        .collect();
    assert!(words.len() >= 3, "{words:?}");
    let any_word = words.iter().cloned().collect::<Vec<_>>().join(" OR ");
    let expected = found(&engine, &any_word);
    assert!(!expected.is_empty());
    assert_eq!(found(&engine, "co*"), expected);
    assert_eq!(found(&engine, "CO*"), expected, "folded like words");
    assert_eq!(
        found(&engine, "\"co\"*"),
        expected,
        "a one-word phrase prefix"
    );
    assert_eq!(
        found(&engine, "co* -cookies"),
        found(&engine, &format!("({any_word}) -cookies"))
    );
    assert_eq!(
        found(&engine, "\"artificial intel\"*"),
        found(&engine, "\"artificial intelligence\"")
    );
    assert!(found(&engine, "zzqx*").is_empty());
    let hits = engine
        .search(&request("co*", TimeMode::Current))
        .unwrap()
        .hits;
    assert!(
        hits.iter().any(|h| !h.snippet.highlights.is_empty()),
        "{hits:?}"
    );
    let history = palimpsest_search::HistoryRequest {
        query: "co*".into(),
        filters: Default::default(),
        limit: 100,
        offset: 0,
    };
    assert!(engine.history(&history).unwrap().total > 0);

    for query in ["a*b", "*co", ".*", "co**"] {
        let err = engine
            .search(&request(query, TimeMode::Current))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadRequest, "{query}");
        assert!(err.to_string().contains('*'), "{query}: {err}");
    }

    // The budget counts the words of every wildcard of the query.
    let limited = |max_expansions| {
        Engine::open(dir.path())
            .unwrap()
            .with_limits(palimpsest_search::Limits {
                max_expansions,
                ..Default::default()
            })
    };
    let exact = limited(words.len());
    assert_eq!(found(&exact, "co*"), expected);
    let err = exact
        .search(&request("co* OR cookies*", TimeMode::Current))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(err.to_string().contains("limit"), "{err}");
    let err = limited(words.len() - 1)
        .search(&request("co*", TimeMode::Current))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
}
