//! One plain `match` from a wire format to its codecs, so the server
//! handles every (front door × endpoint) pair the same way.

use crate::framing::sse::SseEvent;
use crate::ir::{ChatRequest, ChatResponse, GatewayError, StreamEvent};
use crate::spec::{Spec, anthropic, gemini, openai_chat, openai_responses};
use crate::translate::{Context, Target, ToolNames};

/// A wire format a client or an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    OpenAiChat,
    Anthropic,
    OpenAiResponses,
    /// Google's `generateContent` (the `google` and `google-vertex` specs).
    Gemini,
}

impl Format {
    /// The wire format of an endpoint spec, if this build speaks it. Azure
    /// OpenAI speaks OpenAI Chat Completions (its transport differs).
    pub fn of_spec(spec: Spec) -> Option<Format> {
        match spec {
            Spec::OpenAiChatCompletions | Spec::Azure => Some(Format::OpenAiChat),
            Spec::Anthropic => Some(Format::Anthropic),
            Spec::OpenAiResponses => Some(Format::OpenAiResponses),
            // Vertex AI's Gemini models; its Claude models speak Anthropic
            // Messages (the gateway picks by the model's publisher).
            Spec::Google | Spec::GoogleVertex => Some(Format::Gemini),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::OpenAiChat => "OpenAI Chat Completions",
            Format::Anthropic => "Anthropic Messages",
            Format::OpenAiResponses => "OpenAI Responses",
            Format::Gemini => "Gemini",
        }
    }

    pub fn decode_request(self, body: &[u8]) -> Result<ChatRequest, GatewayError> {
        match self {
            Format::OpenAiChat => openai_chat::request::decode_request(body),
            Format::Anthropic => anthropic::request::decode_request(body),
            Format::OpenAiResponses => openai_responses::request::decode_request(body),
            Format::Gemini => gemini::request::decode_request(body),
        }
    }

    pub fn encode_request(
        self,
        req: &ChatRequest,
        target: &Target,
        names: &mut ToolNames,
    ) -> Result<serde_json::Value, GatewayError> {
        match self {
            Format::OpenAiChat => openai_chat::request::encode_request(req, target, names),
            Format::Anthropic => anthropic::request::encode_request(req, target, names),
            Format::OpenAiResponses => {
                openai_responses::request::encode_request(req, target, names)
            }
            Format::Gemini => gemini::request::encode_request(req, target, names),
        }
    }

    pub fn decode_response(self, body: &[u8], ctx: &Context) -> Result<ChatResponse, GatewayError> {
        match self {
            Format::OpenAiChat => openai_chat::response::decode_response(body, ctx),
            Format::Anthropic => anthropic::response::decode_response(body, ctx),
            Format::OpenAiResponses => openai_responses::response::decode_response(body, ctx),
            Format::Gemini => gemini::response::decode_response(body, ctx),
        }
    }

    pub fn encode_response(self, resp: &ChatResponse, ctx: &Context) -> serde_json::Value {
        match self {
            Format::OpenAiChat => openai_chat::response::encode_response(resp, ctx),
            Format::Anthropic => anthropic::response::encode_response(resp, ctx),
            Format::OpenAiResponses => openai_responses::response::encode_response(resp, ctx),
            Format::Gemini => gemini::response::encode_response(resp, ctx),
        }
    }

    /// The error body this format's clients expect.
    pub fn encode_error(self, err: &GatewayError) -> Vec<u8> {
        match self {
            Format::OpenAiChat => openai_chat::error::encode_error(err),
            Format::Anthropic => anthropic::error::encode_error(err),
            Format::OpenAiResponses => openai_responses::error::encode_error(err),
            Format::Gemini => gemini::error::encode_error(err),
        }
    }

    pub fn stream_decoder(self, ctx: &Context) -> StreamDecoder {
        match self {
            Format::OpenAiChat => {
                StreamDecoder::OpenAiChat(openai_chat::stream_decode::StreamDecoder::new(ctx))
            }
            Format::Anthropic => {
                StreamDecoder::Anthropic(anthropic::stream_decode::StreamDecoder::new(ctx))
            }
            Format::OpenAiResponses => StreamDecoder::OpenAiResponses(
                openai_responses::stream_decode::StreamDecoder::new(ctx),
            ),
            Format::Gemini => StreamDecoder::Gemini(gemini::stream_decode::StreamDecoder::new(ctx)),
        }
    }

    pub fn stream_encoder(self, ctx: &Context) -> StreamEncoder {
        match self {
            Format::OpenAiChat => {
                StreamEncoder::OpenAiChat(openai_chat::stream_encode::StreamEncoder::new(ctx))
            }
            Format::Anthropic => {
                StreamEncoder::Anthropic(anthropic::stream_encode::StreamEncoder::new(ctx))
            }
            Format::OpenAiResponses => StreamEncoder::OpenAiResponses(
                openai_responses::stream_encode::StreamEncoder::new(ctx),
            ),
            Format::Gemini => StreamEncoder::Gemini(gemini::stream_encode::StreamEncoder::new(ctx)),
        }
    }
}

/// Decodes an upstream's SSE events into stream events.
pub enum StreamDecoder {
    OpenAiChat(openai_chat::stream_decode::StreamDecoder),
    Anthropic(anthropic::stream_decode::StreamDecoder),
    OpenAiResponses(openai_responses::stream_decode::StreamDecoder),
    Gemini(gemini::stream_decode::StreamDecoder),
}

impl StreamDecoder {
    pub fn feed(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) {
        match self {
            StreamDecoder::OpenAiChat(d) => d.feed(event, out),
            StreamDecoder::Anthropic(d) => d.feed(event, out),
            StreamDecoder::OpenAiResponses(d) => d.feed(event, out),
            StreamDecoder::Gemini(d) => d.feed(event, out),
        }
    }

    /// The upstream's stream ended.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        match self {
            StreamDecoder::OpenAiChat(d) => d.finish(out),
            StreamDecoder::Anthropic(d) => d.finish(out),
            StreamDecoder::OpenAiResponses(d) => d.finish(out),
            StreamDecoder::Gemini(d) => d.finish(out),
        }
    }
}

/// Encodes stream events into a client's SSE bytes.
pub enum StreamEncoder {
    OpenAiChat(openai_chat::stream_encode::StreamEncoder),
    Anthropic(anthropic::stream_encode::StreamEncoder),
    OpenAiResponses(openai_responses::stream_encode::StreamEncoder),
    Gemini(gemini::stream_encode::StreamEncoder),
}

impl StreamEncoder {
    pub fn encode(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        match self {
            StreamEncoder::OpenAiChat(e) => e.encode(event, out),
            StreamEncoder::Anthropic(e) => e.encode(event, out),
            StreamEncoder::OpenAiResponses(e) => e.encode(event, out),
            StreamEncoder::Gemini(e) => e.encode(event, out),
        }
    }
}
