use thiserror::Error;

/// Invalid names, dates or kinds met while building domain values.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    /// A service, terms type or collection name that cannot name a document.
    #[error("invalid {what} {value:?}: {reason}")]
    InvalidName {
        /// Which kind of name (`service`, `terms type`, `collection`).
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A date or instant that is not RFC 3339, a plain `YYYY-MM-DD` date, a month or a year,
    /// or is impossible.
    #[error(
        "invalid date {value:?}: expected an RFC 3339 instant (2024-03-01T12:00:00Z), a date (2024-03-01), or a month (2024-03) or year (2024) meaning its first day, from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z"
    )]
    InvalidDate {
        /// The rejected value.
        value: String,
    },
    /// A version kind that is none of the known ones.
    #[error(
        "unknown version kind {value:?}: expected first_record, change, technical_upgrade or deleted"
    )]
    InvalidKind {
        /// The rejected value.
        value: String,
    },
    /// A stored document lacks a field or holds a value out of range.
    #[error("index is inconsistent: {0}")]
    Inconsistent(String),
}
