//! Reasoning that only its producer can read (signatures, encrypted
//! blobs), carried through clients of other formats.
//!
//! A signature is valid only for the spec family that made it
//! (`Content::Reasoning::signed_by`). A client keeps it and sends it back
//! in its own format's field: an Anthropic client in `thinking.signature`,
//! a Responses client in `reasoning.encrypted_content`. Those fields have
//! no room to say who signed, so when the producer is not the format's own
//! family the value is wrapped, and read back on the next turn:
//!
//! * `mg1:sig:{signed_by}:{signature}`: visible reasoning's signature;
//! * `mg1:redacted:{signed_by}:{data}`: reasoning only its producer reads.
//!
//! A value without the prefix (or with a malformed one) is the format's
//! own family's. So each target is sent only the blobs it produced: an
//! Anthropic endpoint never receives an OpenAI blob disguised as a
//! thinking signature, whatever client the conversation went through.

const PREFIX: &str = "mg1:";

/// What a sealed value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed<'a> {
    /// The signature of visible reasoning.
    Signature {
        signed_by: &'a str,
        signature: &'a str,
    },
    /// Reasoning only its producer can read.
    Redacted { signed_by: &'a str, data: &'a str },
}

/// A signature as a client of the family `native` carries it.
pub fn wrap_signature(native: &str, signed_by: Option<&str>, signature: &str) -> String {
    match signed_by {
        Some(by) if by != native && !by.is_empty() => format!("{PREFIX}sig:{by}:{signature}"),
        _ => signature.to_owned(),
    }
}

/// Redacted reasoning as a client of the family `native` carries it.
pub fn wrap_redacted(native: &str, signed_by: Option<&str>, data: &str) -> String {
    match signed_by {
        Some(by) if by != native && !by.is_empty() => format!("{PREFIX}redacted:{by}:{data}"),
        _ => data.to_owned(),
    }
}

/// A value a client sent back, if the gateway wrapped it; `None` means it
/// is the client format's own family's, as it is.
pub fn unwrap(value: &str) -> Option<Sealed<'_>> {
    let rest = value.strip_prefix(PREFIX)?;
    let (kind, rest) = rest.split_once(':')?;
    let (signed_by, payload) = rest.split_once(':')?;
    if signed_by.is_empty() {
        return None;
    }
    match kind {
        "sig" => Some(Sealed::Signature {
            signed_by,
            signature: payload,
        }),
        "redacted" => Some(Sealed::Redacted {
            signed_by,
            data: payload,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_values_are_wrapped_and_read_back_native_ones_stay_as_they_are() {
        let sig = wrap_signature("anthropic", Some("openai-responses"), "gAAAA");
        assert_eq!(sig, "mg1:sig:openai-responses:gAAAA");
        assert_eq!(
            unwrap(&sig),
            Some(Sealed::Signature {
                signed_by: "openai-responses",
                signature: "gAAAA"
            })
        );
        let red = wrap_redacted("openai-responses", Some("anthropic"), "a:b");
        assert_eq!(
            unwrap(&red),
            Some(Sealed::Redacted {
                signed_by: "anthropic",
                data: "a:b"
            })
        );
        assert_eq!(
            wrap_signature("anthropic", Some("anthropic"), "EqQB"),
            "EqQB"
        );
        assert_eq!(wrap_signature("anthropic", None, "EqQB"), "EqQB");
        for native in [
            "EqQBCkYIBx",
            "mg1:",
            "mg1:sig:",
            "mg1:sig::x",
            "mg1:other:a:b",
        ] {
            assert_eq!(unwrap(native), None, "{native}");
        }
    }
}
