use std::fmt;

use serde::{Deserialize, Serialize};

use crate::SchemaError;

fn validate(what: &'static str, value: &str) -> Result<(), SchemaError> {
    let reason = if value.trim().is_empty() {
        Some("it is empty")
    } else if value.len() > 256 {
        Some("it is longer than 256 bytes")
    } else if value.trim() != value {
        Some("it starts or ends with whitespace")
    } else if value.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if value.contains('/') || value.contains('\\') {
        Some("it contains a path separator")
    } else if value == "." || value == ".." {
        Some("it is a relative path component")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SchemaError::InvalidName {
            what,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates a name: not empty, at most 256 bytes, no control characters,
            /// no path separators, no surrounding whitespace.
            pub fn new(value: impl Into<String>) -> Result<Self, SchemaError> {
                let value = value.into();
                validate($what, &value)?;
                Ok(Self(value))
            }

            /// The name as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = SchemaError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
    };
}

name_type!(
    /// A tracked service, e.g. `Instagram`.
    ServiceId,
    "service"
);
name_type!(
    /// A terms type, e.g. `Privacy Policy`.
    TermsType,
    "terms type"
);
name_type!(
    /// The archive a document came from, e.g. `vlopses-us`.
    CollectionName,
    "collection"
);

/// One document: a terms type of a service within a collection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocKey {
    /// The collection the document belongs to.
    pub collection: CollectionName,
    /// The service.
    pub service: ServiceId,
    /// The terms type.
    pub terms_type: TermsType,
}

impl DocKey {
    /// Builds a key from three names, validating each.
    pub fn new(collection: &str, service: &str, terms_type: &str) -> Result<DocKey, SchemaError> {
        Ok(DocKey {
            collection: CollectionName::new(collection)?,
            service: ServiceId::new(service)?,
            terms_type: TermsType::new(terms_type)?,
        })
    }

    /// The key as one indexed term; names hold no control characters, so the unit separator
    /// cannot be ambiguous.
    pub fn term_text(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.collection, self.service, self.terms_type
        )
    }

    /// Reads a key back from [`DocKey::term_text`].
    pub fn from_term_text(text: &str) -> Result<DocKey, SchemaError> {
        let mut parts = text.split('\u{1f}');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(collection), Some(service), Some(terms_type), None) => {
                DocKey::new(collection, service, terms_type)
            }
            _ => Err(SchemaError::Inconsistent(format!(
                "`{}` is not a document key",
                text.escape_debug()
            ))),
        }
    }

    /// A stable 64-bit hash of the key, kept in a fast field for grouping.
    pub fn hash64(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(self.term_text().as_bytes())
    }
}

impl fmt::Display for DocKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {} ({})",
            self.service, self.terms_type, self.collection
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_names_that_cannot_be_documents() {
        for bad in ["", " x", "a/b", "..", "a\u{0}b", "tab\there"] {
            assert!(ServiceId::new(bad).is_err(), "{bad:?}");
        }
        assert!(ServiceId::new("Acme Cloud").is_ok());
        assert!(TermsType::new("Terms of Service").is_ok());
    }

    #[test]
    fn keys_round_trip_through_their_term_text() {
        let key = DocKey::new("sample", "Acme Cloud", "Terms of Service").unwrap();
        assert_eq!(DocKey::from_term_text(&key.term_text()).unwrap(), key);
        assert!(DocKey::from_term_text("a\u{1f}b").is_err());
        assert!(DocKey::from_term_text("a\u{1f}b\u{1f}c\u{1f}d").is_err());
    }
}
