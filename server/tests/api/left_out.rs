//! What change lists leave out, said in JSON and in headers; names in paths and parameters
//! resolved and suggested as filters are, with messages that speak of parameters.

use super::*;

fn header(headers: &axum::http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

#[tokio::test]
async fn a_change_list_left_out_first_records_without_a_word() {
    let app = test_app();
    let answer = get(&app, "/api/v1/changes").await;
    assert_eq!(answer.status, StatusCode::OK);
    let hidden = &answer.json["hidden"];
    let first_records = hidden["first_records"].as_u64().unwrap();
    let with = get(&app, "/api/v1/changes?first_records=true").await;
    let added = with.json["total"].as_u64().unwrap() - answer.json["total"].as_u64().unwrap();
    assert!(first_records > 0);
    assert_eq!(first_records + hidden["deletions"].as_u64().unwrap(), added);
    assert_eq!(with.json["hidden"]["first_records"], 0);
    let upgrades = hidden["technical_upgrades"].as_u64().unwrap();
    assert!(upgrades > 0, "the sample has a technical upgrade");

    for uri in [
        "/api/v1/changes?format=csv",
        "/api/v1/changes?format=jsonl",
        "/api/v1/changes",
        "/api/v1/export/changes?format=csv",
        "/api/v1/export/changes",
    ] {
        let (status, headers, _) = raw(&app, uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(
            header(&headers, "x-hidden-first-records"),
            Some(first_records),
            "{uri}"
        );
        assert_eq!(
            header(&headers, "x-hidden-technical-upgrades"),
            Some(upgrades),
            "{uri}"
        );
        assert_eq!(header(&headers, "x-hidden-deletions"), Some(0), "{uri}");
        assert_eq!(header(&headers, "x-hidden-minor"), Some(0), "{uri}");
    }
    let (_, headers, _) = raw(&app, "/api/v1/export/search?q=data").await;
    assert!(headers.get("x-hidden-first-records").is_none());
}

#[tokio::test]
async fn the_openapi_document_describes_what_change_lists_leave_out() {
    let answer = get(&test_app(), "/api/v1/openapi.json").await;
    let doc = &answer.json;
    let hidden = &doc["components"]["schemas"]["HiddenChanges"]["properties"];
    for key in ["first_records", "deletions", "technical_upgrades", "minor"] {
        assert!(hidden.get(key).is_some(), "{key}");
    }
    for path in ["/api/v1/changes", "/api/v1/export/changes"] {
        let headers = &doc["paths"][path]["get"]["responses"]["200"]["headers"];
        for name in [
            "x-hidden-first-records",
            "x-hidden-deletions",
            "x-hidden-technical-upgrades",
            "x-hidden-minor",
        ] {
            assert!(headers.get(name).is_some(), "{path}: {name}");
        }
    }
}

#[tokio::test]
async fn a_misspelt_name_in_a_path_suggested_nothing() {
    let app = test_app();
    for uri in [
        "/api/v1/version/Birdsonk/Privacy%20Policy/2024-06-01",
        "/api/v1/versions/Birdsonk/Privacy%20Policy",
        "/api/v1/diff/Birdsonk/Privacy%20Policy?from=2023-01-01",
    ] {
        let answer = get(&app, uri).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(error_code(&answer), "not_found", "{uri}");
        let error = &answer.json["error"];
        assert_eq!(
            error["message"], "unknown service `Birdsonk`; did you mean `Birdsong`?",
            "{uri}"
        );
        assert_eq!(
            error["suggestions"],
            serde_json::json!({"parameter": "service", "name": "Birdsonk", "names": ["Birdsong"]})
        );
    }
    let answer = get(&app, "/api/v1/versions/Birdsong/Privacy%20Polcy").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        answer.json["error"]["suggestions"]["names"],
        serde_json::json!(["Privacy Policy"])
    );
}

#[tokio::test]
async fn terms_type_abbreviations_resolve_in_paths_and_parameters() {
    let app = test_app();
    let full = get(&app, "/api/v1/versions/Birdsong/Privacy%20Policy").await;
    let short = get(&app, "/api/v1/versions/birdsong/PP").await;
    assert_eq!(short.status, StatusCode::OK, "{}", short.json);
    assert_eq!(short.json, full.json);
    let full = get(
        &app,
        &search_uri("data", "&terms_type=Terms%20of%20Service"),
    )
    .await;
    let short = get(&app, &search_uri("data", "&terms_type=ToS")).await;
    assert_eq!(short.status, StatusCode::OK, "{}", short.json);
    assert_eq!(short.json["total"], full.json["total"]);
    assert!(full.json["total"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn api_error_messages_pointed_to_cli_commands() {
    let app = test_app();
    for uri in [
        search_uri("data", "&service=nothing%20like%20it"),
        "/api/v1/versions/Nothing%20like%20it/PP".to_owned(),
        "/api/v1/changes?terms_type=nothing%20like%20it".to_owned(),
    ] {
        let answer = get(&app, &uri).await;
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("--") && !message.contains("palimpsest "),
            "{uri}: {message}"
        );
        assert!(
            message.ends_with("; GET /api/v1/services lists them"),
            "{uri}: {message}"
        );
    }
}
