//! Gemini wire pieces shared by the codecs.
