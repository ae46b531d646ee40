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
    /// The index cannot answer at the moment: its files are being checked, or they are
    /// damaged and the index must be rebuilt.
    Unavailable,
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
    #[error("unknown {} `{}`{}", parameter.replace('_', " "), shorten(name, 100), hint(suggestions))]
    UnknownName {
        /// The parameter: `service`, `terms_type` or `collection`.
        parameter: &'static str,
        /// The name given.
        name: String,
        /// The names the index holds that are closest to it, closest first.
        suggestions: Vec<String>,
    },
    /// The service, terms type or collection of a document (`show`, `versions`, `diff`)
    /// names nothing the index holds for it, not even in another case or abbreviated.
    #[error("{}", unknown_document(parameter, name, within.as_deref(), suggestions, *close))]
    UnknownDocument {
        /// The parameter: `service`, `terms_type` or `collection`.
        parameter: &'static str,
        /// The name given.
        name: String,
        /// What was looked in, as the message names it: the service (for a terms type), the
        /// service and terms type (for a collection), each between backticks; none for a
        /// service.
        within: Option<String>,
        /// The names to offer: the close ones, or when none is close every one there is
        /// (every terms type of the service, every collection of the document).
        suggestions: Vec<String>,
        /// Whether `suggestions` are close to the name given.
        close: bool,
    },
    /// A service and terms type name a document several collections hold, and the request
    /// chose none: each transport says how to choose one (`--collection`, `collection=`).
    #[error("`{service}` `{terms_type}` is in several collections ({}); choose one", collections.join(", "))]
    SeveralCollections {
        /// The service, as the index spells it.
        service: String,
        /// The terms type, as given.
        terms_type: String,
        /// The collections holding the document, sorted.
        collections: Vec<String>,
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
    /// Files of the index do not read right (their checksums differ from their contents, or
    /// its metadata cannot be parsed): nothing is answered from them.
    #[error("the index at {} is damaged ({}); rebuild it with `palimpsest index --rebuild`", path.display(), damage(files))]
    IndexDamaged {
        /// The folder.
        path: std::path::PathBuf,
        /// The damaged files, in the folder; empty when the metadata is.
        files: Vec<std::path::PathBuf>,
    },
    /// The index's current generation is being checked and none checked before can answer.
    #[error("the index is being checked after it was opened; try again in a few seconds")]
    Verifying,
    /// An operation panicked on data that reads right: a bug.
    #[error("the operation failed unexpectedly: {message}")]
    Panicked {
        /// The panic's message.
        message: String,
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
            | SearchError::AnswerTooLarge { .. }
            | SearchError::SeveralCollections { .. } => ErrorKind::BadRequest,
            SearchError::NotFound { .. }
            | SearchError::UnknownDocument { .. }
            | SearchError::NoIndex { .. } => ErrorKind::NotFound,
            SearchError::OtherSchema { .. } => ErrorKind::BadRequest,
            SearchError::InFuture { .. } => ErrorKind::InFuture,
            SearchError::Timeout => ErrorKind::Timeout,
            SearchError::Verifying | SearchError::IndexDamaged { .. } => ErrorKind::Unavailable,
            SearchError::Panicked { .. } | SearchError::Tantivy { .. } | SearchError::Schema(_) => {
                ErrorKind::Internal
            }
        }
    }

    /// Whether this is an unknown name with no name to offer instead: each transport then
    /// says where the names are listed (`palimpsest services`, `GET /api/v1/services`).
    pub fn lists_no_names(&self) -> bool {
        match self {
            SearchError::UnknownName { suggestions, .. }
            | SearchError::UnknownDocument { suggestions, .. } => suggestions.is_empty(),
            _ => false,
        }
    }

    /// Whether damaged files could explain this error: the failures of reading the index.
    pub(crate) fn may_be_damage(&self) -> bool {
        matches!(
            self,
            SearchError::Panicked { .. } | SearchError::Tantivy { .. } | SearchError::Schema(_)
        )
    }

    /// The error for a caught panic, with its message when it has one.
    pub(crate) fn panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        SearchError::Panicked { message }
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

/// The damaged files, the first few named.
fn damage(files: &[std::path::PathBuf]) -> String {
    const NAMED: usize = 5;
    if files.is_empty() {
        return "its metadata cannot be read".to_owned();
    }
    let mut names: Vec<String> = files
        .iter()
        .take(NAMED)
        .map(|f| f.display().to_string())
        .collect();
    if files.len() > NAMED {
        names.push(format!("and {} more", files.len() - NAMED));
    }
    format!(
        "{} file{} fail{} {} checksum: {}",
        files.len(),
        if files.len() == 1 { "" } else { "s" },
        if files.len() == 1 { "s" } else { "" },
        if files.len() == 1 { "its" } else { "their" },
        names.join(", ")
    )
}

/// "; did you mean …?" with the suggestions; nothing without (each transport says where
/// the names are listed: [`SearchError::lists_no_names`]).
fn hint(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let names: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    format!("; did you mean {}?", names.join(" or "))
}

/// The message of [`SearchError::UnknownDocument`].
fn unknown_document(
    parameter: &str,
    name: &str,
    within: Option<&str>,
    suggestions: &[String],
    close: bool,
) -> String {
    let name = shorten(name, 100);
    let missing = match (parameter, within) {
        ("terms_type", Some(service)) => format!("{service} has no document `{name}`"),
        ("collection", Some(document)) => format!("{document} is not in collection `{name}`"),
        _ => format!("unknown {} `{name}`", parameter.replace('_', " ")),
    };
    match (close, parameter) {
        (true, _) | (_, "service") => format!("{missing}{}", hint(suggestions)),
        (false, "collection") => format!("{missing}; it is in: {}", suggestions.join(", ")),
        (false, _) => format!("{missing}; it has: {}", suggestions.join(", ")),
    }
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
