//! Per-key cooldowns after a 429.
//!
//! A key that was rate limited is skipped until its `Retry-After` has
//! passed, so the next request goes straight to a key that can answer.
//! Keys are told apart by a fingerprint, not by position, so rotating a key
//! does not hand the new key the old one's cooldown.

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
    until: Mutex<HashMap<u64, Instant>>,
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

    pub fn cool_down(&self, endpoint: &str, key: &ApiKey, until: Instant) {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let entry = map.entry(fingerprint(endpoint, key)).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// When the key may be used again, if it is cooling down at `now`.
    pub fn cooling_until(&self, endpoint: &str, key: &ApiKey, now: Instant) -> Option<Instant> {
        let mut map = self.until.lock().unwrap_or_else(|p| p.into_inner());
        let id = fingerprint(endpoint, key);
        match map.get(&id) {
            Some(&until) if until > now => Some(until),
            Some(_) => {
                map.remove(&id);
                None
            }
            None => None,
        }
    }

    /// Splits the keys into those usable at `now` (in configured order) and
    /// the earliest moment one of the others becomes usable.
    pub fn plan(
        &self,
        endpoint: &str,
        keys: &[ApiKey],
        now: Instant,
    ) -> (Vec<usize>, Option<Instant>) {
        let mut usable = Vec::with_capacity(keys.len());
        let mut earliest: Option<Instant> = None;
        for (i, key) in keys.iter().enumerate() {
            match self.cooling_until(endpoint, key, now) {
                None => usable.push(i),
                Some(until) => earliest = Some(earliest.map_or(until, |e| e.min(until))),
            }
        }
        (usable, earliest)
    }
}

/// How long a 429 asks us to wait: `retry-after-ms` (OpenAI), then
/// `Retry-After` in seconds or as an HTTP date; capped at [`MAX_COOLDOWN`].
pub fn retry_after(headers: &HeaderMap, now_unix: u64) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let wait = if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    } else {
        let value = text("retry-after")?;
        match value.parse::<f64>() {
            Ok(secs) if secs.is_finite() => Duration::from_secs_f64(secs.max(0.0)),
            _ => Duration::from_secs(http_date_to_unix(value)?.saturating_sub(now_unix)),
        }
    };
    Some(wait.min(MAX_COOLDOWN))
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
    fn cooling_keys_are_skipped_until_their_time() {
        let cooldowns = KeyCooldowns::new();
        let keys = [ApiKey::new("key-one-aaaa"), ApiKey::new("key-two-bbbb")];
        let t0 = Instant::now();
        cooldowns.cool_down("ep", &keys[0], t0 + Duration::from_secs(30));
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
        cooldowns.cool_down("a", &key, t0 + Duration::from_secs(60));
        cooldowns.cool_down("a", &key, t0 + Duration::from_secs(5));
        assert_eq!(
            cooldowns.cooling_until("a", &key, t0),
            Some(t0 + Duration::from_secs(60))
        );
        assert_eq!(cooldowns.cooling_until("b", &key, t0), None);
    }
}
