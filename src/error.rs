//! The one error type that crosses the wire: problem+json on the API, a readable message on the
//! page, and the error of every server function.

use serde::{Deserialize, Serialize};

use crate::domain::{NameError, SettingsError, SlugError, TurnError, WordError};

/// An error as the client sees it. `code` is stable and machine-readable (the problem `type` is
/// built from it); `detail` is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{detail}")]
pub struct AppError {
    pub status: u16,
    pub code: String,
    pub title: String,
    pub detail: String,
    /// Seconds to wait before trying again (429, 503): sent as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(
        status: u16,
        code: impl Into<String>,
        title: &str,
        detail: impl Into<String>,
    ) -> AppError {
        AppError {
            status,
            code: code.into(),
            title: title.to_owned(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 429: too many requests; `wait` is how long until one more is allowed.
    pub fn rate_limited(detail: impl Into<String>, wait: std::time::Duration) -> AppError {
        // Whole seconds, rounded up: a client that waits this long is let through.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError {
            retry_after: Some(seconds.max(1)),
            ..AppError::new(429, "rate-limited", "Too many requests", detail)
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> AppError {
        AppError::new(400, code, "Bad request", detail)
    }

    pub fn not_found(code: &str, detail: impl Into<String>) -> AppError {
        AppError::new(404, code, "Not found", detail)
    }

    pub fn unprocessable(code: &str, detail: impl Into<String>) -> AppError {
        AppError::new(422, code, "Unprocessable content", detail)
    }

    /// A failure of ours (storage, I/O): the detail stays vague on purpose, the log has the cause.
    pub fn internal() -> AppError {
        AppError::new(
            500,
            "internal",
            "Internal server error",
            "Something went wrong on the server; the change was not applied.",
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> AppError {
        AppError::new(503, "unavailable", "Service unavailable", detail)
    }

    /// The problem `type` URI (RFC 9457): a URN, since nothing needs to be fetched from it.
    pub fn problem_type(&self) -> String {
        format!("urn:frase:problem:{}", self.code)
    }
}

/// An error code as the API spells it: `word` and `too_long` give `word-too-long`.
fn kebab(prefix: &str, code: &str) -> String {
    let code = code.replace('_', "-");
    if prefix.is_empty() {
        code
    } else {
        format!("{prefix}-{code}")
    }
}

impl From<WordError> for AppError {
    fn from(error: WordError) -> AppError {
        AppError::new(
            422,
            kebab("word", error.code()),
            "Invalid word",
            error.to_string(),
        )
    }
}

impl From<NameError> for AppError {
    fn from(error: NameError) -> AppError {
        AppError::new(
            422,
            kebab("name", error.code()),
            "Invalid name",
            error.to_string(),
        )
    }
}

impl From<SlugError> for AppError {
    fn from(error: SlugError) -> AppError {
        AppError::not_found("room-not-found", error.to_string())
    }
}

impl From<SettingsError> for AppError {
    fn from(error: SettingsError) -> AppError {
        AppError::new(
            422,
            "invalid-settings",
            "Invalid settings",
            error.to_string(),
        )
    }
}

impl From<TurnError> for AppError {
    fn from(error: TurnError) -> AppError {
        AppError::new(
            409,
            kebab("", error.code()),
            "Not your turn",
            error.to_string(),
        )
    }
}

mod server_fn_error {
    use leptos::server_fn::codec::JsonEncoding;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

    use super::AppError;

    impl FromServerFnError for AppError {
        type Encoder = JsonEncoding;

        fn from_server_fn_error(value: ServerFnErrorErr) -> AppError {
            match value {
                ServerFnErrorErr::Registration(detail) => {
                    AppError::not_found("no-such-function", detail)
                }
                ServerFnErrorErr::UnsupportedRequestMethod(detail) => {
                    AppError::new(405, "method-not-allowed", "Method not allowed", detail)
                }
                ServerFnErrorErr::Args(detail)
                | ServerFnErrorErr::MissingArg(detail)
                | ServerFnErrorErr::Deserialization(detail) => {
                    AppError::bad_request("bad-arguments", detail)
                }
                ServerFnErrorErr::Request(detail) | ServerFnErrorErr::Response(detail) => {
                    AppError::unavailable(format!("The server could not be reached: {detail}"))
                }
                ServerFnErrorErr::Serialization(_)
                | ServerFnErrorErr::ServerError(_)
                | ServerFnErrorErr::MiddlewareError(_) => AppError::internal(),
            }
        }
    }
}
