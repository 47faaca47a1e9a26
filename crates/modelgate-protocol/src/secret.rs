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

/// Secrets shorter than this are not scrubbed: masking every `abc` in a
/// message would garble it and protect nothing.
pub const MIN_SCRUBBED_LEN: usize = 6;

/// Replaces every occurrence of the given secrets in `text` by their masked
/// form, for upstream error messages that echo a key back.
pub fn scrub(text: &str, secrets: &[ApiKey]) -> String {
    let mut out = text.to_owned();
    for key in secrets {
        if key.0.len() >= MIN_SCRUBBED_LEN && out.contains(&key.0) {
            out = out.replace(&key.0, &key.masked());
        }
    }
    out
}

/// [`scrub`] for raw bytes of a passthrough stream: `None` when no secret
/// occurs (nothing is allocated then), else the bytes with each secret
/// masked. Meant for the few chunks that carry an upstream error event,
/// not for every chunk: the search costs a pass over the chunk per secret.
///
/// A secret split across two chunks is not seen; an error event is small
/// and is written in one piece by the servers we know.
pub fn scrub_bytes(chunk: &[u8], secrets: &[ApiKey]) -> Option<bytes::Bytes> {
    let mut out: Option<Vec<u8>> = None;
    for key in secrets {
        let needle = key.0.as_bytes();
        if needle.len() < MIN_SCRUBBED_LEN {
            continue;
        }
        let haystack = out.as_deref().unwrap_or(chunk);
        if find(haystack, needle).is_none() {
            continue;
        }
        let masked = key.masked();
        let mut replaced = Vec::with_capacity(haystack.len());
        let mut rest = haystack;
        while let Some(at) = find(rest, needle) {
            replaced.extend_from_slice(&rest[..at]);
            replaced.extend_from_slice(masked.as_bytes());
            rest = &rest[at + needle.len()..];
        }
        replaced.extend_from_slice(rest);
        out = Some(replaced);
    }
    out.map(bytes::Bytes::from)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
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

    #[test]
    fn scrub_bytes_masks_every_secret_and_allocates_only_when_one_occurs() {
        let secrets = [
            ApiKey::new("sk-supersecretvalue1234"),
            ApiKey::new("X-Tenant-Token-987654"),
            ApiKey::new("abc"),
        ];
        let chunk = b"event: error\ndata: {\"error\":{\"message\":\"bad key sk-supersecretvalue1234 for X-Tenant-Token-987654 (sk-supersecretvalue1234) abc\"}}\n\n";
        let out = scrub_bytes(chunk, &secrets).unwrap();
        let text = std::str::from_utf8(&out).unwrap();
        assert!(!text.contains("supersecret"), "{text}");
        assert!(!text.contains("Token-987654"), "{text}");
        assert_eq!(text.matches("sk-…1234").count(), 2, "{text}");
        assert!(text.contains("abc"), "short secrets are left alone");
        assert!(text.ends_with("\"}}\n\n"));
        assert_eq!(scrub_bytes(b"data: {\"ok\":1}\n\n", &secrets), None);
        assert_eq!(scrub_bytes(b"", &secrets), None);
    }
}
