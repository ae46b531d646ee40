//! Whole result sets: an export lists, chunk after chunk, exactly what the pages list one
//! after the other, and stops when its reader does.

use std::ops::ControlFlow;

use palimpsest_search::{
    ChangeEntry, ChangeGrouping, ChangeOrder, ChangesRequest, Collected, Engine, ExportOptions,
    ExportSink, HistoryRequest, SearchRequest, TimeMode,
};
use serde::Serialize;

use super::sample_engine;

/// Small chunks and pages, so that the sample's lists take several.
const OPTIONS: ExportOptions = ExportOptions {
    chunk: 2,
    chunk_budget: None,
};

fn json<T: Serialize>(items: &[T]) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|item| serde_json::to_value(item).unwrap())
        .collect()
}

/// Every page of `page(offset, limit)` read one after the other, with the total.
fn paged<T>(mut page: impl FnMut(usize, usize) -> (u64, Vec<T>)) -> (u64, Vec<T>) {
    let (mut all, mut offset) = (Vec::new(), 0);
    loop {
        let (total, items) = page(offset, 1);
        if items.is_empty() {
            return (total, all);
        }
        offset += items.len();
        all.extend(items);
    }
}

/// One page of a change list.
fn change_page(
    engine: &Engine,
    request: &ChangesRequest,
    offset: usize,
    limit: usize,
) -> palimpsest_search::ChangesResponse {
    engine
        .changes(&ChangesRequest {
            offset,
            limit,
            ..request.clone()
        })
        .unwrap()
}

fn changes_paged(engine: &Engine, request: &ChangesRequest) -> (u64, Vec<serde_json::Value>) {
    paged(|offset, limit| {
        let page = change_page(engine, request, offset, limit);
        let items = match page.versions {
            Some(versions) => json(&versions),
            None => json(&page.changes),
        };
        (page.total, items)
    })
}

fn changes_exported(engine: &Engine, request: &ChangesRequest) -> Collected<ChangeEntry> {
    let mut sink = Collected::default();
    engine.export_changes(request, &OPTIONS, &mut sink).unwrap();
    sink
}

#[test]
fn every_change_exported_is_every_page_in_order() {
    let (_dir, engine) = sample_engine();
    let requests = [
        ChangesRequest::default(),
        ChangesRequest {
            first_records: true,
            order: ChangeOrder::Oldest,
            ..ChangesRequest::default()
        },
        ChangesRequest {
            query: Some("data".into()),
            order: ChangeOrder::Relevance,
            ..ChangesRequest::default()
        },
        ChangesRequest {
            group: ChangeGrouping::Version,
            first_records: true,
            ..ChangesRequest::default()
        },
    ];
    for request in requests {
        let (total, pages) = changes_paged(&engine, &request);
        let exported = changes_exported(&engine, &request);
        assert!(
            total >= 3,
            "{request:?}: too few changes ({total}) to take chunks"
        );
        assert_eq!(exported.total, total, "{request:?}");
        assert_eq!(json(&exported.items), pages, "{request:?}");
        assert_eq!(exported.chunks as u64, total.div_ceil(2), "{request:?}");
    }
}

#[test]
fn every_hit_exported_is_every_page_in_order() {
    let (_dir, engine) = sample_engine();
    for (query, time) in [
        ("data", TimeMode::Current),
        ("data", TimeMode::History),
        ("*", TimeMode::Current),
        ("your data quagga", TimeMode::Current),
    ] {
        let request = SearchRequest {
            time,
            ..SearchRequest::new(query)
        };
        let (total, pages) = paged(|offset, limit| {
            let page = engine
                .search(&SearchRequest {
                    offset,
                    limit,
                    ..request.clone()
                })
                .unwrap();
            (page.total, json(&page.hits))
        });
        let mut sink = Collected::default();
        engine.export_search(&request, &OPTIONS, &mut sink).unwrap();
        assert!(total >= 3, "{query} {time:?}: {total} hits");
        assert_eq!(sink.total, total, "{query} {time:?}");
        assert_eq!(json(&sink.items), pages, "{query} {time:?}");
    }
}

#[test]
fn every_document_of_a_history_exported_is_every_page_in_order() {
    let (_dir, engine) = sample_engine();
    let request = HistoryRequest::new("data");
    let (total, pages) = paged(|offset, limit| {
        let page = engine
            .history(&HistoryRequest {
                offset,
                limit,
                ..request.clone()
            })
            .unwrap();
        (page.total, json(&page.documents))
    });
    let mut sink = Collected::default();
    engine
        .export_history(&request, &OPTIONS, &mut sink)
        .unwrap();
    assert!(total > 1, "{total} documents");
    assert_eq!(sink.total, total);
    assert_eq!(json(&sink.items), pages);
}

#[test]
fn an_export_that_finds_nothing_announces_zero_and_sends_nothing() {
    let (_dir, engine) = sample_engine();
    let mut sink = Collected::default();
    let request = SearchRequest::new("\"zebra quagga okapi\"");
    engine.export_search(&request, &OPTIONS, &mut sink).unwrap();
    assert_eq!((sink.total, sink.items.len(), sink.chunks), (0, 0, 0));
}

/// Takes one chunk, then goes away.
#[derive(Default)]
struct OneChunk {
    chunks: usize,
}

