//! [`ApiError`]: the one error type of the HTTP layer, and [`Code`]: the one table of the
//! error codes, their kinds, HTTP statuses, exit statuses and meanings.
//!
//! The table lives here, in the crate that knows HTTP: the `search` crate classifies its
//! errors without a transport ([`ErrorKind`]), this table gives each code its kind and its
//! status, and the binary, which depends on this crate for `serve`, takes its exit statuses
//! from the same rows ([`Code::exit_status`]).

use std::borrow::Cow;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palimpsest_search::{ErrorKind, SearchError};
use serde::Serialize;

/// Declares [`Code`] from its rows: variant, name, kind, HTTP status, meaning.
macro_rules! error_codes {
    ($($variant:ident = $name:literal, $kind:ident, $status:ident, $meaning:literal;)*) => {
        /// Every error code the API answers (and the CLI meets), one row each in
        /// `error_codes!`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(
                #[doc = $meaning]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in the table's order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable snake_case name clients see.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// How an error of this code is reported, without a transport.
            pub fn kind(self) -> ErrorKind {
                match self {
                    $(Code::$variant => ErrorKind::$kind,)*
                }
            }

            /// The HTTP status answered with it.
            pub fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }

            /// What it means, in one line.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$variant => $meaning,)*
                }
            }
        }
    };
}

error_codes! {
    InvalidParameter = "invalid_parameter", BadRequest, BAD_REQUEST,
        "a parameter cannot be read (bad percent-encoding, invalid UTF-8 or NUL included), is given more than once, or is out of range";
    UnknownParameter = "unknown_parameter", BadRequest, BAD_REQUEST,
        "the endpoint takes no parameter of that name; the message lists the valid ones";
    InvalidQuery = "invalid_query", BadRequest, BAD_REQUEST,
        "the query text cannot be parsed or is over a limit";
    UnknownName = "unknown_name", BadRequest, BAD_REQUEST,
        "a service, terms type or collection filter names nothing the index holds; `suggestions` has the closest names";
    NotFound = "not_found", NotFound, NOT_FOUND,
        "no such document, version or endpoint";
    DateInFuture = "date_in_future", InFuture, RANGE_NOT_SATISFIABLE,
        "an instant after the present: the latest version is the one in force now";
    PayloadTooLarge = "payload_too_large", BadRequest, PAYLOAD_TOO_LARGE,
        "the request body is larger than the limit";
    MethodNotAllowed = "method_not_allowed", BadRequest, METHOD_NOT_ALLOWED,
        "only GET is served";
    TimeBudgetExceeded = "time_budget_exceeded", Timeout, SERVICE_UNAVAILABLE,
        "the request ran past its time budget and was stopped; narrow it or try again later";
    Overloaded = "overloaded", Timeout, SERVICE_UNAVAILABLE,
        "too many requests in progress, too many large answers unread, or every export slot streaming; try again shortly";
    AnswerTooLarge = "answer_too_large", BadRequest, BAD_REQUEST,
        "the answer would hold more text than the server builds for one request (`--max-unsent`); it is refused as it is built: ask for less (a smaller limit, or without `full_text`)";
    NoIndex = "no_index", NotFound, NOT_FOUND,
        "the index folder holds no index";
    OtherSchema = "other_schema", BadRequest, BAD_REQUEST,
        "the index was written by another version of Palimpsest; index again with `--rebuild`";
    IndexVerifying = "index_verifying", Unavailable, SERVICE_UNAVAILABLE,
        "the server is checking the index it just opened and has no checked one to answer from; try again in a few seconds";
    IndexDamaged = "index_damaged", Unavailable, SERVICE_UNAVAILABLE,
        "files of the index fail their checksums, so nothing is answered from them; rebuild it with `palimpsest index --rebuild`";
    Internal = "internal", Internal, INTERNAL_SERVER_ERROR,
        "something failed that the request did not cause; the server's log has the details";
}

impl Code {
    /// The CLI's exit status for an error of this code: 2 for a request that cannot be
    /// answered as asked (as clap exits on a bad argument), 3 for something the index does
    /// not hold, 1 for every other failure.
    pub fn exit_status(self) -> u8 {
        match self.kind() {
            ErrorKind::BadRequest | ErrorKind::InFuture => 2,
            ErrorKind::NotFound => 3,
            ErrorKind::Timeout | ErrorKind::Unavailable | ErrorKind::Internal => 1,
        }
    }

    /// The table as Markdown: code, HTTP status, exit status and meaning (README.md holds
    /// it, and a test keeps the two equal).
    pub fn markdown_table() -> String {
        let mut table =
            String::from("| code | HTTP status | exit status | meaning |\n|---|---|---|---|\n");
        for code in Code::ALL {
            table.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                code.name(),
                code.status().as_u16(),
                code.exit_status(),
                code.meaning()
            ));
        }
        table
    }
}

