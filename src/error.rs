//! The one error type that crosses the wire: problem+json on the API, a readable message on the
//! page, and the error of every server function.

use serde::{Deserialize, Serialize};

use crate::domain::{NameError, SettingsError, SlugError, TurnError, WordError};
use crate::i18n::{Locale, Message};

/// An error as the client sees it. `code` is stable and machine-readable (the problem `type` is
/// built from it); `title` and `detail` are for people, in Spanish until [`AppError::localize`]
/// renders them again, from `text`, in the reader's language.
///
/// On the wire it is the body of a server function's error (`application/json`); the API sends
/// it as problem+json instead (`server::http::problem`).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(as = ServerFunctionError))]
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
    /// What `title` and `detail` are rendered from (boxed: errors travel in `Result`s).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub text: Box<ErrorText>,
}

/// The messages of an [`AppError`]'s title and detail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorText {
    /// The title's message key (`title-…` in `locales/*.ftl`).
    pub title_key: String,
    /// The detail's message.
    pub message: Message,
}

/// The codes a client acts on (others it only shows).
pub mod codes {
    /// An earlier request with the same `Idempotency-Key` is still running: ask again later.
    pub const IDEMPOTENCY_KEY_IN_FLIGHT: &str = "idempotency-key-in-flight";
    /// `GET /join` could not read the room code it was given (the lobby shows it by that form).
    pub const BAD_ROOM_CODE: &str = "bad-room-code";
}

impl AppError {
    /// `title` names a title message: `not-found` (or `Not found`) is `title-not-found`; a
    /// title with no message is shown as given. Private: every error is built by one of the
    /// constructors below, named by what it is, so each status has one title and one shape.
    fn new(
        status: u16,
        code: impl Into<String>,
        title: &str,
        detail: impl Into<Message>,
    ) -> AppError {
        let title_key = format!(
            "title-{}",
            title.trim().to_ascii_lowercase().replace(' ', "-")
        );
        let message = detail.into();
        let locale = Locale::default();
        AppError {
            status,
            code: code.into(),
            title: crate::i18n::lookup(locale, &title_key, &[]).unwrap_or_else(|| title.to_owned()),
            detail: message
                .render(locale)
                .unwrap_or_else(|| message.key.clone()),
            retry_after: None,
            text: Box::new(ErrorText { title_key, message }),
        }
    }

    /// Renders `title` and `detail` again in `locale` (the ones it has no message for stay).
    pub fn localize(&mut self, locale: Locale) {
        if let Some(title) = crate::i18n::lookup(locale, &self.text.title_key, &[]) {
            self.title = title;
        }
        if let Some(detail) = self.text.message.render(locale) {
            self.detail = detail;
        }
    }

    /// The same error in `locale`.
    pub fn localized(&self, locale: Locale) -> AppError {
        let mut error = self.clone();
        error.localize(locale);
        error
    }

