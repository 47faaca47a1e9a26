//! Per-key cooldowns after a 429.
//!
//! A key that was rate limited is skipped until its `Retry-After` has
//! passed, so the next request goes straight to a key that can answer.
//! Keys are told apart by a fingerprint, not by position, so rotating a key
//! does not hand the new key the old one's cooldown.
//!
//! A cooldown the upstream asked for (`Retry-After`) is honoured. One that
//! is only our guess ([`DEFAULT_COOLDOWN`], after a 429 that said nothing)
//! never makes the gateway refuse locally: when no key is free, the key
//! whose guessed cooldown ends first is tried anyway. Otherwise an endpoint
//! with a single key would refuse every request for a second after one
//! bare 429.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::HeaderMap;
use modelgate_protocol::secret::ApiKey;

/// Cooldown when a 429 says nothing about when to retry.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(1);
/// Longest cooldown honoured, whatever the upstream asks.
pub const MAX_COOLDOWN: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
pub struct KeyCooldowns {
    until: Mutex<HashMap<u64, Cooling>>,
}

/// One key's cooldown.
#[derive(Debug, Clone, Copy)]
struct Cooling {
    until: Instant,
    /// The upstream asked for it (`Retry-After`), rather than our default.
    asked: bool,
}

fn fingerprint(endpoint: &str, key: &ApiKey) -> u64 {
    let mut h = DefaultHasher::new();
    endpoint.hash(&mut h);
    key.expose().hash(&mut h);
    h.finish()
}