impl<T> ExportSink<T> for OneChunk {
    fn begin(&mut self, _total: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    fn chunk(&mut self, _items: Vec<T>) -> ControlFlow<()> {
        self.chunks += 1;
        ControlFlow::Break(())
    }
}

#[test]
fn an_export_stops_when_its_reader_goes_away() {
    let (_dir, engine) = sample_engine();
    let mut sink = OneChunk::default();
    engine
        .export_changes(&ChangesRequest::default(), &OPTIONS, &mut sink)
        .unwrap();
    assert_eq!(sink.chunks, 1);
}

#[test]
fn an_export_checks_its_request_as_a_page_does_but_not_the_window() {
    let (_dir, engine) = sample_engine();
    let mut sink = Collected::default();
    // Past the paging window: ignored by an export.
    let far = ChangesRequest {
        offset: 1_000_000,
        limit: 1_000,
        ..ChangesRequest::default()
    };
    engine.export_changes(&far, &OPTIONS, &mut sink).unwrap();
    assert!(sink.total > 0);
    let bad = ChangesRequest {
        from: Some(super::at("2025-01-01")),
        to: Some(super::at("2020-01-01")),
        ..ChangesRequest::default()
    };
    let error = engine
        .export_changes(&bad, &OPTIONS, &mut Collected::default())
        .unwrap_err();
    assert_eq!(error.kind(), palimpsest_search::ErrorKind::BadRequest);
}

/// Facet counts (service, terms type, collection, kind, month) of a list of changes.
fn facets_of(changes: &[serde_json::Value]) -> Vec<std::collections::BTreeMap<String, u64>> {
    let mut facets = vec![std::collections::BTreeMap::new(); 5];
    for change in changes {
        let date = change["date"].as_str().unwrap();
        let values = [
            change["service"].as_str().unwrap(),
            change["terms_type"].as_str().unwrap(),
            change["collection"].as_str().unwrap(),
            change["kind"].as_str().unwrap(),
            &date[..7],
        ];
        for (facet, value) in facets.iter_mut().zip(values) {
            *facet.entry(value.to_owned()).or_default() += 1;
        }
    }
    facets
}

#[test]
fn change_lists_counted_from_version_records_equal_the_changes_paired_from_spans() {
    // A change list without a query or a section filter is counted, faceted and paged from
    // the counts stored with each version record; the export pairs every span. Both must
    // give the same changes in the same order, the same total and the same facets.
    let (_dir, engine) = sample_engine();
    let every = ChangesRequest {
        first_records: true,
        technical_upgrades: true,
        ..ChangesRequest::default()
    };
    let all = json(&changes_exported(&engine, &every).items);
    let service = all[0]["service"].as_str().unwrap().to_owned();
    let kinds: std::collections::BTreeSet<&str> =
        all.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.len() >= 3,
        "the sample lists too few kinds: {kinds:?}"
    );
    let middle = all[all.len() / 2]["date"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let requests = [
        ChangesRequest::default(),
        every.clone(),
        ChangesRequest {
            minor: false,
            order: ChangeOrder::Oldest,
            ..every.clone()
        },
        ChangesRequest {
            kinds: vec![palimpsest_search::ChangeKind::Modified],
            minor: false,
            ..ChangesRequest::default()
        },
        ChangesRequest {
            kinds: vec![
                palimpsest_search::ChangeKind::Added,
                palimpsest_search::ChangeKind::Moved,
            ],
            ..every.clone()
        },
        ChangesRequest {
            from: Some(middle),
            ..every.clone()
        },
        ChangesRequest {
            to: Some(middle),
            order: ChangeOrder::Oldest,
            ..ChangesRequest::default()
        },
        ChangesRequest {
            filters: palimpsest_search::Filters {
                services: vec![service],
                ..Default::default()
            },
            ..every.clone()
        },
    ];
    for request in requests {
        let exported = json(&changes_exported(&engine, &request).items);
        let by_version = ChangesRequest {
            group: palimpsest_search::ChangeGrouping::Version,
            ..request.clone()
        };
        let versions = json(&changes_exported(&engine, &by_version).items);
        for (offset, limit) in [
            (0, 20),
            (0, 3),
            (1, 2),
            (exported.len().saturating_sub(2), 5),
        ] {
            let page = change_page(&engine, &request, offset, limit);
            let expected = exported
                .iter()
                .skip(offset)
                .take(limit)
                .cloned()
                .collect::<Vec<_>>();
            assert_eq!(page.total, exported.len() as u64, "{request:?}");
            assert_eq!(
                json(&page.changes),
                expected,
                "{request:?} at {offset}+{limit}"
            );
            assert_eq!(counted(&page.facets), facets_of(&exported), "{request:?}");

            let page = change_page(&engine, &by_version, offset, limit);
            assert_eq!(page.total, versions.len() as u64, "{by_version:?}");
            let expected: Vec<_> = versions.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(
                json(page.versions.as_deref().unwrap_or_default()),
                expected,
                "{by_version:?} at {offset}+{limit}"
            );
            assert_eq!(
                counted(&page.facets),
                facets_of(&exported),
                "{by_version:?}"
            );
        }
    }
}

/// A change list's facets as value counts, in the order of [`facets_of`].
fn counted(
    facets: &palimpsest_search::ChangeFacets,
) -> Vec<std::collections::BTreeMap<String, u64>> {
    [
        &facets.service,
        &facets.terms_type,
        &facets.collection,
        &facets.kind,
        &facets.month,
    ]
    .iter()
    .map(|f| f.iter().map(|c| (c.value.clone(), c.count)).collect())
    .collect()
}
