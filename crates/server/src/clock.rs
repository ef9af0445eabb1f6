//! Where "now" comes from: the system clock, or a fixed instant (`--now`)
//! for reproducible demos and tests.

use jiff::Timestamp;

/// The source of the current instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    System,
    /// Always this instant.
    Fixed(Timestamp),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => *t,
        }
    }
}

/// Parses `--now`: RFC 3339 with an offset (`2027-03-10T10:00:00+01:00`,
/// `…Z`) or a local date-time without offset (`2027-03-10T10:00:00`), which is
/// read in time zone `tz`.
///
/// # Errors
/// A string that is neither, or a local time that does not exist in `tz`.
pub fn parse_now(s: &str, tz: &jiff::tz::TimeZone) -> Result<Timestamp, String> {
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    let dt: jiff::civil::DateTime = s.parse().map_err(|e| format!("--now '{s}': expected RFC 3339 (2027-03-10T10:00:00+01:00): {e}"))?;
    tz.to_ambiguous_timestamp(dt).compatible().map_err(|e| format!("--now '{s}': {e}"))
}