impl From<&SearchError> for Code {
    fn from(error: &SearchError) -> Code {
        match error {
            SearchError::InvalidQuery { .. } => Code::InvalidQuery,
            SearchError::InvalidParameter { .. } | SearchError::SeveralCollections { .. } => {
                Code::InvalidParameter
            }
            SearchError::NotFound { .. } | SearchError::UnknownDocument { .. } => Code::NotFound,
            SearchError::UnknownName { .. } => Code::UnknownName,
            SearchError::InFuture { .. } => Code::DateInFuture,
            SearchError::Timeout => Code::TimeBudgetExceeded,
            SearchError::AnswerTooLarge { .. } => Code::AnswerTooLarge,
            SearchError::NoIndex { .. } => Code::NoIndex,
            SearchError::OtherSchema { .. } => Code::OtherSchema,
            SearchError::Verifying => Code::IndexVerifying,
            SearchError::IndexDamaged { .. } => Code::IndexDamaged,
            SearchError::Tantivy { .. } | SearchError::Schema(_) | SearchError::Panicked { .. } => {
                Code::Internal
            }
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl utoipa::PartialSchema for Code {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let mut description = String::from("Stable snake_case code:\n");
        for code in Code::ALL {
            description.push_str(&format!(
                "\n- `{}` ({}): {}",
                code.name(),
                code.status().as_u16(),
                code.meaning()
            ));
        }
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Code::ALL.iter().map(|code| code.name())))
            .description(Some(description))
            .examples([serde_json::json!("invalid_parameter")])
            .into()
    }
}

impl utoipa::ToSchema for Code {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ErrorCode")
    }
}

/// An error answered as `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Its row of the table: status and kind.
    pub code: Code,
    /// What went wrong, in the user's terms.
    pub message: String,
    /// For `unknown_name`: the names to offer instead.
    pub suggestions: Option<Suggestions>,
}

/// The JSON body of every error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// Code and message of an error.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code; `ErrorCode` lists each one's status and meaning.
    pub code: Code,
    /// Human-readable message naming the parameter or the thing at fault.
    pub message: String,
    /// With `unknown_name` (a service, terms type or collection filter naming nothing the
    /// index holds, in any case): the parameter and the closest names the index holds, to
    /// offer instead. With `not_found` for a document's service, terms type or collection
    /// in a path: the same, or when no name is close, every terms type of the service (every
    /// collection of the document). With `invalid_parameter` for a document several collections hold and
    /// no `collection` chosen: `collection`, an empty name, and those collections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Suggestions>,
}

/// Names to offer for an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    /// The parameter: `service`, `terms_type` or `collection`.
    pub parameter: String,
    /// The name given (empty when none was: a collection to choose).
    pub name: String,
    /// The closest names, closest first; may be empty.
    pub names: Vec<String>,
}

