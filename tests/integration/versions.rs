//! Every version of the sample rebuilt from the index alone, found by id or prefix.

use super::*;

#[test]
fn every_sample_version_is_rebuilt_exactly() {
    let (_dir, engine) = sample_engine();
    let versions = sample_versions();
    assert_eq!(versions.len(), 13);
    for v in &versions {
        let shown = engine
            .show(&ShowRequest {
                service: v.key.service.to_string(),
                terms_type: v.key.terms_type.to_string(),
                collection: Some("sample".into()),
                at: Some(v.recorded_at),
                version: None,
            })
            .unwrap();
        assert_eq!(shown.content, v.content, "{} at {}", v.key, v.recorded_at);
        assert_eq!(shown.id, v.source_id);
        assert_eq!(shown.kind, v.kind);
    }
}

#[test]
fn versions_are_shown_by_id_or_unique_prefix() {
    let (_dir, engine) = sample_engine();
    let show = |version: &str| {
        engine.show(&ShowRequest {
            service: "Birdsong".into(),
            terms_type: "Privacy Policy".into(),
            collection: None,
            at: None,
            version: Some(version.into()),
        })
    };
    let id = "Birdsong/Privacy Policy/2023-11-01T00-00-00Z.md";
    let by_at = engine
        .show(&ShowRequest {
            service: "Birdsong".into(),
            terms_type: "Privacy Policy".into(),
            collection: None,
            at: Some(at("2023-11-01")),
            version: None,
        })
        .unwrap();
    assert_eq!(show(id).unwrap().content, by_at.content);
    assert_eq!(show("birdsong/privacy policy/2023-11").unwrap().id, id);
    let ambiguous = show("Birdsong/Privacy").unwrap_err();
    assert_eq!(ambiguous.kind(), ErrorKind::BadRequest, "{ambiguous}");
    assert_eq!(show("Bir").unwrap_err().kind(), ErrorKind::BadRequest);
    assert_eq!(show("nope-nope").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn identical_re_record_opens_no_span_and_counts_add_up() {
    let (_dir, engine) = sample_engine();
    let stats = engine.stats().unwrap();
    assert_eq!(
        (stats.collections, stats.documents, stats.versions),
        (1, 4, 13)
    );
    // Acme: 6 sections at first; +1 (age change); +1 (renamed section); +2 (acceptable
    // use changed, preamble unchanged); the identical re-record adds none.
    let versions = engine
        .versions("Acme Cloud", "Terms of Service", None)
        .unwrap();
    assert_eq!(versions.versions.len(), 5);
    let mut all = request("*", EVER);
    all.filters.services = vec!["Acme Cloud".into()];
    assert_eq!(engine.search(&all).unwrap().total, 8);
}

#[test]
fn names_match_case_insensitively_and_unknown_ones_are_reported() {
    let (_dir, engine) = sample_engine();
    let shown = engine
        .show(&ShowRequest {
            service: "acme cloud".into(),
            terms_type: "terms of service".into(),
            collection: None,
            at: None,
            version: None,
        })
        .unwrap();
    assert_eq!(shown.service, "Acme Cloud");
    let err = engine
        .versions("Acme", "Terms of Service", None)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("Acme Cloud"), "{err}");
    let err = engine.versions("Birdsong", "Terms", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn show_before_first_record_or_in_the_future_is_an_error() {
    let (_dir, engine) = sample_engine();
    let show = |t: &str| {
        engine.show(&ShowRequest {
            service: "Birdsong".into(),
            terms_type: "Privacy Policy".into(),
            collection: None,
            at: Some(at(t)),
            version: None,
        })
    };
    assert_eq!(show("2020-01-01").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(show("9000-01-01").unwrap_err().kind(), ErrorKind::InFuture);
    assert_eq!(
        show("2023-12-01").unwrap().id,
        "Birdsong/Privacy Policy/2023-11-01T00-00-00Z.md"
    );
}
