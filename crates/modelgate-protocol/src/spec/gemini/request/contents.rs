//! `contents` and `systemInstruction` → canonical messages (rules in the
//! parent module's doc).

use serde_json::{Map, Value};

use super::{Result, array, at, bad, get, object, required_str, string};
use crate::ir::sealed::{self, Sealed};
use crate::ir::{ChatRequest, Content, ImageSource, Message, Role};
use crate::spec::gemini::SIGNED_BY_GOOGLE;
use crate::spec::gemini::request_encode::SKIP_SIGNATURE;

/// Part fields that describe a part rather than hold its data.
const METADATA: &[&str] = &[
    "thought",
    "thoughtSignature",
    "thought_signature",
    "videoMetadata",
    "video_metadata",
    "mediaResolution",
    "media_resolution",
    "partMetadata",
    "part_metadata",
];

/// The image types a URL's extension names.
const IMAGE_EXTENSIONS: &[(&str, &str)] = &[
    (".png", "image/png"),
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".gif", "image/gif"),
    (".webp", "image/webp"),
    (".heic", "image/heic"),
    (".heif", "image/heif"),
];

/// The image MIME type a URL's extension names, if any.
pub(in crate::spec::gemini) fn image_type_of_url(url: &str) -> Option<&'static str> {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    IMAGE_EXTENSIONS
        .iter()
        .find(|(ext, _)| path.ends_with(ext))
        .map(|(_, mime)| *mime)
}

/// `systemInstruction`: a `Content` whose parts are texts.
pub(super) fn system_instruction(value: &Value) -> Result<Vec<Content>> {
    let p = "systemInstruction";
    if let Value::String(text) = value {
        return Ok(texts(text));
    }
    let content = object(value, p)?;
    let Some(parts) = get(content, "parts") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (j, part) in array(parts, &at(p, "parts"))?.iter().enumerate() {
        let path = format!("{p}.parts[{j}]");
        let part = object(part, &path)?;
        match string(get(part, "text"), &at(&path, "text"))? {
            Some(text) => out.extend(texts(text)),
            None => {
                return Err(bad(
                    &path,
                    format!("{path}: system instruction parts must be text."),
                ));
            }
        }
    }
    Ok(out)
}

fn texts(text: &str) -> Vec<Content> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(text)]
    }
}

/// Calls seen so far, to give calls without an id one and to match
/// responses without an id to their call.
#[derive(Default)]
struct Calls {
    count: usize,
    /// (name, id, whether the id was given) of calls not answered yet, in order.
    open: Vec<(String, String, bool)>,
}

pub(super) fn decode_contents(value: &Value, req: &mut ChatRequest) -> Result<()> {
    let mut calls = Calls::default();
    for (i, content) in array(value, "contents")?.iter().enumerate() {
        let path = format!("contents[{i}]");
        let content = object(content, &path)?;
        let model = match string(get(content, "role"), &at(&path, "role"))? {
            None | Some("" | "user" | "tool" | "function") => false,
            Some("model") => true,
            Some(other) => {
                let param = at(&path, "role");
                return Err(bad(
                    &param,
                    format!("{param}: unknown role `{other}`; expected `user` or `model`."),
                ));
            }
        };
        let parts_path = at(&path, "parts");
        let parts = match get(content, "parts") {
            Some(parts) => array(parts, &parts_path)?.as_slice(),
            None => &[],
        };
        let mut results = Vec::new();
        let mut others = Vec::new();
        for (j, part) in parts.iter().enumerate() {
            let path = format!("{parts_path}[{j}]");
            let part = object(part, &path)?;
            if model {
                model_part(part, &path, &mut calls, &mut others)?;
            } else {
                user_part(part, &path, &mut calls, &mut results, &mut others)?;
            }
        }
        if model {
            push_message(&mut req.messages, Role::Assistant, others);
        } else {
            push_message(&mut req.messages, Role::Tool, results);
            push_message(&mut req.messages, Role::User, others);
        }
    }
    Ok(())
}

