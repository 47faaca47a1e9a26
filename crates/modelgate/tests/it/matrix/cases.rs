//! The cases: what the client asks, what the endpoint answers (in its own
//! format), and what the client must end up with (in its own format) —
//! one expectation for every cell of a case. Text and tool calls are here;
//! reasoning in [`cases_reasoning`](super::cases_reasoning), usage and
//! failures in [`cases_failures`](super::cases_failures).

use serde_json::{Value, json};

use super::client::{Ask, Choice, Outcome};
use super::upstream::{Answer, Block, Layout, Script, Tokens, tool_id};
use super::{Cell, Front, Run, Spec};

/// A complete answer.
pub fn done(text: &str, stop: &str, usage: (u64, u64, u64)) -> Outcome {
    Outcome {
        text: text.to_owned(),
        stop: Some(stop.to_owned()),
        usage: Some(usage),
        terminated_properly: true,
        ..Outcome::default()
    }
}

/// A tool call as the client must see it: the endpoint's id, the client's name.
pub fn call(spec: Spec, id: &str, name: &str, args: Value) -> (String, String, Value) {
    (tool_id(spec, id), name.to_owned(), args)
}

pub async fn text(cell: Cell) {
    let ask = Ask {
        sampling: true,
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Hello", ",", " world"])],
        "end_turn",
        Tokens::new(10, 5),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Hello, world", "end_turn", (10, 0, 5)));
    run.expect_recorded((10, 0, 5)).await;
}

/// A forced or free choice answered with one call of `get_weather`.
async fn one_call(cell: Cell, choice: Choice, args: &'static str) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        choice: Some(choice),
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::tool("01", "get_weather", &[args])],
        "tool_use",
        Tokens::new(20, 8),
    );
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let args: Value = serde_json::from_str(args).unwrap();
    run.expect(Outcome {
        tool_calls: vec![call(cell.spec, "01", "get_weather", args)],
        ..done("", "tool_use", (20, 0, 8))
    });
    run.expect_recorded((20, 0, 8)).await;
}

pub async fn tool_choice_auto(cell: Cell) {
    one_call(cell, Choice::Auto, r#"{"city":"Paris"}"#).await;
}

pub async fn tool_choice_required(cell: Cell) {
    one_call(cell, Choice::Required, r#"{"city":"Lyon"}"#).await;
}

pub async fn tool_choice_named(cell: Cell) {
    one_call(cell, Choice::Named("get_weather"), r#"{"city":"Nice"}"#).await;
}

/// `none`: the model answers in text. The OpenAI client does not ask for
/// usage in its stream, so it gets none (the gateway still asks an
/// OpenAI endpoint for it when translating); Responses streams always end
/// with it.
pub async fn tool_choice_none(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        choice: Some(Choice::None),
        include_usage: false,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["No tools ", "needed."])],
        "end_turn",
        Tokens::new(12, 6),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let usage = (cell.front != Front::OpenAi || !cell.stream).then_some((12, 0, 6));
    run.expect(Outcome {
        usage,
        ..done("No tools needed.", "end_turn", (0, 0, 0))
    });
    // Recorded even when the client did not ask for usage.
    run.expect_recorded((12, 0, 6)).await;
}

/// Text then two tool calls in one answer; the request says
/// `parallel_tool_calls: false` / `disable_parallel_tool_use: true`. The
/// second tool's name (`clock.now`) is invalid for both specs: renamed
/// on the way in, named back on the way out.
pub async fn parallel_tool_calls(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "clock.now"],
        parallel: Some(false),
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Checking ", "both."]),
            Block::tool("01", "get_weather", &[r#"{"city":"#, r#""Paris"}"#]),
            Block::tool("02", "clock.now", &[r#"{"tz":"Europe/Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(30, 12),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![
            call(cell.spec, "01", "get_weather", json!({"city": "Paris"})),
            call(cell.spec, "02", "clock.now", json!({"tz": "Europe/Paris"})),
        ],
        ..done("Checking both.", "tool_use", (30, 0, 12))
    });
    run.expect_recorded((30, 0, 12)).await;
}

/// Arguments in three pieces, and every upstream event cut in two writes.
pub async fn args_split(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::tool(
            "01",
            "get_weather",
            &[r#"{"ci"#, r#"ty":"Par"#, r#"is"}"#],
        )],
        "tool_use",
        Tokens::new(20, 9),
    )
    .layout(Layout::SplitEvents);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("", "tool_use", (20, 0, 9))
    });
    run.expect_recorded((20, 0, 9)).await;
}

/// Two tool calls after some text. OpenAI endpoint: both calls start, then
/// their argument pieces alternate (as OpenAI streams parallel calls);
/// Anthropic and Responses endpoints: the two tool blocks (items) one after
/// the other. The client
/// gets both calls whole and in order, in a valid stream of its format
/// (for an Anthropic client: each block contiguous, one open at a time).
pub async fn interleaved_tool_calls(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather", "get_time"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Checking ", "both."]),
            Block::tool("01", "get_weather", &[r#"{"ci"#, r#"ty":"Par"#, r#"is"}"#]),
            Block::tool("02", "get_time", &[r#"{"tz":"#, r#""Europe/Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(25, 14),
    )
    .layout(Layout::InterleavedTools);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![
            call(cell.spec, "01", "get_weather", json!({"city": "Paris"})),
            call(cell.spec, "02", "get_time", json!({"tz": "Europe/Paris"})),
        ],
        ..done("Checking both.", "tool_use", (25, 0, 14))
    });
    run.expect_recorded((25, 0, 14)).await;
}

/// OpenAI endpoint: one chunk whose delta has `content` and `tool_calls`;
/// Anthropic and Responses endpoints: the text block (item) and the tool
/// block (item) in one write.
pub async fn text_and_tool_in_one_chunk(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![
            Block::text(&["Let me check."]),
            Block::tool("01", "get_weather", &[r#"{"city":"Paris"}"#]),
        ],
        "tool_use",
        Tokens::new(20, 11),
    )
    .layout(Layout::TextAndToolTogether);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(Outcome {
        tool_calls: vec![call(
            cell.spec,
            "01",
            "get_weather",
            json!({"city": "Paris"}),
        )],
        ..done("Let me check.", "tool_use", (20, 0, 11))
    });
    run.expect_recorded((20, 0, 11)).await;
}
