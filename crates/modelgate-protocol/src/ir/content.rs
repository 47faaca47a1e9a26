//! Content blocks: what messages and responses are made of.

use serde::{Deserialize, Serialize};

/// One block of content. Blocks keep what a format carries beside the
/// essentials (`cache_control`, image `detail`) so that a same-format
/// target loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    Text {
        text: String,
        /// Anthropic prompt-caching marker, kept opaque.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    Image {
        source: ImageSource,
        /// OpenAI `detail` (`auto`, `low`, `high`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A model's call of a tool. `arguments` is a JSON text (`{}` when empty).
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    /// The result of a tool call, sent back by the client.
    ToolResult {
        /// The id of the call this answers.
        id: String,
        /// Text and images.
        content: Vec<Content>,
        #[serde(default)]
        is_error: bool,
    },
    /// Visible reasoning ("thinking"). A signature is only valid for the
    /// spec family that produced it, named in `signed_by`.
    Reasoning {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
    /// Reasoning the provider returns encrypted; only its producer can read it.
    RedactedReasoning {
        data: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signed_by: Option<String>,
    },
    /// The model declined to answer (OpenAI `refusal`).
    Refusal { text: String },
}

/// The `signed_by` value of Anthropic thinking signatures.
pub const SIGNED_BY_ANTHROPIC: &str = "anthropic";

impl Content {
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Content::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// Where an image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    Url { url: String },
    Base64 { media_type: String, data: String },
}

impl ImageSource {
    /// Parses an OpenAI `image_url.url`: a `data:` URL or a plain URL.
    pub fn from_url(url: &str) -> Self {
        if let Some(rest) = url.strip_prefix("data:")
            && let Some((meta, data)) = rest.split_once(',')
            && let Some(media_type) = meta.strip_suffix(";base64")
        {
            return ImageSource::Base64 {
                media_type: media_type.to_owned(),
                data: data.to_owned(),
            };
        }
        ImageSource::Url {
            url: url.to_owned(),
        }
    }

    /// The form OpenAI takes: the URL, or a `data:` URL.
    pub fn to_url(&self) -> String {
        match self {
            ImageSource::Url { url } => url.clone(),
            ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_round_trip() {
        let src = ImageSource::from_url("data:image/png;base64,iVBOR");
        assert_eq!(
            src,
            ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBOR".into()
            }
        );
        assert_eq!(src.to_url(), "data:image/png;base64,iVBOR");
        assert_eq!(
            ImageSource::from_url("https://x/cat.jpg"),
            ImageSource::Url {
                url: "https://x/cat.jpg".into()
            }
        );
    }
}
