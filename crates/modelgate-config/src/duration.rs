//! `HumanDuration`: how durations are written in the configuration file.
//!
//! Accepted: `500ms`, `10s`, `5m`, `1h` (a decimal number such as `1.5s` is
//! fine too), or a bare non-negative number meaning seconds (`30`, `0.25`).
//! Written back in the most compact exact form: `10s`, `500ms`, `5m`, `1h`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::HumanDuration;

const EXPECTED: &str = "expected a duration like 500ms, 10s, 5m or 1h";

/// A string that is not a valid duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration `{given}`: {EXPECTED}")]
pub struct DurationError {
    pub given: String,
}

impl HumanDuration {
    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self(Duration::from_millis(millis))
    }

    /// The duration as a `std::time::Duration`.
    pub const fn get(self) -> Duration {
        self.0
    }

    /// Seconds (possibly fractional) as a duration; `None` for negative,
    /// non-finite or absurdly large values.
    fn from_secs_f64(secs: f64) -> Option<Self> {
        if secs.is_finite() && secs >= 0.0 {
            Duration::try_from_secs_f64(secs).ok().map(Self)
        } else {
            None
        }
    }
}

impl From<HumanDuration> for Duration {
    fn from(d: HumanDuration) -> Self {
        d.0
    }
}

impl From<Duration> for HumanDuration {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError {
            given: s.to_owned(),
        };
        let t = s.trim();
        // Longest suffix first: `ms` must not be read as `m`.
        let (number, millis_per_unit) = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
            .into_iter()
            .find_map(|(unit, ms)| t.strip_suffix(unit).map(|n| (n, ms)))
            .unwrap_or((t, 1000));
        // Only plain decimals: `f64::from_str` would also take `inf`, `1e3`, `+5`.
        let plain = !number.is_empty()
            && number.chars().all(|c| c.is_ascii_digit() || c == '.')
            && number.chars().filter(|&c| c == '.').count() <= 1
            && number != ".";
        if !plain {
            return Err(err());
        }
        // Whole numbers are computed exactly; f64 only for fractions.
        if let Ok(n) = number.parse::<u64>() {
            return n
                .checked_mul(millis_per_unit)
                .map(HumanDuration::from_millis)
                .ok_or_else(err);
        }
        let n: f64 = number.parse().map_err(|_| err())?;
        Self::from_secs_f64(n * millis_per_unit as f64 / 1000.0).ok_or_else(err)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        let nanos = d.subsec_nanos();
        if !nanos.is_multiple_of(1_000_000) {
            // Sub-millisecond precision: fractional seconds keep it exact enough.
            write!(f, "{}s", d.as_secs_f64())
        } else if nanos != 0 {
            write!(f, "{}ms", d.as_millis())
        } else if secs != 0 && secs.is_multiple_of(3600) {
            write!(f, "{}h", secs / 3600)
        } else if secs != 0 && secs.is_multiple_of(60) {
            write!(f, "{}m", secs / 60)
        } else {
            write!(f, "{secs}s")
        }
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = HumanDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration like 500ms, 10s, 5m or 1h")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(HumanDuration::from_secs(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v).map(HumanDuration::from_secs).map_err(|_| {
            E::custom(DurationError {
                given: v.to_string(),
            })
        })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        HumanDuration::from_secs_f64(v).ok_or_else(|| {
            E::custom(DurationError {
                given: v.to_string(),
            })
        })
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

impl schemars::JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "HumanDuration".into()
    }

    fn json_schema(_generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: `500ms`, `10s`, `5m`, `1h`, or a number of seconds.",
            "anyOf": [
                { "type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+(ms|s|m|h)?\s*$" },
                { "type": "number", "minimum": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Duration, DurationError> {
        s.parse::<HumanDuration>().map(Duration::from)
    }

    #[test]
    fn parses_units() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse(" 2m "), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn rejects_garbage_with_clear_message() {
        for bad in [
            "",
            "10x",
            "ms",
            "-5s",
            "1e3",
            "inf",
            "1..2s",
            "10 minutes",
            ".",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.to_string().contains(EXPECTED), "{bad}: {err}");
        }
        assert!(parse("99999999999999999999h").is_err());
    }

    #[test]
    fn serializes_compactly() {
        let show = |d: Duration| HumanDuration(d).to_string();
        assert_eq!(show(Duration::from_secs(10)), "10s");
        assert_eq!(show(Duration::from_millis(500)), "500ms");
        assert_eq!(show(Duration::from_millis(1500)), "1500ms");
        assert_eq!(show(Duration::from_secs(300)), "5m");
        assert_eq!(show(Duration::from_secs(7200)), "2h");
        assert_eq!(show(Duration::from_secs(90)), "90s");
        assert_eq!(show(Duration::ZERO), "0s");
        let json = serde_json::to_string(&HumanDuration::from_secs(600)).expect("serialize");
        assert_eq!(json, "\"10m\"");
    }

    #[test]
    fn round_trips_through_display() {
        for d in [0, 1, 59, 60, 61, 3600, 5400, 86_400] {
            let h = HumanDuration::from_secs(d);
            assert_eq!(h.to_string().parse::<HumanDuration>(), Ok(h));
        }
        let odd = HumanDuration(Duration::from_micros(1500));
        assert_eq!(odd.to_string().parse::<HumanDuration>(), Ok(odd));
    }

    #[test]
    fn deserializes_numbers_and_strings() {
        let de = |json: &str| serde_json::from_str::<HumanDuration>(json).map(HumanDuration::get);
        assert_eq!(de("30").expect("int"), Duration::from_secs(30));
        assert_eq!(de("0.5").expect("float"), Duration::from_millis(500));
        assert_eq!(de("\"250ms\"").expect("str"), Duration::from_millis(250));
        let err = de("-1").expect_err("negative");
        assert!(err.to_string().contains(EXPECTED), "{err}");
        assert!(de("true").is_err());
    }
}