/// Appends a message, merging it into the previous one of the same role.
fn push_message(messages: &mut Vec<Message>, role: Role, content: Vec<Content>) {
    if content.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(content),
        _ => messages.push(Message { role, content }),
    }
}

/// The key holding a part's data (`text`, `functionCall`, …), if any.
fn data_key(part: &Map<String, Value>) -> Option<&str> {
    part.iter()
        .find(|(k, v)| !v.is_null() && !METADATA.contains(&k.as_str()))
        .map(|(k, _)| k.as_str())
}

fn model_part(
    part: &Map<String, Value>,
    path: &str,
    calls: &mut Calls,
    out: &mut Vec<Content>,
) -> Result<()> {
    let thought = get(part, "thought") == Some(&Value::Bool(true));
    let signature = string(get(part, "thoughtSignature"), &at(path, "thoughtSignature"))?
        // Google's placeholder for "no signature" is none.
        .filter(|s| !s.is_empty() && *s != SKIP_SIGNATURE);
    if thought {
        let text = string(get(part, "text"), &at(path, "text"))?.unwrap_or_default();
        match signature {
            Some(sig) => out.push(signed(text, sig)),
            None if !text.is_empty() => out.push(Content::Reasoning {
                text: text.to_owned(),
                signature: None,
                signed_by: None,
            }),
            None => {}
        }
        return Ok(());
    }
    if let Some(sig) = signature {
        out.push(signed("", sig));
    }
    match data_key(part).map(super::camel).as_deref() {
        None => {}
        Some("text") => {
            let text = string(get(part, "text"), &at(path, "text"))?.unwrap_or_default();
            out.extend(texts(text));
        }
        Some("functionCall") => {
            let p = at(path, "functionCall");
            let call = object(get(part, "functionCall").unwrap_or(&Value::Null), &p)?;
            let name = required_str(call, &p, "name")?;
            let given = string(get(call, "id"), &at(&p, "id"))?.filter(|id| !id.is_empty());
            let id = match given {
                Some(id) => id.to_owned(),
                None => format!("call_{name}_{}", calls.count),
            };
            calls.count += 1;
            calls
                .open
                .push((name.to_owned(), id.clone(), given.is_some()));
            let arguments = match get(call, "args") {
                None => "{}".to_owned(),
                Some(args @ Value::Object(_)) => args.to_string(),
                Some(_) => {
                    let param = at(&p, "args");
                    return Err(bad(&param, format!("{param} must be an object.")));
                }
            };
            out.push(Content::ToolCall {
                id,
                name: name.to_owned(),
                arguments,
            });
        }
        Some("inlineData" | "fileData") => out.push(media(part, path)?),
        Some("functionResponse") => {
            return Err(bad(
                path,
                format!("{path}: functionResponse parts belong in `user` contents."),
            ));
        }
        Some(other) => return Err(untranslatable(path, other)),
    }
    Ok(())
}

