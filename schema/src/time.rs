use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SchemaError;

/// An instant in UTC with one-second resolution, the resolution of git author dates and of
/// Open Terms Archive dataset file names.
///
/// Parsed from an RFC 3339 instant (any offset) or a bare `YYYY-MM-DD` date, which means
/// 00:00:00Z; displayed as RFC 3339 ending in `Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Earliest instant accepted (0001-01-01T00:00:00Z).
    pub const MIN: Timestamp = Timestamp(-62_135_596_800);
    /// Latest instant accepted (9999-12-31T23:59:59Z).
    pub const MAX: Timestamp = Timestamp(253_402_300_799);

    /// The instant `seconds` after the Unix epoch, if it lies in years 1 to 9999.
    pub fn from_unix(seconds: i64) -> Option<Timestamp> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&seconds)
            .then_some(Timestamp(seconds))
    }

    /// Seconds since the Unix epoch.
    pub fn as_unix(self) -> i64 {
        self.0
    }

    /// The current instant, truncated to the second.
    pub fn now() -> Timestamp {
        Timestamp(jiff::Timestamp::now().as_second())
    }

    /// Parses an RFC 3339 instant or a plain date.
    pub fn parse(value: &str) -> Result<Timestamp, SchemaError> {
        let invalid = || SchemaError::InvalidDate {
            value: value.to_owned(),
        };
        let trimmed = value.trim();
        if trimmed.len() == 10 {
            let date: jiff::civil::Date = trimmed.parse().map_err(|_| invalid())?;
            let ts = date
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map_err(|_| invalid())?
                .timestamp();
            return Timestamp::from_unix(ts.as_second()).ok_or_else(invalid);
        }
        let ts: jiff::Timestamp = trimmed.parse().map_err(|_| invalid())?;
        Timestamp::from_unix(ts.as_second()).ok_or_else(invalid)
    }

    /// The calendar year (UTC) of this instant.
    pub fn year(self) -> i16 {
        self.to_jiff().to_zoned(jiff::tz::TimeZone::UTC).year()
    }

    fn to_jiff(self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.0).expect("range checked at construction")
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_jiff().strftime("%Y-%m-%dT%H:%M:%SZ"))
    }
}

impl FromStr for Timestamp {
    type Err = SchemaError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_and_instants_to_utc() {
        assert_eq!(Timestamp::parse("1970-01-02").unwrap().as_unix(), 86_400);
        let t = Timestamp::parse("2024-03-01T12:00:00+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-03-01T10:00:00Z");
        assert_eq!(t.year(), 2024);
    }

    #[test]
    fn rejects_impossible_dates() {
        for bad in [
            "2024-02-30",
            "2024-13-01",
            "yesterday",
            "",
            "2024-03-01T25:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        let t = Timestamp::from_unix(1_700_000_000).unwrap();
        assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
    }
}
