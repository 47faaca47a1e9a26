//! The seven endpoint specs modelgate can send requests to, and one folder
//! per wire format.
//!
//! Every format folder has the same parts, so whoever knows one knows them
//! all (a part that grows becomes a subfolder of the same name, as
//! `openai_chat/request/`):
//!
//! | part | role |
//! |---|---|
//! | `wire.rs` | the serde types of the format's JSON that the codecs share |
//! | `request.rs` | a client's request body → the canonical `ChatRequest` (`decode_request`), re-exporting `encode_request` |
//! | `request_encode.rs` | a canonical request → a body for an endpoint of this format |
//! | `response.rs` | an endpoint's answer → canonical (`decode_response`) and back for a client (`encode_response`) |
//! | `stream_decode.rs` | an endpoint's SSE events → canonical stream events (`StreamDecoder`) |
//! | `stream_encode.rs` | canonical stream events → a client's SSE bytes (`StreamEncoder`) |
//! | `tap.rs` | usage, stop and errors read from a passthrough stream or body without decoding it |
//! | `error.rs` | the format's error envelope, both ways |
//!
//! A new format is a new folder with these parts plus one line in each
//! `match` of [`crate::codec`].

pub mod anthropic;
pub mod gemini;
pub mod openai_chat;
pub mod openai_responses;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A wire field that may be absent or `null` (as some compatible servers
/// send them): either way its default. For `#[serde(default,
/// deserialize_with = "null_as_default")]`.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// An endpoint's API spec: which wire format and transport it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Spec {
    OpenAiChatCompletions,
    OpenAiResponses,
    Anthropic,
    Google,
    Azure,
    AmazonBedrock,
    GoogleVertex,
}

impl Spec {
    /// Every spec, in the order the docs list them.
    pub const ALL: [Spec; 7] = [
        Spec::OpenAiChatCompletions,
        Spec::OpenAiResponses,
        Spec::Anthropic,
        Spec::Google,
        Spec::Azure,
        Spec::AmazonBedrock,
        Spec::GoogleVertex,
    ];

    /// The id used in config files, the CLI and the admin API.
    pub const fn id(self) -> &'static str {
        match self {
            Spec::OpenAiChatCompletions => "openai-chat-completions",
            Spec::OpenAiResponses => "openai-responses",
            Spec::Anthropic => "anthropic",
            Spec::Google => "google",
            Spec::Azure => "azure",
            Spec::AmazonBedrock => "amazon-bedrock",
            Spec::GoogleVertex => "google-vertex",
        }
    }

    /// Whether this build can send requests to endpoints of this spec.
    /// The others are accepted in configuration and answer a clear
    /// "not yet supported" error when used.
    pub const fn is_supported(self) -> bool {
        matches!(
            self,
            Spec::OpenAiChatCompletions
                | Spec::OpenAiResponses
                | Spec::Anthropic
                | Spec::Azure
                | Spec::Google
                | Spec::GoogleVertex
        )
    }

    /// Names an endpoint may not take because they would read as a built-in
    /// provider: the spec ids and their common short forms.
    pub fn is_reserved_name(name: &str) -> bool {
        const ALIASES: [&str; 3] = ["openai", "bedrock", "vertex"];
        Spec::ALL.iter().any(|s| s.id().eq_ignore_ascii_case(name))
            || ALIASES.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown spec id; its message lists the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown spec `{given}`; expected one of: {}", Spec::ALL.map(Spec::id).join(", "))]
pub struct UnknownSpec {
    pub given: String,
}

impl FromStr for Spec {
    type Err = UnknownSpec;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Spec::ALL
            .into_iter()
            .find(|spec| spec.id() == s)
            .ok_or_else(|| UnknownSpec {
                given: s.to_owned(),
            })
    }
}

impl Serialize for Spec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

impl<'de> Deserialize<'de> for Spec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for spec in Spec::ALL {
            assert_eq!(spec.id().parse::<Spec>(), Ok(spec));
        }
    }

    #[test]
    fn unknown_spec_lists_known_ones() {
        let err = "openai".parse::<Spec>().unwrap_err();
        assert!(err.to_string().contains("openai-chat-completions"));
    }

    #[test]
    fn azure_and_google_are_supported_vertex_and_bedrock_not_yet() {
        assert!(Spec::Azure.is_supported());
        assert!(Spec::Google.is_supported());
        assert!(Spec::GoogleVertex.is_supported());
        assert!(!Spec::AmazonBedrock.is_supported());
    }

    #[test]
    fn reserved_names() {
        assert!(Spec::is_reserved_name("anthropic"));
        assert!(Spec::is_reserved_name("OpenAI"));
        assert!(!Spec::is_reserved_name("local"));
    }
}
