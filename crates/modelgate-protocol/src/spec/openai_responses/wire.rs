//! Responses wire pieces shared by the codecs.
//!
//! # Reasoning carried in `encrypted_content`
//!
//! A Responses client keeps reasoning across turns by sending back the
//! `reasoning` items it received, with their `encrypted_content`. When the
//! reasoning came from another kind of endpoint (an Anthropic thinking
//! signature, a redacted thinking blob) the gateway wraps it so that it can
//! tell, on the way back, who produced it and replay it only there:
//!
//! * `mg1:sig:{signed_by}:{signature}`: visible reasoning (the item's
//!   summary text) signed by `signed_by` (e.g. `anthropic`);
//! * `mg1:redacted:{signed_by}:{data}`: reasoning only its producer can read.
//!
//! Any other value is OpenAI's own blob, produced by an `openai-responses`
//! endpoint ([`SIGNED_BY_RESPONSES`]).

/// The id of output item `index` of response `response_id`, e.g.
/// `msg_<id>_0`: derived, so the streamed items and the final response
/// object (built separately) name each item the same.
pub fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    let id = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{id}_{index}")
}

/// The `signed_by` of reasoning produced by an `openai-responses` endpoint.
pub const SIGNED_BY_RESPONSES: &str = "openai-responses";

const PREFIX: &str = "mg1:";

/// What an `encrypted_content` value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encrypted<'a> {
    /// Visible reasoning's signature.
    Signature {
        signed_by: &'a str,
        signature: &'a str,
    },
    /// Reasoning only its producer can read.
    Redacted { signed_by: &'a str, data: &'a str },
}

/// Wraps a signature of visible reasoning for a Responses client.
pub fn wrap_signature(signed_by: &str, signature: &str) -> String {
    if signed_by == SIGNED_BY_RESPONSES {
        return signature.to_owned();
    }
    format!("{PREFIX}sig:{signed_by}:{signature}")
}

/// Wraps redacted reasoning for a Responses client.
pub fn wrap_redacted(signed_by: &str, data: &str) -> String {
    if signed_by == SIGNED_BY_RESPONSES {
        return data.to_owned();
    }
    format!("{PREFIX}redacted:{signed_by}:{data}")
}

/// Reads an `encrypted_content` a client sent back. A value without the
/// gateway's prefix (or with a malformed one) is OpenAI's own: it is only
/// ever replayed to an `openai-responses` endpoint.
pub fn unwrap_encrypted(value: &str) -> Encrypted<'_> {
    let native = Encrypted::Redacted {
        signed_by: SIGNED_BY_RESPONSES,
        data: value,
    };
    let Some(rest) = value.strip_prefix(PREFIX) else {
        return native;
    };
    let Some((kind, rest)) = rest.split_once(':') else {
        return native;
    };
    let Some((signed_by, payload)) = rest.split_once(':') else {
        return native;
    };
    if signed_by.is_empty() {
        return native;
    }
    match kind {
        "sig" => Encrypted::Signature {
            signed_by,
            signature: payload,
        },
        "redacted" => Encrypted::Redacted {
            signed_by,
            data: payload,
        },
        _ => native,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_reasoning_round_trips_and_native_blobs_stay_native() {
        let sig = wrap_signature("anthropic", "EqQBCkYIBx");
        assert_eq!(
            unwrap_encrypted(&sig),
            Encrypted::Signature {
                signed_by: "anthropic",
                signature: "EqQBCkYIBx"
            }
        );
        let red = wrap_redacted("anthropic", "abc:def");
        assert_eq!(
            unwrap_encrypted(&red),
            Encrypted::Redacted {
                signed_by: "anthropic",
                data: "abc:def"
            }
        );
        assert_eq!(wrap_signature(SIGNED_BY_RESPONSES, "gAAAA"), "gAAAA");
        for native in [
            "gAAAAABo",
            "mg1:",
            "mg1:sig:",
            "mg1:sig::x",
            "mg1:other:a:b",
        ] {
            assert_eq!(
                unwrap_encrypted(native),
                Encrypted::Redacted {
                    signed_by: SIGNED_BY_RESPONSES,
                    data: native
                },
                "{native}"
            );
        }
    }
}
