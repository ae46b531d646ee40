//! The OpenAPI document against what the server answers: what `scripts/contract.sh` found
//! with schemathesis, each kept here as a regression without it.

use super::*;

async fn document() -> Value {
    let answer = get(&test_app(), "/api/v1/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.json
}

/// The GET operation of each documented path.
fn operations(doc: &Value) -> Vec<(&str, &Value)> {
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, item)| (path.as_str(), &item["get"]))
        .collect()
}

/// The documented path a request path falls under (`{name}` matches one segment).
fn template_of<'a>(doc: &'a Value, uri: &str) -> &'a str {
    let path = uri.split('?').next().unwrap();
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .unwrap_or_else(|| panic!("{uri} is under no documented path"))
}

/// Sends `uri` and checks that its status, and the media type of its 200, are documented.
async fn assert_documented(doc: &Value, uri: &str, status: StatusCode) {
    let response = test_app()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), status, "{uri}");
    let operation = &doc["paths"][template_of(doc, uri)]["get"];
    let documented = &operation["responses"][status.as_str()];
    assert!(documented.is_object(), "{uri}: {status} is not documented");
    let media_type = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
    let essence = media_type.split(';').next().unwrap().trim();
    assert!(
        documented["content"].get(essence).is_some(),
        "{uri}: {status} answers {media_type}, documented {}",
        documented["content"]
    );
}

#[tokio::test]
async fn every_error_status_is_documented_with_the_error_body() {
    let doc = document().await;
    for (path, operation) in operations(&doc) {
        let responses = operation["responses"].as_object().unwrap();
        // Every route reads its parameters strictly, and the body limit wraps them all.
        for status in ["400", "413"] {
            assert!(responses.contains_key(status), "{path} lacks {status}");
        }
        for (status, response) in responses {
            if status.starts_with('2') {
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{path} {status}"
            );
        }
    }
}

#[tokio::test]
async fn every_reference_of_the_document_resolves() {
    fn walk<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    refs.push(target);
                }
                map.values().for_each(|v| walk(v, refs));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let doc = document().await;
    let mut refs = Vec::new();
    walk(&doc, &mut refs);
    assert!(!refs.is_empty());
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for target in refs {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{target} points outside the schemas"));
        assert!(schemas.contains_key(name), "{target} does not resolve");
    }
}

#[tokio::test]
async fn only_path_parameters_are_required_but_q() {
    let doc = document().await;
    for (path, operation) in operations(&doc) {
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let name = parameter["name"].as_str().unwrap();
            let required = parameter["required"] == true;
            let expected = parameter["in"] == "path"
                || (name == "q"
                    && [
                        "/api/v1/search",
                        "/api/v1/history",
                        "/api/v1/trend",
                        "/api/v1/export/search",
                        "/api/v1/export/history",
                    ]
                    .contains(&path));
            assert_eq!(required, expected, "{path}: {name}");
        }
    }
}

#[tokio::test]
async fn list_formats_answer_documented_media_types() {
    let doc = document().await;
    for uri in [
        "/api/v1/search?q=data",
        "/api/v1/services?",
        "/api/v1/versions/Birdsong/Privacy%20Policy?",
        "/api/v1/changes?",
        "/api/v1/changes?group=version&",
        "/api/v1/history?q=data",
        "/api/v1/trend?q=data",
    ] {
        let sep = if uri.ends_with('?') || uri.ends_with('&') {
            ""
        } else {
            "&"
        };
        for format in ["json", "jsonl", "csv"] {
            assert_documented(&doc, &format!("{uri}{sep}format={format}"), StatusCode::OK).await;
        }
    }
    assert_documented(&doc, "/api/v1/changes.atom", StatusCode::OK).await;
}

#[tokio::test]
async fn instants_in_the_future_are_documented_416s() {
    let doc = document().await;
    for uri in [
        "/api/v1/search?q=data&as_of=2999-01-01",
        "/api/v1/version/Birdsong/Privacy%20Policy/2999-01-01",
        "/api/v1/diff/Birdsong/Privacy%20Policy?from=2999-01-01",
        "/api/v1/diff/Birdsong/Privacy%20Policy?from=2023-06-01&to=2999-01-01",
    ] {
        assert_documented(&doc, uri, StatusCode::RANGE_NOT_SATISFIABLE).await;
    }
    for (uri, status) in [
        ("/api/v1/openapi.json?x=1", StatusCode::BAD_REQUEST),
        (
            "/api/v1/versions/Nobody/Privacy%20Policy",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/version/Nobody/Privacy%20Policy/2024-01-01",
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/v1/diff/Nobody/Privacy%20Policy?from=2024-01-01",
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_documented(&doc, uri, status).await;
    }
}

/// The schemas an item of a documented JSON array may follow: its `items`, or each of the
/// alternatives of a `oneOf`, resolved.
fn item_schemas<'a>(doc: &'a Value, array: &'a Value) -> Vec<&'a Value> {
    let resolve = |schema: &'a Value| match schema["$ref"].as_str() {
        Some(target) => {
            &doc["components"]["schemas"][target.strip_prefix("#/components/schemas/").unwrap()]
        }
        None => schema,
    };
    let items = resolve(&array["items"]);
    match items["oneOf"].as_array() {
        Some(alternatives) => alternatives.iter().map(resolve).collect(),
        None => vec![items],
    }
}

#[tokio::test]
async fn every_exported_json_item_has_the_required_fields_of_its_schema() {
    let doc = document().await;
    for uri in [
        "/api/v1/export/search?q=data&format=json",
        "/api/v1/export/changes?format=json",
        "/api/v1/export/changes?group=version&format=json",
        "/api/v1/export/history?q=data&format=json",
    ] {
        let answer = get(&test_app(), uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let operation = &doc["paths"][template_of(&doc, uri)]["get"];
        let array = &operation["responses"]["200"]["content"]["application/json"]["schema"];
        let schemas = item_schemas(&doc, array);
        let items = answer.json.as_array().unwrap();
        assert!(!items.is_empty(), "{uri}");
        for item in items {
            let fits = |schema: &&Value| {
                schema["required"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|name| item.get(name.as_str().unwrap()).is_some())
            };
            assert!(
                schemas.iter().any(fits),
                "{uri}: {item} fits no documented item"
            );
        }
    }
}
