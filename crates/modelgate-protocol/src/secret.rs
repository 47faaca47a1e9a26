//! Keeping credentials out of logs, errors and API responses.

use std::fmt;

/// An upstream credential. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The credential itself, for the one place that sends it upstream.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A form safe to show a person, e.g. `sk-…wxyz`.
    pub fn masked(&self) -> String {
        mask_secret(&self.0)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({})", self.masked())
    }
}

/// Masks a secret so that a person can still tell two keys apart:
/// a short known prefix (`sk-`), an ellipsis and the last four characters.
/// Short secrets show less, very short ones nothing.
pub fn mask_secret(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    if n < 6 {
        return "****".to_owned();
    }
    let tail = |k: usize| chars[n - k..].iter().collect::<String>();
    if n < 12 {
        return format!("…{}", tail(2));
    }
    let prefix: String = match chars.iter().position(|&c| c == '-') {
        Some(i) if i < 4 => chars[..=i].iter().collect(),
        _ => chars[..3].iter().collect(),
    };
    format!("{prefix}…{}", tail(4))
}

/// Replaces every occurrence of the given secrets in `text` by their masked
/// form, for upstream error messages that echo a key back.
pub fn scrub(text: &str, secrets: &[ApiKey]) -> String {
    let mut out = text.to_owned();
    for key in secrets {
        if key.0.len() >= 6 && out.contains(&key.0) {
            out = out.replace(&key.0, &key.masked());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_prefix_and_tail() {
        assert_eq!(mask_secret("sk-abcdefghijklmnopwxyz"), "sk-…wxyz");
        assert_eq!(mask_secret("sk-proj-abcdefghwxyz"), "sk-…wxyz");
        assert_eq!(mask_secret("mga-abcdefghwxyz"), "mga-…wxyz");
        assert_eq!(mask_secret("abcdefghijkl"), "abc…ijkl");
        assert_eq!(mask_secret("AIzaSyD-abcdefghijklmnop"), "AIz…mnop");
        assert_eq!(mask_secret("short-key"), "…ey");
        assert_eq!(mask_secret("abc"), "****");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let key = ApiKey::new("sk-supersecretvalue1234");
        assert!(!format!("{key:?}").contains("supersecret"));
    }

    #[test]
    fn scrub_masks_echoed_keys() {
        let key = ApiKey::new("sk-supersecretvalue1234");
        let msg = scrub(
            "Incorrect API key provided: sk-supersecretvalue1234.",
            &[key],
        );
        assert_eq!(msg, "Incorrect API key provided: sk-…1234.");
    }
}
