//! Reading the configuration file: YAML parsing, normalization and
//! validation, with every error pointing at a line and naming the field.

use std::fmt;
use std::path::{Path, PathBuf};

use modelgate_protocol::Spec;
use serde_saphyr::{DefaultMessageFormatter, Location, MessageFormatter};

use crate::spans::{self, Node, Seg};
use crate::{ConfigFile, FileError, normalize_endpoint, suggest, validate_file};

/// A loaded configuration and where it came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    pub file: ConfigFile,
    pub path: Option<PathBuf>,
}

/// What is wrong with a configuration file, and where.
///
/// Displays as `{origin}:{line}:{column}: {field}: {message} (did you mean
/// `{suggestion}`?)`, leaving out the parts that are not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file's path (or another name for the text, e.g. `<stdin>`).
    pub origin: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    /// Path of the field, e.g. `endpoints.local.base_url`, `timeouts.connect`.
    pub field: Option<String>,
    pub message: String,
    pub suggestion: Option<String>,
}

impl ConfigError {
    /// An error about the whole file, with no location.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            line: None,
            column: None,
            field: None,
            message: message.into(),
            suggestion: None,
        }
    }

    fn at(mut self, loc: Option<Location>) -> Self {
        if let Some(loc) = loc.filter(|l| l.line() > 0) {
            self.line = Some(loc.line());
            self.column = Some(loc.column());
        }
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(suggestion) = &self.suggestion {
            write!(f, " (did you mean `{suggestion}`?)")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Reads, parses and validates the configuration file at `path`.
#[expect(
    clippy::result_large_err,
    reason = "read once at start-up; the flat public fields are the API"
)]
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::new(&origin, format!("cannot read the configuration file: {e}"))
    })?;
    let file = parse_str(&text, &origin)?;
    Ok(Config {
        file,
        path: Some(path.to_owned()),
    })
}

/// Parses, normalizes and validates configuration text. `origin` names the
/// text in errors (usually the file's path). `${VAR}` references are kept.
#[expect(
    clippy::result_large_err,
    reason = "read once at start-up; the flat public fields are the API"
)]
pub fn parse_str(text: &str, origin: &str) -> Result<ConfigFile, ConfigError> {
    // `Option` because an empty (or comments-only) document is null.
    let parsed: Option<ConfigFile> =
        serde_saphyr::from_str(text).map_err(|e| yaml_error(&e, text, origin))?;
    let mut file = parsed.unwrap_or_default();
    file.endpoints.iter_mut().for_each(normalize_endpoint);
    validate_file(&file).map_err(|e| invalid(e, text, origin))?;
    Ok(file)
}

/// A parse error, made into one line that names the field.
fn yaml_error(e: &serde_saphyr::Error, text: &str, origin: &str) -> ConfigError {
    // A YAML-level problem explains a typed error that comes with it (a
    // missing field after a bad indent), so report that one first.
    let parsed = spans::parse(text);
    let (e, tree) = match &parsed {
        Ok(tree) => (e, Some(tree)),
        Err(yaml) => (yaml, None),
    };
    let inner = e.without_snippet();
    let loc = e.location().filter(|l| l.line() > 0);
    // The path of the node at the error, e.g. [endpoints, 0, models, fetch].
    let at = |key: Option<&str>| {
        let (loc, tree) = (loc?, tree?);
        spans::path_at(tree, loc, key)
    };
    let mut err = ConfigError::new(origin, "").at(loc);
    match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            err.field = Some(at(Some(field)).map_or_else(
                || field.clone(),
                |(path, _)| spans::render_path(tree, &path),
            ));
            err.suggestion = suggest(field, expected.iter().copied()).map(str::to_owned);
            err.message = match expected.as_slice() {
                [] => "unknown field; this section takes no fields".to_owned(),
                known => format!("unknown field; expected one of {}", quoted(known)),
            };
        }
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            // Located at the last key of the mapping that lacks the field, or
            // at the mapping itself when it is empty.
            let mut path = at(None).map(|(path, _)| path).unwrap_or_default();
            let last_is_key = matches!(path.last(), Some(Seg::Key(_)));
            let at_key = tree.and_then(|t| spans::locate(t, &path)) == loc;
            if last_is_key && at_key {
                path.pop();
            }
            if let Some(map) = tree.and_then(|t| spans::locate(t, &path)) {
                err = err.at(Some(map));
            }
            path.push(Seg::Key((*field).to_owned()));
            err.field = Some(spans::render_path(tree, &path));
            err.message = "missing field".to_owned();
        }
        serde_saphyr::Error::DuplicateMappingKey { .. } => {
            err.field = loc.and_then(|l| key_on_line(text, l.line()));
            err.message = "given twice in the same mapping".to_owned();
        }
        serde_saphyr::Error::MultipleDocuments { .. } => {
            err.message = "the file holds more than one YAML document (`---`); \
                           modelgate reads one"
                .to_owned();
        }
        other => {
            let message = friendly(&DefaultMessageFormatter.format_message(other));
            let found = at(None);
            err.field = match &found {
                Some((path, _)) => Some(spans::render_path(tree, path)),
                None => loc.and_then(|l| key_on_line(text, l.line())),
            };
            err.message = message;
            if let Some((path, Node::Scalar(Some(value)))) = &found {
                if !err.message.contains(&format!("`{value}`")) {
                    err.message = format!("{}, found `{value}`", err.message);
                }
                if path.last() == Some(&Seg::Key("spec".into())) {
                    err.suggestion = suggest_spec(value).map(str::to_owned);
                }
            }
        }
    }
    err
}

