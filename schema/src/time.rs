use std::fmt;
use std::str::FromStr;

use jiff::fmt::temporal::Pieces;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::SchemaError;

/// An instant in UTC with one-second resolution, the resolution of git author dates and of
/// Open Terms Archive dataset file names.
///
/// Parsed from an RFC 3339 instant (any offset), a bare `YYYY-MM-DD` date, which means
/// 00:00:00Z, or a month `YYYY-MM` or year `YYYY`, which mean 00:00:00Z on their first day;
/// displayed as RFC 3339 ending in `Z`.
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

    /// Parses an RFC 3339 instant, a plain date, or a month (`YYYY-MM`) or year (`YYYY`)
    /// meaning its first day; one outside [`Timestamp::MIN`] to [`Timestamp::MAX`] (once
    /// converted to UTC) is refused.
    pub fn parse(value: &str) -> Result<Timestamp, SchemaError> {
        let invalid = || SchemaError::InvalidDate {
            value: value.to_owned(),
        };
        let trimmed = value.trim();
        let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        let first_day = match trimmed.split_once('-') {
            None if trimmed.len() == 4 && digits(trimmed) => Some(format!("{trimmed}-01-01")),
            Some((year, month))
                if year.len() == 4 && month.len() == 2 && digits(year) && digits(month) =>
            {
                Some(format!("{trimmed}-01"))
            }
            _ => None,
        };
        let trimmed = first_day.as_deref().unwrap_or(trimmed);
        let local = if trimmed.len() == 10 {
            let date: jiff::civil::Date = trimmed.parse().map_err(|_| invalid())?;
            date.to_datetime(jiff::civil::Time::midnight())
        } else {
            // Pieces, not `jiff::Timestamp`: jiff's timestamps end a day before year 9999 does
            // (so that any offset gives a civil time), and `Timestamp::MAX` is its last second.
            let pieces = Pieces::parse(trimmed).map_err(|_| invalid())?;
            let time = pieces.time().ok_or_else(invalid)?;
            // Whole seconds, rounded down: the resolution of every instant the archives give.
            let time = jiff::civil::time(time.hour(), time.minute(), time.second(), 0);
            let offset = pieces.offset().ok_or_else(invalid)?.to_numeric_offset();
            let local = pieces.date().to_datetime(time);
            let seconds = local.duration_since(EPOCH).as_secs() - i64::from(offset.seconds());
            return Timestamp::from_unix(seconds).ok_or_else(invalid);
        };
        Timestamp::from_civil(local).ok_or_else(invalid)
    }

    /// The instant of a civil date and time in UTC, if it lies in years 1 to 9999.
    pub fn from_civil(utc: jiff::civil::DateTime) -> Option<Timestamp> {
        Timestamp::from_unix(utc.duration_since(EPOCH).as_secs())
    }

    /// The civil date and time (UTC) of this instant.
    pub fn to_civil(self) -> jiff::civil::DateTime {
        EPOCH
            .checked_add(jiff::SignedDuration::from_secs(self.0))
            .expect("years 1 to 9999 are civil datetimes")
    }

    /// The calendar year (UTC) of this instant.
    pub fn year(self) -> i16 {
        self.to_civil().year()
    }
}

/// 1970-01-01T00:00:00, the instant 0 of [`Timestamp`] in UTC.
const EPOCH: jiff::civil::DateTime = jiff::civil::date(1970, 1, 1).at(0, 0, 0, 0);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_civil().strftime("%Y-%m-%dT%H:%M:%SZ"))
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
    fn a_month_or_a_year_was_refused_instead_of_read_as_its_start() {
        let start = |value| Timestamp::parse(value).unwrap().to_string();
        assert_eq!(start("2025-10"), "2025-10-01T00:00:00Z");
        assert_eq!(start("2025"), "2025-01-01T00:00:00Z");
        assert_eq!(start("0001"), "0001-01-01T00:00:00Z");
        assert_eq!(start("9999-12"), "9999-12-01T00:00:00Z");
        for bad in [
            "2025-13", "2025-00", "0000", "0000-01", "2025-1", "25", "20251", "+2025",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
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

    #[test]
    fn the_last_day_of_year_9999_is_shown_and_parsed() {
        // jiff's own timestamps end at 9999-12-30T22:00:00Z: these panicked when shown.
        for seconds in [253_402_290_000, 253_402_207_201, Timestamp::MAX.0] {
            let t = Timestamp::from_unix(seconds).unwrap();
            let shown = t.to_string();
            assert!(shown.starts_with("9999-12-3"), "{shown}");
            assert_eq!(Timestamp::parse(&shown).unwrap(), t);
            assert_eq!(t.year(), 9999);
        }
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59Z").unwrap(),
            Timestamp::MAX
        );
        assert_eq!(Timestamp::MIN.to_string(), "0001-01-01T00:00:00Z");
        assert_eq!(Timestamp::parse("0001-01-01").unwrap(), Timestamp::MIN);
        assert_eq!(
            Timestamp::parse("9999-12-31").unwrap().to_string(),
            "9999-12-31T00:00:00Z"
        );
    }

    #[test]
    fn instants_outside_years_1_to_9999_in_utc_are_refused() {
        assert_eq!(Timestamp::from_unix(Timestamp::MAX.0 + 1), None);
        assert_eq!(Timestamp::from_unix(Timestamp::MIN.0 - 1), None);
        for bad in [
            "9999-12-31T23:59:59-00:01",
            "0001-01-01T00:00:00+00:01",
            "0000-12-31",
            "9999-12-31T23:59:59",
            "+10000-01-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:59+00:01")
                .unwrap()
                .to_string(),
            "9999-12-31T23:58:59Z"
        );
    }
}
