//! The matrix's two independent halves checked against each other,
//! without the gateway: the fake's Responses bytes read back by the
//! client's summarizer as the script that made them, and the summarizer
//! rejecting streams that break the format's rules (so a cell that passes
//! means something).

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::Front;
use super::cases::{call, done};
use super::client::{Outcome, Raw, Seen};
use super::upstream::{Answer, Block, Tail, Tokens};
use super::upstream_responses;
use super::{Spec, Wire};

const SIG: &str = "sig-0123";

fn script() -> Answer {
    Answer::new(
        vec![
            Block::Reasoning {
                pieces: vec!["Think", "ing."],
                signature: SIG,
            },
            Block::text(&["Hel", "lo."]),
            Block::tool("01", "get_weather", &[r#"{"city":"#, r#""Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(30, 9),
    )
}

fn request() -> Value {
    json!({"model": "m", "input": "hi", "stream": true,
           "tools": [{"type": "function", "name": "get_weather", "parameters": {}}]})
}

fn read(stream: bool, body: String) -> Seen {
    let mut headers = HeaderMap::new();
    let ct = if stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    let raw = Raw {
        status: 200,
        headers,
        body: body.into_bytes(),
    };
    Seen::read(Front::Responses, stream, raw, Some("m"))
}

fn expected() -> Outcome {
    Outcome {
        reasoning: "Thinking.".to_owned(),
        signature: Some(SIG.to_owned()),
        tool_calls: vec![call(
            Spec::OpenAiResponses,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("Hello.", "tool_use", (30, 0, 9))
    }
}

#[test]
fn the_responses_fake_reads_back_as_its_script() {
    assert_eq!(Spec::OpenAiResponses.wire(), Wire::Responses);
    let body = upstream_responses::response(&script(), "m", &request());
    assert_eq!(read(false, body.to_string()).outcome(), expected());
    let (events, _) = upstream_responses::stream(&script(), "m", &request());
    let seen = read(true, events.concat());
    assert_eq!(seen.outcome(), expected());
    let kinds: Vec<&Value> = seen.items.iter().map(|i| &i["type"]).collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
}

/// The stream's events with `edit` applied to the data of the first event
/// of type `kind`.
fn broken(kind: &str, edit: impl Fn(&mut Value)) -> Seen {
    let (events, _) = upstream_responses::stream(&script(), "m", &request());
    let mut edited = false;
    let events: Vec<String> = events
        .into_iter()
        .map(|e| {
            let (head, data) = e.trim_end().split_once("\ndata: ").unwrap();
            let mut data: Value = serde_json::from_str(data).unwrap();
            if !edited && data["type"] == kind {
                edited = true;
                edit(&mut data);
            }
            format!("{head}\ndata: {data}\n\n")
        })
        .collect();
    assert!(edited, "no {kind} event");
    read(true, events.concat())
}

#[test]
fn the_responses_reader_rejects_broken_streams() {
    let cases: Vec<(&str, Seen)> = vec![
        (
            "sequence_number",
            broken("response.in_progress", |d| d["sequence_number"] = 0.into()),
        ),
        (
            "item_id",
            broken("response.output_text.delta", |d| d["item_id"] = "x".into()),
        ),
        (
            "output_index",
            broken("response.function_call_arguments.delta", |d| {
                d["output_index"] = 1.into()
            }),
        ),
        (
            "done text",
            broken("response.output_text.done", |d| d["text"] = "Help.".into()),
        ),
        (
            "done item",
            broken("response.output_item.done", |d| {
                d["item"]["summary"][0]["text"] = "Other.".into()
            }),
        ),
        (
            "final output",
            broken("response.completed", |d| {
                d["response"]["output"][2]["arguments"] = r#"{"city":"Lyon"}"#.into()
            }),
        ),
        (
            "event name",
            broken("response.output_item.added", |d| {
                d["type"] = "response.output_item.done".into()
            }),
        ),
        (
            "model",
            broken("response.created", |d| d["response"]["model"] = "x".into()),
        ),
    ];
    for (what, seen) in cases {
        assert!(
            !seen.violations.is_empty(),
            "a broken {what} is noticed:\n{}",
            seen.body_text()
        );
    }
}

/// A stream that fails after its text: the fake's `error` event, then the
/// `extra` events (numbered on).
fn failing(extra: &[Value]) -> Seen {
    let answer = Answer::new(vec![Block::text(&["Part"])], "end_turn", Tokens::new(3, 1))
        .tail(Tail::ErrorEvent);
    let (mut events, _) = upstream_responses::stream(&answer, "m", &request());
    for (i, data) in extra.iter().enumerate() {
        let mut data = data.clone();
        data["sequence_number"] = (100 + i).into();
        let kind = data["type"].as_str().unwrap_or_default().to_owned();
        events.push(format!("event: {kind}\ndata: {data}\n\n"));
    }
    read(true, events.concat())
}

#[test]
fn a_failure_may_be_told_twice_with_one_code() {
    let failed = |code: &str| {
        json!({"type": "response.failed", "response": {"id": "resp_matrix", "status": "failed",
               "model": "m", "output": [], "error": {"code": code, "message": "x"}}})
    };
    let seen = failing(&[]);
    assert_eq!(seen.violations, Vec::<String>::new());
    assert_eq!(
        seen.error.as_ref().map(|e| e.kind.as_str()),
        Some("server_error")
    );
    assert_eq!(seen.text, "Part");
    assert_eq!(
        failing(&[failed("server_error")]).violations,
        Vec::<String>::new()
    );
    assert!(!failing(&[failed("other")]).violations.is_empty());
    let error = json!({"type": "error", "code": "server_error", "message": "x"});
    let thrice = failing(&[failed("server_error"), error]);
    assert!(!thrice.violations.is_empty(), "nothing after both tellings");
}
