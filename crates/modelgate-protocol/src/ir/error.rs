//! The canonical error: what went wrong, said once, encoded per front door.

use std::time::Duration;

/// What kind of failure this is; decides the default status and the
/// error `type` each wire format shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller's request is malformed or names something that cannot work.
    InvalidRequest,
    /// The caller's credentials (or, for upstream failures, every key) were rejected.
    Authentication,
    /// Authenticated but not allowed.
    PermissionDenied,
    /// A model, endpoint or route that does not exist.
    NotFound,
    /// Too many requests.
    RateLimited,
    /// The upstream did not answer in time.
    Timeout,
    /// The upstream is temporarily overloaded (Anthropic 529).
    Overloaded,
    /// The upstream could not be reached at all.
    UpstreamUnreachable,
    /// The upstream answered with a failure of its own.
    Upstream,
    /// The endpoint's spec or a requested feature is not implemented yet.
    NotSupported,
    /// A fault of modelgate itself.
    Internal,
}

impl ErrorKind {
    pub const fn default_status(self) -> u16 {
        match self {
            ErrorKind::InvalidRequest => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::RateLimited => 429,
            ErrorKind::Timeout => 504,
            ErrorKind::Overloaded => 529,
            ErrorKind::UpstreamUnreachable | ErrorKind::Upstream => 502,
            ErrorKind::NotSupported => 501,
            ErrorKind::Internal => 500,
        }
    }
}

/// An error on its way to the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayError {
    pub kind: ErrorKind,
    /// HTTP status the caller sees.
    pub status: u16,
    /// What happened and, where there is one, what to do about it.
    pub message: String,
    /// A short machine-readable code, e.g. `model_not_found`.
    pub code: Option<String>,
    /// The request field at fault, if any.
    pub param: Option<String>,
    /// For rate limits: when to try again.
    pub retry_after: Option<Duration>,
}

impl GatewayError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            status: kind.default_status(),
            message: message.into(),
            code: None,
            param: None,
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status)
    }
}

impl std::error::Error for GatewayError {}
