//! Free-text matching and changes ranked by what changed, on small archives written here.

use palimpsest_schema::{DocKey, PolicyVersion, VersionKind};
use palimpsest_search::{
    ChangeGrouping, ChangeOrder, ChangesRequest, Engine, MatchMode, SearchRequest,
};

use super::{at, index};

fn version(service: &str, day: &str, content: &str, kind: VersionKind) -> PolicyVersion {
    PolicyVersion {
        key: DocKey::new("fixture", service, "Terms of Service").unwrap(),
        recorded_at: at(day),
        source_id: format!("{service}@{day}"),
        kind,
        content: content.to_owned(),
    }
}

const LONG_LIST: &str = "Prohibited items: weapons, explosives, drugs, counterfeit goods, \
                         stolen property, human remains, live animals, tobacco, alcohol, \
                         lottery tickets, pesticides, radioactive material, currency";

/// Three documents: a list that gains "plants" in 2025, a section that has held "plants"
/// all along and is reworded, and a policy whose only change is its date line.
fn engine() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let first = VersionKind::FirstRecord;
    let change = VersionKind::Change;
    index(
        dir.path(),
        &[
            version(
                "Market",
                "2024-01-01",
                &format!("# Terms\n\n## Items\n\n{LONG_LIST}.\n"),
                first,
            ),
            version(
                "Market",
                "2025-01-01",
                &format!("# Terms\n\n## Items\n\n{LONG_LIST}, live plants.\n"),
                change,
            ),
            version(
                "Garden",
                "2024-01-01",
                "# Terms\n\n## Plants\n\nPlants and seeds ship in spring. Plants are checked.\n",
                first,
            ),
            version(
                "Garden",
                "2025-02-01",
                "# Terms\n\n## Plants\n\nPlants and bulbs ship in autumn. Plants are checked.\n",
                change,
            ),
            version(
                "Birdsong",
                "2024-01-01",
                "# Privacy\n\nLast updated: January 5, 2024.\n\n## Sharing\n\nWe don't sell \
                 personalised advertising profiles to organisations.\n",
                first,
            ),
            version(
                "Birdsong",
                "2025-03-01",
                "# Privacy\n\nLast updated: 3 March 2025\n\n## Sharing\n\nWe don't sell \
                 personalised advertising profiles to organisations.\n",
                change,
            ),
        ],
    );
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn search(engine: &Engine, query: &str) -> palimpsest_search::SearchResponse {
    engine.search(&SearchRequest::new(query)).unwrap()
}

/// The changes matching `query`, best first.
fn by_relevance(engine: &Engine, query: &str) -> palimpsest_search::ChangesResponse {
    engine
        .changes(&ChangesRequest {
            query: Some(query.into()),
            order: ChangeOrder::Relevance,
            ..ChangesRequest::default()
        })
        .unwrap()
}

#[test]
fn a_description_finds_sections_holding_most_of_its_words() {
    let (_dir, engine) = engine();
    // "spring" is in no section in force, "ship" and "plants" are: most words match.
    let found = search(&engine, "do the plants ship in spring");
    assert_eq!(found.total, 1, "{found:?}");
    assert_eq!(found.hits[0].service, "Garden");
    assert_eq!(found.all_words, 0);
    assert_eq!(found.hits[0].matched_terms, vec!["plants", "ship"]);
    // The strict search of the same words finds nothing.
    let strict = engine
        .search(&SearchRequest {
            matching: MatchMode::All,
            ..SearchRequest::new("do the plants ship in spring")
        })
        .unwrap();
    assert_eq!(strict.total, 0);
}

#[test]
fn word_forms_and_british_spellings_match_and_phrases_stay_exact() {
    let (_dir, engine) = engine();
    for query in [
        "personalized advertising",
        "organizations",
        "selling personalise",
    ] {
        assert_eq!(search(&engine, query).total, 1, "{query}");
    }
    assert_eq!(search(&engine, "\"personalised advertising\"").total, 1);
    let strict = |q: &str| {
        engine
            .search(&SearchRequest {
                matching: MatchMode::All,
                ..SearchRequest::new(q)
            })
            .unwrap()
            .total
    };
    assert_eq!(
        strict("\"personalized advertising\""),
        0,
        "a phrase is exact"
    );
}

#[test]
fn apostrophes_are_words_and_stop_words_never_decide() {
    let (_dir, engine) = engine();
    assert_eq!(search(&engine, "don't sell").total, 1);
    assert_eq!(search(&engine, "does the policy sell my profiles").total, 1);
    // Only stop words: everything, as `*`.
    assert_eq!(
        search(&engine, "the of and").total,
        search(&engine, "*").total
    );
}

