//! `modelgate chat`: one message, the answer streamed as it is generated.
//!
//! Text mode prints the answer (reasoning, then content) as it comes.
//! `--json` prints each event of the stream as one JSON object per line:
//! the gateway's `chat.completion.chunk` objects, unchanged (`[DONE]` is
//! not printed); an error is the last line, `{"error": {...}}`.
//!
//! The answer is complete once the stream says so (`[DONE]`, or a
//! `finish_reason`). A stream that ends before that, with an error event
//! (the gateway reports a cut upstream as `stream_truncated`) or without
//! one (the connection to the server broke), fails the command.

use std::io::{Read, Write};

use anyhow::{Context, Result, bail};
use futures_util::StreamExt;
use http::Method;
use modelgate_protocol::framing::sse::SseDecoder;
use serde_json::{Value, json};

use crate::cli::{ChatArgs, Global};
use crate::conn::{Auth, Conn};
use crate::error::CliError;

pub async fn run(global: &Global, args: &ChatArgs) -> Result<()> {
    let json = args.client.output.json;
    let body = request_body(args)?;
    let conn = Conn::open(global, &args.client).await?;
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
        return Err(conn.failure(Auth::Gateway, status, &value).into());
    }
    let mut decoder = SseDecoder::new();
    let mut events = Vec::new();
    let mut out = std::io::stdout().lock();
    let mut body = reply.body;
    let mut printer = Printer::default();
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                printer.end_line(&mut out, json)?;
                return Err(truncated(&format!(
                    "the connection to the modelgate server broke before the answer was complete: {e:#}"
                ))
                .into());
            }
        };
        decoder.push(&chunk, &mut events);
        for event in events.drain(..) {
            if event.data.trim() == "[DONE]" {
                printer.complete = true;
                continue;
            }
            let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if let Some(error) = CliError::from_error_body(&data) {
                printer.end_line(&mut out, json)?;
                return Err(error.into());
            }
            printer.event(&mut out, json, &data)?;
        }
        out.flush()?;
    }
    printer.end_line(&mut out, json)?;
    if !printer.complete {
        return Err(truncated(
            "the stream from the modelgate server ended before the answer was complete",
        )
        .into());
    }
    Ok(())
}

fn request_body(args: &ChatArgs) -> Result<Value> {
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
    Ok(body)
}

fn truncated(message: &str) -> CliError {
    CliError::new(message).with_code("stream_truncated")
}

#[derive(Default)]
struct Printer {
    /// Text was written and its line is not ended yet.
    open_line: bool,
    /// The stream said the answer is complete.
    complete: bool,
}

impl Printer {
    fn event(&mut self, out: &mut impl Write, json: bool, data: &Value) -> Result<()> {
        let choices = data["choices"].as_array().into_iter().flatten();
        if json {
            writeln!(out, "{data}")?;
        }
        for choice in choices {
            if choice["finish_reason"].is_string() {
                self.complete = true;
            }
            if json {
                continue;
            }
            for field in ["reasoning_content", "content"] {
                if let Some(text) = choice["delta"][field].as_str() {
                    out.write_all(text.as_bytes())?;
                    self.open_line |= !text.is_empty();
                }
            }
        }
        Ok(())
    }

    /// Ends the answer's line, so what follows starts on its own.
    fn end_line(&mut self, out: &mut impl Write, json: bool) -> Result<()> {
        if self.open_line && !json {
            writeln!(out)?;
        }
        self.open_line = false;
        out.flush()?;
        Ok(())
    }
}
