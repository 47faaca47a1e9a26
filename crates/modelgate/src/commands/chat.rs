//! `modelgate chat`: one message, the answer streamed as it is generated.

use std::io::{Read, Write};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use http::Method;
use modelgate_protocol::framing::sse::SseDecoder;
use serde_json::{Value, json};

use crate::cli::{ChatArgs, Global};
use crate::conn::{Auth, Conn, error_message};

pub async fn run(global: &Global, args: &ChatArgs) -> Result<()> {
    let message = match &args.message {
        Some(m) => m.clone(),
        None => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("cannot read the message from standard input")?;
            input
        }
    };
    if message.trim().is_empty() {
        bail!("no message: give one as an argument or on standard input");
    }
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": message}));
    let mut body = json!({"model": args.model, "messages": messages, "stream": true});
    if let Some(n) = args.max_tokens {
        body["max_tokens"] = json!(n);
    }
    if let Some(t) = args.temperature {
        body["temperature"] = json!(t);
    }

    let conn = Conn::open(global).await?;
    let reply = conn
        .send(
            Auth::Gateway,
            Method::POST,
            "/v1/chat/completions",
            Some(&body),
        )
        .await?;
    if !(200..300).contains(&reply.status) {
        let status = reply.status;
        let (_, value) = reply.json().await?;
        bail!(
            "{}",
            error_message(&value).unwrap_or_else(|| format!("HTTP {status}"))
        );
    }
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut body = reply.body;
    let mut wrote_anything = false;
    while let Some(chunk) = body.next().await {
        decoder.push(&chunk?, &mut events);
        for event in events.drain(..) {
            if event.data.trim() == "[DONE]" {
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if let Some(message) = error_message(&chunk) {
                writeln!(out)?;
                bail!("{message}");
            }
            for choice in chunk["choices"].as_array().into_iter().flatten() {
                for field in ["reasoning_content", "content"] {
                    if let Some(text) = choice["delta"][field].as_str() {
                        out.write_all(text.as_bytes())?;
                        wrote_anything |= !text.is_empty();
                    }
                }
            }
            out.flush()?;
        }
    }
    if wrote_anything {
        writeln!(out)?;
    }
    Ok(())
}