fn user_part(
    part: &Map<String, Value>,
    path: &str,
    calls: &mut Calls,
    results: &mut Vec<Content>,
    others: &mut Vec<Content>,
) -> Result<()> {
    // Thoughts and signatures only mean something on the model's parts.
    if get(part, "thought") == Some(&Value::Bool(true)) {
        return Ok(());
    }
    match data_key(part).map(super::camel).as_deref() {
        None => {}
        Some("text") => {
            let text = string(get(part, "text"), &at(path, "text"))?.unwrap_or_default();
            others.extend(texts(text));
        }
        Some("inlineData" | "fileData") => others.push(media(part, path)?),
        Some("functionResponse") => {
            let p = at(path, "functionResponse");
            let response = object(get(part, "functionResponse").unwrap_or(&Value::Null), &p)?;
            let name = required_str(response, &p, "name")?;
            let given = string(get(response, "id"), &at(&p, "id"))?.filter(|id| !id.is_empty());
            let id = match given {
                Some(id) => {
                    calls.open.retain(|(_, open, _)| open != id);
                    id.to_owned()
                }
                None => {
                    // A call that came with an id is answered by that id,
                    // so an id-less response goes first to a call without.
                    let of_name = |given: bool| {
                        calls
                            .open
                            .iter()
                            .position(|(n, _, g)| n == name && (given || !*g))
                    };
                    let k = of_name(false).or_else(|| of_name(true)).ok_or_else(|| {
                        bad(
                            &p,
                            format!(
                                "{p}: this response to `{name}` answers no earlier functionCall \
                                 of that name; each functionResponse must follow the call it \
                                 answers."
                            ),
                        )
                    })?;
                    calls.open.remove(k).1
                }
            };
            let text = get(response, "response").map_or_else(|| "{}".to_owned(), Value::to_string);
            let mut content = vec![Content::text(text)];
            // Gemini 3's multimodal function responses: images the function
            // returned, beside its JSON.
            if let Some(parts) = get(response, "parts") {
                let p = at(&p, "parts");
                for (k, part) in array(parts, &p)?.iter().enumerate() {
                    let path = format!("{p}[{k}]");
                    content.push(media(object(part, &path)?, &path)?);
                }
            }
            results.push(Content::ToolResult {
                id,
                content,
                is_error: false,
            });
        }
        Some("functionCall") => {
            return Err(bad(
                path,
                format!("{path}: functionCall parts belong in `model` contents."),
            ));
        }
        Some(other) => return Err(untranslatable(path, other)),
    }
    Ok(())
}

/// Reasoning carrying a part's `thoughtSignature`.
fn signed(text: &str, signature: &str) -> Content {
    match sealed::unwrap(signature) {
        Some(Sealed::Signature {
            signed_by,
            signature,
        }) => Content::Reasoning {
            text: text.to_owned(),
            signature: Some(signature.to_owned()),
            signed_by: Some(signed_by.to_owned()),
        },
        Some(Sealed::Redacted { signed_by, data }) => Content::RedactedReasoning {
            data: data.to_owned(),
            signed_by: Some(signed_by.to_owned()),
        },
        None => Content::Reasoning {
            text: text.to_owned(),
            signature: Some(signature.to_owned()),
            signed_by: Some(SIGNED_BY_GOOGLE.to_owned()),
        },
    }
}

/// An `inlineData` or `fileData` part: images only.
fn media(part: &Map<String, Value>, path: &str) -> Result<Content> {
    if let Some(data) = get(part, "inlineData") {
        let p = at(path, "inlineData");
        let blob = object(data, &p)?;
        let mime = required_str(blob, &p, "mimeType")?;
        if !mime.to_ascii_lowercase().starts_with("image/") {
            return Err(not_an_image(&p, mime));
        }
        let data = required_str(blob, &p, "data")?;
        return Ok(Content::Image {
            source: ImageSource::Base64 {
                media_type: mime.to_owned(),
                data: data.to_owned(),
            },
            detail: None,
        });
    }
    let p = at(path, "fileData");
    let file = object(get(part, "fileData").unwrap_or(&Value::Null), &p)?;
    let uri = required_str(file, &p, "fileUri")?;
    let mime = string(get(file, "mimeType"), &at(&p, "mimeType"))?.filter(|m| !m.is_empty());
    let image = match mime {
        Some(m) => m.to_ascii_lowercase().starts_with("image/"),
        None => image_type_of_url(uri).is_some(),
    };
    if !image {
        return Err(not_an_image(&p, mime.unwrap_or("unknown")));
    }
    Ok(Content::Image {
        source: ImageSource::Url {
            url: uri.to_owned(),
        },
        detail: None,
    })
}

fn not_an_image(param: &str, mime: &str) -> crate::ir::GatewayError {
    bad(
        param,
        format!(
            "{param}: `{mime}` data cannot be translated for this model's endpoint (it does not \
             speak the Gemini API); only images can. Send the content as text, or route this \
             model to a Gemini endpoint."
        ),
    )
}

fn untranslatable(path: &str, kind: &str) -> crate::ir::GatewayError {
    bad(
        path,
        format!(
            "{path}: `{kind}` parts cannot be translated for this model's endpoint (it does not \
             speak the Gemini API); send text, images and function calls only, or route this \
             model to a Gemini endpoint."
        ),
    )
}