    /// 429: too many requests; `wait` is how long until one more is allowed.
    pub fn rate_limited(detail: impl Into<Message>, wait: std::time::Duration) -> AppError {
        // Whole seconds, rounded up: a client that waits this long is let through.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        AppError {
            retry_after: Some(seconds.max(1)),
            ..AppError::new(429, "rate-limited", "too-many-requests", detail)
        }
    }

    /// 400.
    pub fn bad_request(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(400, code, "bad-request", detail)
    }

    /// 403: the caller may not do this.
    pub fn forbidden(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(403, code, "forbidden", detail)
    }

    /// 403: a request from another site, refused by its `Origin`.
    pub fn cross_site(detail: impl Into<Message>) -> AppError {
        AppError::new(403, "cross-site", "cross-site-request-refused", detail)
    }

    /// 404.
    pub fn not_found(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(404, code, "not-found", detail)
    }

    /// 405 (the response carries `Allow`).
    pub fn method_not_allowed(detail: impl Into<Message>) -> AppError {
        AppError::new(405, "method-not-allowed", "method-not-allowed", detail)
    }

    /// 406: no representation the request accepts.
    pub fn not_acceptable(detail: impl Into<Message>) -> AppError {
        AppError::new(406, "not-acceptable", "not-acceptable", detail)
    }

    /// 409: the request conflicts with the resource's state.
    pub fn conflict(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(409, code, "conflict", detail)
    }

    /// 409: an earlier request with the same `Idempotency-Key` is still running.
    pub fn idempotency_key_in_flight(detail: impl Into<Message>) -> AppError {
        AppError::conflict(codes::IDEMPOTENCY_KEY_IN_FLIGHT, detail)
    }

    /// 412: `If-Match` names a version the resource no longer has.
    pub fn precondition_failed(detail: impl Into<Message>) -> AppError {
        AppError::new(412, "precondition-failed", "precondition-failed", detail)
    }

    /// 413.
    pub fn content_too_large(detail: impl Into<Message>) -> AppError {
        AppError::new(413, "body-too-large", "content-too-large", detail)
    }

    /// 415.
    pub fn unsupported_media_type(detail: impl Into<Message>) -> AppError {
        AppError::new(
            415,
            "unsupported-media-type",
            "unsupported-media-type",
            detail,
        )
    }

    /// 422: well-formed, but not a valid value.
    pub fn unprocessable(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(422, code, "unprocessable-content", detail)
    }

    /// 422: not a valid room title.
    pub fn invalid_title(error: &NameError) -> AppError {
        AppError::new(
            422,
            "invalid-title",
            "invalid-title",
            Message::of_error("problem-name", error),
        )
    }

    /// 423: the resource is locked.
    pub fn locked(code: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(423, code, "locked", detail)
    }

    /// Any other client error, titled by its status's reason phrase.
    pub fn client_error(status: u16, reason: &str, detail: impl Into<Message>) -> AppError {
        AppError::new(status, "bad-request", reason, detail)
    }

    /// An answer the client could not read (on the client: a body that is not what it asked for).
    pub fn bad_response(status: u16, detail: impl Into<Message>) -> AppError {
        AppError::new(status, "bad-response", "bad-response", detail)
    }

    /// An error answer without a readable error in it.
    pub fn unexpected_response(status: u16, detail: impl Into<Message>) -> AppError {
        AppError::new(status, "unexpected", "unexpected-response", detail)
    }

    /// A failure of ours (storage, I/O): the detail stays vague on purpose, the log has the cause.
    pub fn internal() -> AppError {
        AppError::new(
            500,
            "internal",
            "internal-server-error",
            Message::new("problem-internal"),
        )
    }

    pub fn unavailable(detail: impl Into<Message>) -> AppError {
        AppError::new(503, "unavailable", "service-unavailable", detail)
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

/// `message` if the message files have it, else the error's own (English) text: a domain error
/// added without its messages still says something.
fn translated(message: Message, error: &impl std::fmt::Display) -> Message {
    if message.render(Locale::default()).is_some() {
        message
    } else {
        Message::literal(error.to_string())
    }
}

impl From<WordError> for AppError {
    fn from(error: WordError) -> AppError {
        AppError::new(
            422,
            kebab("word", error.code()),
            "invalid-word",
            translated(Message::of_error("problem-word", &error), &error),
        )
    }
}

impl From<NameError> for AppError {
    fn from(error: NameError) -> AppError {
        AppError::new(
            422,
            kebab("name", error.code()),
            "invalid-name",
            translated(Message::of_error("problem-name", &error), &error),
        )
    }
}

impl From<SlugError> for AppError {
    fn from(error: SlugError) -> AppError {
        AppError::not_found(
            "room-not-found",
            translated(Message::of_error("problem-slug", &error), &error),
        )
    }
}

impl From<SettingsError> for AppError {
    fn from(error: SettingsError) -> AppError {
        AppError::new(
            422,
            "invalid-settings",
            "invalid-settings",
            translated(Message::of_error("problem-settings", &error), &error),
        )
    }
}

impl From<TurnError> for AppError {
    fn from(error: TurnError) -> AppError {
        AppError::new(
            409,
            kebab("", error.code()),
            "not-your-turn",
            translated(Message::of_error("problem", &error), &error),
        )
    }
}

mod server_fn_error {
    use leptos::server_fn::codec::JsonEncoding;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

    use super::AppError;
    use crate::i18n::Message;

    impl FromServerFnError for AppError {
        type Encoder = JsonEncoding;

        fn from_server_fn_error(value: ServerFnErrorErr) -> AppError {
            match value {
                ServerFnErrorErr::Registration(detail) => AppError::not_found(
                    "no-such-function",
                    Message::new("problem-no-such-function").arg("name", detail),
                ),
                ServerFnErrorErr::UnsupportedRequestMethod(detail) => AppError::method_not_allowed(
                    Message::new("problem-function-method").arg("reason", detail),
                ),
                ServerFnErrorErr::Args(detail)
                | ServerFnErrorErr::MissingArg(detail)
                | ServerFnErrorErr::Deserialization(detail) => AppError::bad_request(
                    "bad-arguments",
                    Message::new("problem-bad-arguments").arg("reason", detail),
                ),
                ServerFnErrorErr::Request(detail) | ServerFnErrorErr::Response(detail) => {
                    AppError::unavailable(
                        Message::new("problem-unreachable-because").arg("reason", detail),
                    )
                }
                ServerFnErrorErr::Serialization(_)
                | ServerFnErrorErr::ServerError(_)
                | ServerFnErrorErr::MiddlewareError(_) => AppError::internal(),
            }
        }
    }
}