#[test]
fn a_misspelt_word_is_matched_and_corrected() {
    let (_dir, engine) = engine();
    let found = search(&engine, "advertisng profiles");
    assert_eq!(found.total, 1);
    assert_eq!(found.did_you_mean.as_deref(), Some("advertising profiles"));
    // Four letters or fewer are never corrected.
    assert_eq!(search(&engine, "selx").did_you_mean, None);
}

#[test]
fn a_change_that_inserted_the_word_ranks_before_one_that_merely_holds_it() {
    let (_dir, engine) = engine();
    let changes = by_relevance(&engine, "plants");
    assert_eq!(changes.total, 2);
    assert_eq!(changes.changes[0].service, "Market", "{changes:?}");
    assert_eq!(changes.changes[1].service, "Garden");
}

#[test]
fn a_change_of_dates_only_is_minor_ranks_last_and_can_be_hidden() {
    let (_dir, engine) = engine();
    let all = engine
        .changes(&ChangesRequest {
            query: Some("updated plants".into()),
            order: ChangeOrder::Relevance,
            ..ChangesRequest::default()
        })
        .unwrap();
    let minor: Vec<_> = all.changes.iter().filter(|c| c.minor).collect();
    assert_eq!(minor.len(), 1, "{all:?}");
    assert_eq!(minor[0].service, "Birdsong");
    assert!(all.changes.last().unwrap().minor);
    let substantive = engine
        .changes(&ChangesRequest {
            query: Some("updated plants".into()),
            minor: false,
            ..ChangesRequest::default()
        })
        .unwrap();
    assert_eq!(substantive.total, all.total - 1);
    assert!(substantive.changes.iter().all(|c| !c.minor));
}

#[test]
fn changes_grouped_by_version_list_sections_and_word_counts() {
    let (_dir, engine) = engine();
    let grouped = engine
        .changes(&ChangesRequest {
            group: ChangeGrouping::Version,
            ..ChangesRequest::default()
        })
        .unwrap();
    let versions = grouped.versions.unwrap();
    assert_eq!(grouped.total, 3);
    assert!(grouped.changes.is_empty());
    let market = versions.iter().find(|v| v.service == "Market").unwrap();
    assert_eq!(market.sections.len(), 1);
    // `{LONG_LIST}.` became `{LONG_LIST}, live plants.`: two words inserted, none deleted
    // (the diff compares punctuation apart from words, so the last word stays).
    assert_eq!((market.words_inserted, market.words_deleted), (2, 0));
    let birdsong = versions.iter().find(|v| v.service == "Birdsong").unwrap();
    assert!(birdsong.minor);
}

#[test]
fn the_same_text_in_two_collections_is_one_hit_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let in_collection = |collection: &str, day: &str, content: &str, kind| PolicyVersion {
        key: DocKey::new(collection, "Photos", "Privacy Policy").unwrap(),
        recorded_at: at(day),
        source_id: format!("{collection}@{day}"),
        kind,
        content: content.to_owned(),
    };
    let shared = "# Privacy\n\n## Messages\n\nWe read messages to train models.\n\n\
                  ## Ads\n\nWe show ads based on messages.\n";
    let first = VersionKind::FirstRecord;
    index(
        dir.path(),
        &[
            in_collection("pga", "2024-01-01", shared, first),
            in_collection("vlopses", "2024-01-03", shared, first),
            in_collection(
                "other",
                "2024-01-02",
                "# Privacy\n\n## Messages\n\nWe never read messages.\n",
                first,
            ),
        ],
    );
    let engine = Engine::open(dir.path()).unwrap();
    let found = search(&engine, "messages");
    let named: Vec<_> = found.hits.iter().map(|h| h.collections.clone()).collect();
    assert_eq!(found.hits.len(), 3, "{named:?}");
    let twins: Vec<_> = named.iter().filter(|c| c.len() == 2).collect();
    assert_eq!(twins.len(), 2, "two sections of pga and vlopses: {named:?}");
    // Totals count hits; the collection facet counts each collection holding the text.
    assert_eq!(found.total, 3);
    let count = |facet: &[palimpsest_search::FacetCount], value: &str| {
        facet.iter().find(|f| f.value == value).map(|f| f.count)
    };
    assert_eq!(count(&found.facets.service, "Photos"), Some(3));
    assert_eq!(count(&found.facets.collection, "pga"), Some(2));
    assert_eq!(count(&found.facets.collection, "vlopses"), Some(2));
    assert_eq!(count(&found.facets.collection, "other"), Some(1));
    for collections in &twins {
        let mut sorted = collections.to_vec();
        sorted.sort();
        assert_eq!(sorted, ["pga", "vlopses"]);
    }
    // Pages read one after the other hold each text once.
    let page = |offset| {
        engine
            .search(&SearchRequest {
                offset,
                limit: 1,
                ..SearchRequest::new("messages")
            })
            .unwrap()
            .hits
    };
    let mut paged: Vec<_> = (0..3).flat_map(page).map(|h| h.collections).collect();
    paged.sort();
    let mut all = named.clone();
    all.sort();
    assert_eq!(paged, all);
    // History mode collapses the same way.
    let history = engine
        .search(&SearchRequest {
            time: palimpsest_search::TimeMode::History,
            ..SearchRequest::new("messages")
        })
        .unwrap();
    assert_eq!((history.total, history.hits.len()), (3, 3));
}

