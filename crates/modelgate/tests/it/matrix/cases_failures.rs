//! Usage and failures: cache tokens counted alike in every format, the
//! endpoint's error statuses and in-stream errors given to the client in
//! its own format, and a cut stream never passed off as complete.

use super::cases::done;
use super::client::{Ask, Outcome};
use super::upstream::{Answer, Block, Failure, Layout, Script, Tail, Tokens, stream_error_message};
use super::{Cell, Front, Run, Spec, Wire};

/// Cache tokens. Anthropic endpoint: input 100, cache read 60, cache write
/// 20, output 30; OpenAI, Azure and Responses endpoints: prompt (input)
/// 180 of which 60 cached; Gemini: `promptTokenCount` 180 of which
/// `cachedContentTokenCount` 60. Either way the prompt is 180 tokens, 60 of them
/// read from the cache.
pub async fn usage_with_cache(cell: Cell) {
    let tokens = match cell.spec {
        Spec::Anthropic => Tokens {
            input: 100,
            cache_read: 60,
            cache_write: 20,
            output: 30,
        },
        Spec::OpenAiChat | Spec::OpenAiResponses | Spec::Azure | Spec::Google => Tokens {
            input: 120,
            cache_read: 60,
            cache_write: 0,
            output: 30,
        },
    };
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(vec![Block::text(&["Cached answer."])], "end_turn", tokens);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Cached answer.", "end_turn", (180, 60, 30)));

    let raw = run.seen.raw_usage.clone().expect("usage");
    let n = |k: &str| raw[k].as_u64().unwrap_or(0);
    match cell.front {
        Front::OpenAi => {
            assert_eq!(
                (
                    n("prompt_tokens"),
                    n("completion_tokens"),
                    n("total_tokens")
                ),
                (180, 30, 210),
                "{cell}: prompt_tokens counts cached tokens: {raw}"
            );
            assert_eq!(
                raw["prompt_tokens_details"]["cached_tokens"], 60,
                "{cell}: {raw}"
            );
        }
        Front::Responses => {
            assert_eq!(
                (n("input_tokens"), n("output_tokens"), n("total_tokens")),
                (180, 30, 210),
                "{cell}: input_tokens counts cached tokens: {raw}"
            );
            assert_eq!(
                raw["input_tokens_details"]["cached_tokens"], 60,
                "{cell}: {raw}"
            );
        }
        Front::Anthropic => {
            let (input, write) = match cell.spec {
                Spec::Anthropic => (100, 20),
                _ => (120, 0),
            };
            assert_eq!(
                (
                    n("input_tokens"),
                    n("cache_read_input_tokens"),
                    n("cache_creation_input_tokens"),
                    n("output_tokens")
                ),
                (input, 60, write, 30),
                "{cell}: input_tokens excludes the cache: {raw}"
            );
        }
    }

    run.expect_recorded((180, 60, 30)).await;
}