impl KeyCooldowns {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts `key` in cooldown until `until` (never shortening one it is
    /// in); `asked`: the upstream asked for it with `Retry-After`.
    pub fn cool_down(&self, endpoint: &str, key: &ApiKey, until: Instant, asked: bool) {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let new = Cooling { until, asked };
        let entry = map.entry(fingerprint(endpoint, key)).or_insert(new);
        if until > entry.until {
            *entry = new;
        } else if until == entry.until {
            entry.asked |= asked;
        }
    }

    /// When the key may be used again, if it is cooling down at `now`.
    pub fn cooling_until(&self, endpoint: &str, key: &ApiKey, now: Instant) -> Option<Instant> {
        self.cooling(endpoint, key, now).map(|c| c.until)
    }

    fn cooling(&self, endpoint: &str, key: &ApiKey, now: Instant) -> Option<Cooling> {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let id = fingerprint(endpoint, key);
        match map.get(&id) {
            Some(&cooling) if cooling.until > now => Some(cooling),
            Some(_) => {
                map.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Splits the keys into those to try at `now` (in configured order) and
    /// the earliest moment one of the others becomes usable. When no key is
    /// free, the one whose default (not asked-for) cooldown ends first is
    /// tried; only when every key cools down because the upstream said so
    /// is the list empty.
    pub fn plan(
        &self,
        endpoint: &str,
        keys: &[ApiKey],
        now: Instant,
    ) -> (Vec<usize>, Option<Instant>) {
        let mut usable = Vec::with_capacity(keys.len());
        let mut earliest: Option<Instant> = None;
        let mut soonest_guess: Option<(Instant, usize)> = None;
        for (i, key) in keys.iter().enumerate() {
            match self.cooling(endpoint, key, now) {
                None => usable.push(i),
                Some(cooling) => {
                    earliest = Some(earliest.map_or(cooling.until, |e| e.min(cooling.until)));
                    if !cooling.asked && soonest_guess.is_none_or(|(t, _)| cooling.until < t) {
                        soonest_guess = Some((cooling.until, i));
                    }
                }
            }
        }
        if usable.is_empty()
            && let Some((_, i)) = soonest_guess
        {
            usable.push(i);
        }
        (usable, earliest)
    }
}

/// How long a 429 asks us to wait: `retry-after-ms` (OpenAI), then
/// `Retry-After` in seconds or as an HTTP date; capped at [`MAX_COOLDOWN`].
///
/// These headers come from the network, so nothing in them may panic:
/// `inf` or `1e300` (a server saying "not any time soon") waits the
/// longest we honour, [`MAX_COOLDOWN`]; `NaN`, a negative number or text
/// that is neither a number nor a date says nothing, and the next header
/// (or the caller's default) decides.
pub fn retry_after(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let millis = text("retry-after-ms")
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|ms| seconds_to_cooldown(ms / 1000.0));
    if millis.is_some() {
        return millis;
    }
    let value = text("retry-after")?;
    match value.parse::<f64>() {
        Ok(secs) => seconds_to_cooldown(secs),
        Err(_) => {
            let wait = http_date_to_unix(value)?.saturating_sub(now_unix);
            Some(Duration::from_secs(wait).min(MAX_COOLDOWN))
        }
    }
}

/// [`retry_after`] against the system clock (an HTTP date needs "now").
pub fn retry_after_now(headers: &HeaderMap) -> Option<Duration> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    retry_after(headers, now)
}

/// A number of seconds from an upstream as a cooldown, clamped to
/// [`MAX_COOLDOWN`] (infinity included); `None` for NaN and negatives.
fn seconds_to_cooldown(secs: f64) -> Option<Duration> {
    if secs.is_nan() || secs < 0.0 {
        return None;
    }
    if secs >= MAX_COOLDOWN.as_secs_f64() {
        return Some(MAX_COOLDOWN);
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) to unix seconds.
fn http_date_to_unix(s: &str) -> Option<u64> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as i64 + 1;
    let day: i64 = day.parse().ok()?;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<i64> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [h, m, sec] = hms.as_slice() else {
        return None;
    };
    // Out-of-range fields are not a date; checking them first also keeps
    // the arithmetic below far from overflow (a year of 10^18 would not).
    let in_range = (1..=31).contains(&day)
        && (1970..=9999).contains(&year)
        && (0..24).contains(h)
        && (0..60).contains(m)
        && (0..=60).contains(sec);
    if !in_range {
        return None;
    }
    // Days from civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + sec).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")]), 0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "1500"), ("retry-after", "9")]),
                0
            ),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]),
                784_111_770
            ),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "99999")]), 0),
            Some(MAX_COOLDOWN)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), 0), None);
        assert_eq!(retry_after(&headers(&[]), 0), None);
    }

    #[test]
    fn retry_after_from_a_hostile_server_never_panics() {
        let cases: &[(&'static str, &str, Option<Duration>)] = &[
            ("retry-after-ms", "inf", Some(MAX_COOLDOWN)),
            ("retry-after-ms", "infinity", Some(MAX_COOLDOWN)),
            ("retry-after-ms", "1e300", Some(MAX_COOLDOWN)),
            ("retry-after-ms", "NaN", None),
            ("retry-after-ms", "-inf", None),
            ("retry-after-ms", "-5", None),
            ("retry-after-ms", "-0", Some(Duration::ZERO)),
            ("retry-after", "inf", Some(MAX_COOLDOWN)),
            ("retry-after", "1e300", Some(MAX_COOLDOWN)),
            ("retry-after", "1.7976931348623157e308", Some(MAX_COOLDOWN)),
            ("retry-after", "NaN", None),
            ("retry-after", "-1", None),
            ("retry-after", "0.25", Some(Duration::from_millis(250))),
            ("retry-after", "18446744073709551616", Some(MAX_COOLDOWN)),
            (
                "retry-after",
                "Sun, 06 Nov 9223372036854775807 08:49:37 GMT",
                None,
            ),
            (
                "retry-after",
                "Sun, 99999999999 Nov 1994 99999999999:49:37 GMT",
                None,
            ),
            ("retry-after", "Sun, 06 Nov 1994 08:49:-37 GMT", None),
            (
                "retry-after",
                "Sun, 06 Nov 2994 08:49:37 GMT",
                Some(MAX_COOLDOWN),
            ),
        ];
        for (name, value, want) in cases {
            assert_eq!(
                retry_after(&headers(&[(name, value)]), 784_111_770),
                *want,
                "{name}: {value}"
            );
        }
        // A nonsensical retry-after-ms gives way to Retry-After.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after-ms", "NaN"), ("retry-after", "3")]),
                0
            ),
            Some(Duration::from_secs(3))
        );
        assert!(
            retry_after_now(&headers(&[(
                "retry-after",
                "Sun, 06 Nov 1994 08:49:37 GMT"
            )])) == Some(Duration::ZERO)
        );
    }

    #[test]
    fn cooling_keys_are_skipped_until_their_time() {
        let cooldowns = KeyCooldowns::new();
        let keys = [ApiKey::new("key-one-aaaa"), ApiKey::new("key-two-bbbb")];
        let t0 = Instant::now();
        cooldowns.cool_down("ep", &keys[0], t0 + Duration::from_secs(30), true);
        let (usable, earliest) = cooldowns.plan("ep", &keys, t0);
        assert_eq!(usable, vec![1]);
        assert_eq!(earliest, Some(t0 + Duration::from_secs(30)));
        let (usable, earliest) = cooldowns.plan("ep", &keys, t0 + Duration::from_secs(31));
        assert_eq!(usable, vec![0, 1]);
        assert_eq!(earliest, None);
    }

    #[test]
    fn cooldowns_are_per_endpoint_and_never_shortened() {
        let cooldowns = KeyCooldowns::new();
        let key = ApiKey::new("shared-key-1234");
        let t0 = Instant::now();
        cooldowns.cool_down("a", &key, t0 + Duration::from_secs(60), true);
        cooldowns.cool_down("a", &key, t0 + Duration::from_secs(5), true);
        assert_eq!(
            cooldowns.cooling_until("a", &key, t0),
            Some(t0 + Duration::from_secs(60))
        );
        assert_eq!(cooldowns.cooling_until("b", &key, t0), None);
    }

    #[test]
    fn a_guessed_cooldown_never_refuses_locally_an_asked_one_does() {
        let cooldowns = KeyCooldowns::new();
        let keys = [ApiKey::new("key-one-aaaa"), ApiKey::new("key-two-bbbb")];
        let t0 = Instant::now();
        // Both keys cooling on our default guess: the one ending first is tried.
        cooldowns.cool_down("ep", &keys[0], t0 + Duration::from_secs(3), false);
        cooldowns.cool_down("ep", &keys[1], t0 + Duration::from_secs(2), false);
        assert_eq!(cooldowns.plan("ep", &keys, t0).0, vec![1]);
        // The upstream asked key two to wait: key one's guess is tried.
        cooldowns.cool_down("ep", &keys[1], t0 + Duration::from_secs(30), true);
        assert_eq!(cooldowns.plan("ep", &keys, t0).0, vec![0]);
        // Both asked: nothing is tried before its time.
        cooldowns.cool_down("ep", &keys[0], t0 + Duration::from_secs(30), true);
        let (usable, earliest) = cooldowns.plan("ep", &keys, t0);
        assert!(usable.is_empty());
        assert_eq!(earliest, Some(t0 + Duration::from_secs(30)));
    }
}
