//! Gemini's ways of ending an answer, in every front door's words: a
//! blocked prompt (`promptFeedback.blockReason`, no candidates), `SAFETY`
//! and `RECITATION` (content-filter stops: `refusal` canonically),
//! `MALFORMED_FUNCTION_CALL` (never an empty answer) and `MAX_TOKENS`.

use super::cases::done;
use super::client::{Ask, Outcome};
use super::upstream::{Answer, Block, Layout, Script, Tokens};
use super::upstream_gemini::PROMPT_BLOCKED;
use super::{Cell, Run};

/// A prompt Gemini blocks (`promptFeedback.blockReason`, no candidates):
/// the client gets a complete answer that stops as refused.
pub async fn gemini_prompt_blocked(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(vec![], PROMPT_BLOCKED, Tokens::new(8, 0));
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let outcome = run.seen.outcome_for(cell, &Outcome::default());
    assert_eq!(
        (
            outcome.stop.as_deref(),
            outcome.terminated_properly,
            &outcome.violations,
            &outcome.error
        ),
        (Some("refusal"), true, &vec![], &None),
        "{cell}: a blocked prompt is a refusal / content-filter stop\n--- client body ---\n{}",
        run.seen.body_text()
    );
    assert!(
        run.seen.body_text().contains("SAFETY"),
        "{cell}: the client is told why (the block reason): {}",
        run.seen.body_text()
    );
    assert!(outcome.tool_calls.is_empty(), "{cell}");
    run.expect_recorded((8, 0, 0)).await;
}

/// Text, then `finishReason: SAFETY`: the text, stopped as refused.
pub async fn gemini_safety_stop(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Here is ", "how"])],
        "refusal",
        Tokens::new(10, 3),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Here is how", "refusal", (10, 0, 3)));
    run.expect_recorded((10, 0, 3)).await;
}

/// `finishReason: RECITATION` after some text: a content-filter stop too.
pub async fn gemini_recitation_stop(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["The lyrics ", "go"])],
        "recitation",
        Tokens::new(10, 3),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("The lyrics go", "refusal", (10, 0, 3)));
}

/// `finishReason: MALFORMED_FUNCTION_CALL` and no content: never an empty
/// answer — the client gets a text saying the model's call was unusable,
/// and no call.
pub async fn gemini_malformed_call(cell: Cell) {
    let ask = Ask {
        tools: vec!["get_weather"],
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(vec![], "malformed_function_call", Tokens::new(12, 0));
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    let outcome = run.seen.outcome_for(cell, &Outcome::default());
    assert!(
        outcome.text.contains("MALFORMED_FUNCTION_CALL")
            && outcome.tool_calls.is_empty()
            && outcome.terminated_properly
            && outcome.error.is_none()
            && outcome.violations.is_empty(),
        "{cell}: a complete answer whose text names the reason, without a call: {outcome:?}\n--- client body ---\n{}",
        run.seen.body_text()
    );
    assert_ne!(
        outcome.stop.as_deref(),
        Some("tool_use"),
        "{cell}: not a tool-use stop without a call"
    );
    run.expect_recorded((12, 0, 0)).await;
}

/// `finishReason: MAX_TOKENS` → the client's own length stop.
pub async fn gemini_max_tokens(cell: Cell) {
    let ask = Ask {
        include_usage: true,
        ..Ask::default()
    };
    let answer = Answer::new(
        vec![Block::text(&["Once upon ", "a time"])],
        "max_tokens",
        Tokens::new(10, 256),
    )
    .layout(Layout::PerEvent);
    let run = Run::start(cell, ask, Script::Answer(answer)).await;
    run.expect(done("Once upon a time", "max_tokens", (10, 0, 256)));
}
