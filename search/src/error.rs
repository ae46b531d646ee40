use thiserror::Error;

/// How an error should be reported, without naming a transport. The server's table of error
/// codes gives each code a kind, from which come its HTTP status and the CLI's exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed: a query, a parameter, a limit.
    BadRequest,
    /// The request names something the index does not hold.
    NotFound,
    /// The request asks about an instant in the future.
    InFuture,
    /// The operation ran past its deadline and gave up, or could not start in time: try
    /// again later.
    Timeout,
    /// Something went wrong on our side.
    Internal,
}

/// Errors of the read side.
#[derive(Debug, Error)]
pub enum SearchError {
    /// The query text cannot be parsed.
    #[error("invalid query: {message}")]
    InvalidQuery {
        /// What is wrong, in the user's terms.
        message: String,
    },
    /// A parameter is out of range or malformed.
    #[error("invalid parameter `{name}`: {message}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No service, terms type or document matches.
    #[error("{message}")]
    NotFound {
        /// What was not found, with suggestions.
        message: String,
    },
    /// A service, terms type or collection filter names nothing the index holds, not even
    /// in another case (or several names in other cases).
    #[error("unknown {} `{}`; {}", parameter.replace('_', " "), shorten(name, 100), hint(suggestions))]
    UnknownName {
        /// The parameter: `service`, `terms_type` or `collection`.
        parameter: &'static str,
        /// The name given.
        name: String,
        /// The names the index holds that are closest to it, closest first.
        suggestions: Vec<String>,
    },
    /// An instant after the present.
    #[error("{at} is in the future; the latest version is the one in force now")]
    InFuture {
        /// The instant asked for.
        at: palimpsest_schema::Timestamp,
    },
    /// The operation ran past its deadline ([`crate::Engine::until`]) and stopped.
    #[error("the operation ran past its time budget and was stopped")]
    Timeout,
    /// The answer would hold more section text than [`crate::Limits::max_answer_bytes`].
    #[error(
        "the answer would hold more than {limit} bytes of text; ask for less (a smaller limit, fewer versions apart, or without full texts)"
    )]
    AnswerTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The index folder holds no index.
    #[error("no index at {path}: run `palimpsest index PATH` first")]
    NoIndex {
        /// The folder.
        path: std::path::PathBuf,
    },
    /// The index was written by a version of Palimpsest with another schema.
    #[error("{} was written by another version of Palimpsest; index again with --rebuild", path.display())]
    OtherSchema {
        /// The folder.
        path: std::path::PathBuf,
    },
    /// Tantivy failed.
    #[error("{action}: {source}")]
    Tantivy {
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        source: tantivy::TantivyError,
    },
    /// A stored document does not have the expected shape.
    #[error(transparent)]
    Schema(#[from] palimpsest_schema::SchemaError),
}

impl SearchError {
    /// How this error should be reported.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SearchError::InvalidQuery { .. }
            | SearchError::InvalidParameter { .. }
            | SearchError::UnknownName { .. }
            | SearchError::AnswerTooLarge { .. } => ErrorKind::BadRequest,
            SearchError::NotFound { .. } | SearchError::NoIndex { .. } => ErrorKind::NotFound,
            SearchError::OtherSchema { .. } => ErrorKind::BadRequest,
            SearchError::InFuture { .. } => ErrorKind::InFuture,
            SearchError::Timeout => ErrorKind::Timeout,
            SearchError::Tantivy { .. } | SearchError::Schema(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn tantivy(action: &'static str) -> impl FnOnce(tantivy::TantivyError) -> Self {
        move |source| SearchError::Tantivy { action, source }
    }

    pub(crate) fn parameter(name: &'static str, message: impl Into<String>) -> Self {
        SearchError::InvalidParameter {
            name,
            message: message.into(),
        }
    }
}

/// "did you mean …?" with the suggestions, or where to find the names.
fn hint(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        return "`palimpsest services` lists them".to_owned();
    }
    let names: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    format!("did you mean {}?", names.join(" or "))
}

/// At most `max` characters of user input, for messages: a name or id echoed whole could
/// make an error as large as the request.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Result alias of this crate.
pub type Result<T, E = SearchError> = std::result::Result<T, E>;
