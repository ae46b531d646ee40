//! Instants as parameters.

use super::*;

#[tokio::test]
async fn a_month_or_a_year_given_as_an_instant_was_refused() {
    let app = test_app();
    let month = get(&app, "/api/v1/search?q=data&as_of=2024-10").await;
    let day = get(&app, "/api/v1/search?q=data&as_of=2024-10-01").await;
    assert_eq!(month.status, StatusCode::OK, "{}", month.json);
    assert_eq!(month.json, day.json);
    let year = get(&app, "/api/v1/changes?from=2024&to=2025").await;
    assert_eq!(year.status, StatusCode::OK, "{}", year.json);
    let impossible = get(&app, "/api/v1/search?q=data&as_of=2024-13").await;
    assert_eq!(impossible.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&impossible), "invalid_parameter");
}