impl ApiError {
    /// The HTTP status of its code.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// 400 for a parameter that cannot be read or is out of range.
    pub fn parameter(name: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::InvalidParameter,
            message: format!("invalid parameter `{name}`: {message}"),
        }
    }

    /// 400 for a parameter the endpoint does not know.
    pub fn unknown_parameter(name: &str, valid: &[&str]) -> ApiError {
        let valid = if valid.is_empty() {
            "this endpoint takes no parameters".to_owned()
        } else {
            format!("valid parameters: {}", valid.join(", "))
        };
        ApiError {
            suggestions: None,
            code: Code::UnknownParameter,
            message: format!("unknown parameter `{}`; {valid}", shorten(name, 64)),
        }
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::NotFound,
            message: format!(
                "no endpoint at `{}`; /api/v1/openapi.json lists them",
                shorten(path, 200)
            ),
        }
    }

    /// 405 for a method a route does not serve.
    pub fn method_not_allowed() -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::MethodNotAllowed,
            message: "only GET is served".into(),
        }
    }

    /// 413 for a request body over the limit.
    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::PayloadTooLarge,
            message: format!("the request body is larger than {limit} bytes"),
        }
    }

    /// 503 when a request ran past its time budget.
    pub fn time_budget(budget: std::time::Duration) -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::TimeBudgetExceeded,
            message: format!(
                "the request did not finish within {} ms; narrow the query or try again later",
                budget.as_millis()
            ),
        }
    }

    /// 503 when too many requests are running or waiting.
    pub fn overloaded() -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::Overloaded,
            message: "too many requests in progress; try again shortly".into(),
        }
    }

    /// 503 when every export slot streams already.
    pub fn exports_busy(max: usize) -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::Overloaded,
            message: format!(
                "{max} exports are streaming already, the most this server runs at once; \
                 try again when one has finished"
            ),
        }
    }

    /// 503 when answers waiting for slow clients already hold the memory set aside for them.
    pub fn unsent_budget() -> ApiError {
        ApiError {
            suggestions: None,
            code: Code::Overloaded,
            message: "too many large answers are waiting for their clients to read them; \
                      try again shortly, or ask for less (a smaller limit)"
                .into(),
        }
    }

    /// 500; the details go to the log, not to the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        let error = error.to_string();
        tracing::error!("{context}: {}", palimpsest_schema::printable(&error));
        ApiError {
            suggestions: None,
            code: Code::Internal,
            message: format!("{context}; the server log has the details"),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> ApiError {
        let code = Code::from(&error);
        if code == Code::Internal {
            return ApiError::internal("the index could not be read", error);
        }
        if code == Code::IndexDamaged {
            // The operator has to act: every answer is refused until the index is rebuilt.
            tracing::error!("{error}");
        }
        let suggestions = match &error {
            SearchError::UnknownName {
                parameter,
                name,
                suggestions,
            }
            | SearchError::UnknownDocument {
                parameter,
                name,
                suggestions,
                ..
            } => Some(Suggestions {
                parameter: (*parameter).to_owned(),
                name: name.clone(),
                names: suggestions.clone(),
            }),
            // The page links each collection.
            SearchError::SeveralCollections { collections, .. } => Some(Suggestions {
                parameter: "collection".to_owned(),
                name: String::new(),
                names: collections.clone(),
            }),
            _ => None,
        };
        let message = match &error {
            SearchError::SeveralCollections { collections, .. } => format!(
                "invalid parameter `collection`: {error} with {}",
                collections
                    .iter()
                    .map(|c| format!("collection={c}"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            _ if error.lists_no_names() => format!("{error}; GET /api/v1/services lists them"),
            // The server's own state: its operator acts (the log has the details), not
            // the client, and the API names no folder and no command.
            SearchError::IndexDamaged { .. } => "files of the index fail their checksums, so \
                nothing is answered from them; the server's operator must rebuild the index \
                (the server log names the files)"
                .to_owned(),
            SearchError::OtherSchema { .. } => "the index was written by another version of \
                Palimpsest; the server's operator must index again"
                .to_owned(),
            SearchError::NoIndex { .. } => {
                "the server's index folder holds no index; its operator must index first".to_owned()
            }
            _ => error.to_string(),
        };
        ApiError {
            suggestions,
            code,
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                suggestions: self.suggestions,
            },
        };
        (self.code.status(), Json(body)).into_response()
    }
}

/// At most `max` characters of user input, for messages.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each variant of the search crate (Tantivy's aside: it is internal, as
    /// `Schema` is).
    fn search_errors() -> Vec<SearchError> {
        vec![
            SearchError::InvalidQuery {
                message: "x".into(),
            },
            SearchError::InvalidParameter {
                name: "limit",
                message: "x".into(),
            },
            SearchError::NotFound {
                message: "x".into(),
            },
            SearchError::UnknownName {
                parameter: "service",
                name: "x".into(),
                suggestions: Vec::new(),
            },
            SearchError::InFuture {
                at: palimpsest_schema::Timestamp::parse("2024-01-01").unwrap(),
            },
            SearchError::Timeout,
            SearchError::NoIndex { path: "x".into() },
            SearchError::OtherSchema { path: "x".into() },
            SearchError::Verifying,
            SearchError::IndexDamaged {
                path: "x".into(),
                files: vec!["a.fast".into()],
            },
            SearchError::Panicked {
                message: "x".into(),
            },
            SearchError::SeveralCollections {
                service: "x".into(),
                terms_type: "y".into(),
                collections: vec!["a".into(), "b".into()],
            },
            SearchError::UnknownDocument {
                parameter: "service",
                name: "x".into(),
                within: None,
                suggestions: vec!["y".into()],
                close: true,
            },
            internal_error(),
        ]
    }

    /// An internal error: a stored document of the wrong shape.
    fn internal_error() -> SearchError {
        SearchError::Schema(palimpsest_schema::SchemaError::InvalidKind { value: "x".into() })
    }

    #[test]
    fn codes_are_unique_snake_case_and_their_statuses_follow_their_kinds() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
        for code in Code::ALL {
            assert!(
                code.name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            let status = code.status();
            let expected = match code.kind() {
                ErrorKind::BadRequest => status.is_client_error(),
                ErrorKind::NotFound => status == StatusCode::NOT_FOUND,
                ErrorKind::InFuture => status == StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorKind::Timeout | ErrorKind::Unavailable => {
                    status == StatusCode::SERVICE_UNAVAILABLE
                }
                ErrorKind::Internal => status == StatusCode::INTERNAL_SERVER_ERROR,
            };
            assert!(expected, "{code}: {status} for {:?}", code.kind());
            assert!(!code.meaning().ends_with('.'), "{code}");
        }
    }

    #[test]
    fn a_search_error_keeps_its_kind_in_its_code() {
        for error in search_errors() {
            let code = Code::from(&error);
            assert_eq!(code.kind(), error.kind(), "{error}");
        }
        let answered = ApiError::from(SearchError::UnknownName {
            parameter: "service",
            name: "x".into(),
            suggestions: vec!["y".into()],
        });
        assert_eq!(answered.code, Code::UnknownName);
        assert_eq!(answered.status(), StatusCode::BAD_REQUEST);
        assert_eq!(answered.suggestions.unwrap().names, ["y"]);
        assert_eq!(ApiError::from(internal_error()).code, Code::Internal);
    }

    #[test]
    fn the_readme_lists_every_code_with_its_statuses() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md");
        let table = Code::markdown_table();
        assert!(
            readme.contains(&table),
            "README.md's table of error codes differs from the code's; it should read:\n\n{table}"
        );
    }
}