#[test]
fn a_section_flipping_between_two_texts_ranks_after_a_change_made_once() {
    let dir = tempfile::tempdir().unwrap();
    let flip = "# Terms\n\n## Refunds\n\nRefunds are paid within 30 days.\n";
    let flop = "# Terms\n\n## Refunds\n\nRefunds are paid within 30 days or credited.\n";
    let mut versions = vec![version(
        "Shop",
        "2024-01-01",
        flip,
        VersionKind::FirstRecord,
    )];
    for (i, day) in ["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]
        .iter()
        .enumerate()
    {
        let content = if i % 2 == 0 { flop } else { flip };
        versions.push(version("Shop", day, content, VersionKind::Change));
    }
    versions.push(version(
        "Store",
        "2024-01-01",
        "# Terms\n\n## Refunds\n\nRefunds are paid within 30 days.\n",
        VersionKind::FirstRecord,
    ));
    versions.push(version(
        "Store",
        "2024-06-01",
        "# Terms\n\n## Refunds\n\nRefunds are paid within 14 days, or credited.\n",
        VersionKind::Change,
    ));
    index(dir.path(), &versions);
    let engine = Engine::open(dir.path()).unwrap();
    let ranked = by_relevance(&engine, "refunds credited").changes;
    let named: Vec<_> = ranked
        .iter()
        .map(|c| format!("{} {}", c.service, &c.date.to_string()[..10]))
        .collect();
    assert_eq!(ranked.len(), 5, "{named:?}");
    // The flip's first occurrence and the change made once lead; the repeats follow.
    let leaders: std::collections::BTreeSet<_> = named[..2].iter().cloned().collect();
    assert_eq!(
        leaders,
        ["Shop 2024-02-01".to_owned(), "Store 2024-06-01".to_owned()].into(),
        "{named:?}"
    );
}

#[test]
fn a_section_renamed_by_its_date_line_ranks_by_what_it_gained_not_its_whole_text() {
    let dir = tempfile::tempdir().unwrap();
    let body = "Refunds: ask for refunds in the app; refunds of gift cards are refunds in credit.";
    let dated =
        |date: &str, more: &str| format!("# Terms\n\n## Effective {date}\n\n{body}{more}\n");
    let versions = vec![
        version(
            "Shop",
            "2024-01-01",
            &dated("January 1, 2024", ""),
            VersionKind::FirstRecord,
        ),
        // A new date line and a word more: the section is removed and added, not moved.
        version(
            "Shop",
            "2024-06-01",
            &dated("June 1, 2024", " Always."),
            VersionKind::Change,
        ),
        version(
            "Store",
            "2024-01-01",
            "# Terms\n\n## Payments\n\nWe take cards.\n\n## Returns\n\nReturn goods within 30 days.\n",
            VersionKind::FirstRecord,
        ),
        version(
            "Store",
            "2024-03-01",
            "# Terms\n\n## Payments\n\nWe take cards.\n\n## Returns\n\nReturn goods within 30 days for refunds.\n",
            VersionKind::Change,
        ),
    ];
    index(dir.path(), &versions);
    let engine = Engine::open(dir.path()).unwrap();
    let ranked = by_relevance(&engine, "refunds").changes;
    let named: Vec<_> = ranked
        .iter()
        .map(|c| {
            format!(
                "{} {} {}",
                c.service,
                &c.date.to_string()[..10],
                c.kind.as_str()
            )
        })
        .collect();
    // The renamed section is removed and added whole, its words unchanged; the one change
    // that brought "refunds" in leads.
    assert_eq!(
        named.first().map(String::as_str),
        Some("Store 2024-03-01 modified"),
        "{named:?}"
    );
    assert!(
        named.iter().any(|n| n == "Shop 2024-06-01 added"),
        "{named:?}"
    );
}