/// HTTP 429 with an error body in the endpoint's format: the client gets a
/// 429 in its own format, with the endpoint's message and a Retry-After.
pub async fn upstream_error(cell: Cell) {
    let message = match cell.spec.wire() {
        Wire::Messages => "Number of request tokens has exceeded your per-minute rate limit",
        Wire::Chat | Wire::Responses => "Rate limit reached for requests per min",
        Wire::Gemini => "Resource has been exhausted (e.g. check quota).",
    };
    let failure = Failure {
        status: 429,
        message,
        anthropic_type: "rate_limit_error",
        openai_type: "requests",
        openai_code: Some("rate_limit_exceeded"),
        retry_after: Some("7"),
    };
    let run = Run::start(cell, Ask::default(), Script::Failure(failure)).await;
    run.expect(Outcome {
        error: Some((429, "rate_limit_error".to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(message),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
    let after: u64 = run
        .seen
        .retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{cell}: a Retry-After header"));
    assert!((1..=7).contains(&after), "{cell}: Retry-After {after}");
    run.expect_recorded((0, 0, 0)).await;
}

/// Overloaded: Anthropic's 529 is a 503 for OpenAI and Responses clients
/// and stays a 529 `overloaded_error` for Anthropic clients; an OpenAI
/// (Azure, Responses) endpoint's 503 stays a 503 either way.
pub async fn upstream_overloaded(cell: Cell) {
    let failure = match cell.spec.wire() {
        Wire::Messages => Failure {
            status: 529,
            message: "Overloaded",
            anthropic_type: "overloaded_error",
            openai_type: "",
            openai_code: None,
            retry_after: None,
        },
        Wire::Gemini => Failure {
            status: 503,
            message: "The model is overloaded. Please try again later.",
            anthropic_type: "",
            openai_type: "",
            openai_code: None,
            retry_after: None,
        },
        Wire::Chat | Wire::Responses => Failure {
            status: 503,
            message: "The engine is currently overloaded, please try again later",
            anthropic_type: "",
            openai_type: "server_error",
            openai_code: None,
            retry_after: None,
        },
    };
    let message = failure.message;
    let run = Run::start(cell, Ask::default(), Script::Failure(failure)).await;
    let expected = match (cell.front, cell.spec) {
        (Front::OpenAi | Front::Responses, _) => (503, "server_error"),
        (Front::Anthropic, Spec::Anthropic) => (529, "overloaded_error"),
        (Front::Anthropic, _) => (503, "api_error"),
    };
    run.expect(Outcome {
        error: Some((expected.0, expected.1.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(message),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
}

/// What an Anthropic client's `message_start` said before a stream failed:
/// the endpoint's input count, or zeros when an OpenAI or Responses
/// endpoint gives usage only at the end. OpenAI clients get no usage
/// chunk, Responses clients no terminal response.
fn usage_before_failure(cell: Cell) -> Option<(u64, u64, u64)> {
    match (cell.front, cell.spec) {
        (Front::OpenAi | Front::Responses, _) => None,
        (Front::Anthropic, Spec::Anthropic) => Some((10, 0, 1)),
        (Front::Anthropic, _) => Some((0, 0, 0)),
    }
}

/// Text, then an error event in the endpoint's format: the client gets the
/// text, then the error in its own format (`data: {"error":…}` /
/// `event: error`; for Responses an `error` event or `response.failed`,
/// whose `code` is its kind) as the last event.
///
/// Known failing cell, a gateway bug: Responses client → `google`
/// endpoint. Google's envelope `status` (`INTERNAL`) becomes the error's
/// `code` (`spec/gemini/wire.rs`, `error_of`: `with_code(status)`), which the
/// Responses encoder writes verbatim (`spec/openai_responses/error.rs`), so
/// the client's `error` / `response.failed` says `code: "INTERNAL"` — a
/// Google RPC status name — where every other spec gives `server_error`.
pub async fn mid_stream_error(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Partial", " answer"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent)
    .tail(Tail::ErrorEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let kind = match (cell.front, cell.spec) {
        (Front::OpenAi | Front::Responses, _) => "server_error",
        (Front::Anthropic, Spec::Anthropic) => "overloaded_error",
        (Front::Anthropic, _) => "api_error",
    };
    run.expect(Outcome {
        text: "Partial answer".to_owned(),
        usage: usage_before_failure(cell),
        error: Some((200, kind.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains(stream_error_message(cell.spec)),
        "{cell}: the endpoint's message is passed on: {}",
        error.message
    );
}

/// The endpoint closes the stream after some text, without its terminator:
/// never a silent cut, the client gets an error event.
pub async fn stream_cut_short(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Partial"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent)
    .tail(Tail::Cut);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let kind = match cell.front {
        Front::OpenAi => "server_error",
        Front::Anthropic => "api_error",
        Front::Responses => "stream_truncated",
    };
    run.expect(Outcome {
        text: "Partial".to_owned(),
        usage: usage_before_failure(cell),
        error: Some((200, kind.to_owned())),
        ..Outcome::default()
    });
    let error = run.seen.error.clone().expect("an error");
    assert!(
        error.message.contains("before"),
        "{cell}: the message says the stream ended early: {}",
        error.message
    );
    if cell.front != Front::Anthropic {
        assert_eq!(
            error.code.as_deref(),
            Some("stream_truncated"),
            "{cell}: {error:?}"
        );
    }
}