/// A validation error, located with the spanned tree.
fn invalid(e: FileError, text: &str, origin: &str) -> ConfigError {
    let tree = spans::parse(text).ok();
    let tree = tree.as_ref();
    let locate = |path: &[Seg]| tree.and_then(|t| spans::locate(t, path));
    let (path, message) = match e {
        FileError::File(fe) => (spans::split_field(&fe.field), fe.message),
        FileError::Endpoint(ee) => {
            let endpoint = |i| vec![Seg::Key("endpoints".into()), Seg::Index(i)];
            let mut path = endpoint(ee.index);
            path.extend(spans::split_field(&ee.error.field));
            let mut message = ee.error.message;
            if let Some(first) = ee.duplicate_of {
                let mut first_path = endpoint(first);
                first_path.push(Seg::Key("name".into()));
                match locate(&first_path) {
                    Some(l) => message.push_str(&format!(" (first at line {})", l.line())),
                    None => message.push_str(&format!(" (first by endpoint #{})", first + 1)),
                }
            }
            (path, message)
        }
    };
    let mut err = ConfigError::new(origin, message).at(locate(&path));
    err.field = Some(spans::render_path(tree, &path));
    err
}

/// The key written on a line (`  fetch: maybe` → `fetch`), as a last resort
/// for naming the field when the YAML could not be read back as a tree.
fn key_on_line(text: &str, line: u64) -> Option<String> {
    let index = usize::try_from(line.checked_sub(1)?).ok()?;
    let content = text.lines().nth(index)?.trim_start();
    let content = content.strip_prefix("- ").unwrap_or(content).trim_start();
    let (key, _) = content.split_once(':')?;
    let key = key.trim().trim_matches(['"', '\'']);
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.".contains(c));
    plain.then(|| key.to_owned())
}

/// Clearer words for serde-saphyr's terse ones; control characters removed
/// so the message stays on one line.
fn friendly(message: &str) -> String {
    let message: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match message.as_str() {
        "invalid boolean" => "expected true or false".to_owned(),
        "expected mapping start" => "expected a mapping (`key: value` lines)".to_owned(),
        "expected sequence start" => "expected a list".to_owned(),
        "expected string scalar" => "expected a string".to_owned(),
        _ => message,
    }
}

/// A spec id for a mistyped one, including the short names people use.
fn suggest_spec(given: &str) -> Option<&'static str> {
    const ALIASES: [(&str, Spec); 6] = [
        ("openai", Spec::OpenAiChatCompletions),
        ("chat-completions", Spec::OpenAiChatCompletions),
        ("bedrock", Spec::AmazonBedrock),
        ("vertex", Spec::GoogleVertex),
        ("gemini", Spec::Google),
        ("claude", Spec::Anthropic),
    ];
    let lower = given.to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, spec)| spec.id())
        .or_else(|| suggest(given, Spec::ALL.iter().map(|s| s.id())))
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
