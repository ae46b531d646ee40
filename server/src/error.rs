//! [`ApiError`]: the one error type of the HTTP layer, and the one place where error kinds
//! become status codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use palimpsest_search::{ErrorKind, SearchError};
use serde::Serialize;

/// An error answered as `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code for clients.
    pub code: &'static str,
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
    /// Stable snake_case code: `invalid_parameter`, `unknown_parameter`, `invalid_query`,
    /// `unknown_name`, `not_found`, `date_in_future`, `payload_too_large`, `method_not_allowed`,
    /// `time_budget_exceeded`, `overloaded`, `internal`.
    #[schema(example = "invalid_parameter")]
    pub code: String,
    /// Human-readable message naming the parameter or the thing at fault.
    pub message: String,
    /// With `unknown_name` (a service, terms type or collection filter naming nothing the
    /// index holds, in any case): the parameter and the closest names the index holds, to
    /// offer instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Suggestions>,
}

/// Names to offer for an unknown one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Suggestions {
    /// The parameter: `service`, `terms_type` or `collection`.
    pub parameter: String,
    /// The name given.
    pub name: String,
    /// The closest names, closest first; may be empty.
    pub names: Vec<String>,
}

impl ApiError {
    /// 400 for a parameter that cannot be read or is out of range.
    pub fn parameter(name: &str, message: impl std::fmt::Display) -> ApiError {
        ApiError {
            suggestions: None,
            status: StatusCode::BAD_REQUEST,
            code: "invalid_parameter",
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
            status: StatusCode::BAD_REQUEST,
            code: "unknown_parameter",
            message: format!("unknown parameter `{}`; {valid}", shorten(name, 64)),
        }
    }

    /// 404 for a path no route serves.
    pub fn no_route(path: &str) -> ApiError {
        ApiError {
            suggestions: None,
            status: StatusCode::NOT_FOUND,
            code: "not_found",
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
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: "only GET is served".into(),
        }
    }

    /// 413 for a request body over the limit.
    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError {
            suggestions: None,
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!("the request body is larger than {limit} bytes"),
        }
    }

    /// 503 when a request ran past its time budget.
    pub fn time_budget(budget: std::time::Duration) -> ApiError {
        ApiError {
            suggestions: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "time_budget_exceeded",
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
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "overloaded",
            message: "too many requests in progress; try again shortly".into(),
        }
    }

    /// 503 when every export slot streams already.
    pub fn exports_busy(max: usize) -> ApiError {
        ApiError {
            suggestions: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "overloaded",
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
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "overloaded",
            message: "too many large answers are waiting for their clients to read them;                       try again shortly, or ask for less (a smaller limit)"
                .into(),
        }
    }

    /// 500; the details go to the log, not to the client.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> ApiError {
        tracing::error!("{context}: {error}");
        ApiError {
            suggestions: None,
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: format!("{context}; the server log has the details"),
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> ApiError {
        let status = match error.kind() {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::InFuture => StatusCode::RANGE_NOT_SATISFIABLE,
            ErrorKind::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Internal => return ApiError::internal("the index could not be read", error),
        };
        let suggestions = match &error {
            SearchError::UnknownName {
                parameter,
                name,
                suggestions,
            } => Some(Suggestions {
                parameter: (*parameter).to_owned(),
                name: name.clone(),
                names: suggestions.clone(),
            }),
            _ => None,
        };
        ApiError {
            suggestions,
            status,
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                suggestions: self.suggestions,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// At most `max` characters of user input, for messages.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
