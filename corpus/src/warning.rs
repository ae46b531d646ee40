//! A file of an archive that could not be read as a version, and why.

/// Something in the archive that was skipped or read imperfectly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file, commit or entry concerned.
    pub path: String,
    /// What happened to it.
    pub reason: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}
