//! Errors as `application/problem+json` (RFC 9457): one conversion from [`AppError`], and a
//! middleware that turns any other error response under `/api/` (the router's 404 and 405, a
//! rejected path parameter) into one too.

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

use super::around::Around;
use crate::error::AppError;
use crate::i18n::Message;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// An error (RFC 9457 problem details), sent as `application/problem+json`: the body of every
/// error the API answers, built from an [`AppError`] and nowhere else.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem, `urn:frase:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The problem's stable code, e.g. `word-too-long`.
    pub code: String,
}

/// Declares an error set of the document's `responses(...)`: one status, one description, the
/// body a [`Problem`].
macro_rules! problem_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        #[response(
            status = $status,
            description = $description,
            content_type = "application/problem+json"
        )]
        pub struct $name(#[to_schema] pub Problem);
    };
}

problem_response!(
    /// The answer any operation can give.
    AnyProblem, "default", "An error"
);
problem_response!(NoSuchRoom, 404, "No such room");
problem_response!(NoSuchWord, 404, "No such room or word");
problem_response!(MalformedBody, 400, "Malformed body");
problem_response!(NotHost, 403, "Not the host");
problem_response!(StaleIfMatch, 412, "Stale `If-Match`");
problem_response!(InvalidRoom, 422, "Invalid title or settings");
problem_response!(InvalidWord, 422, "Not a valid word");
problem_response!(RoomLocked, 423, "The room is locked");

impl Problem {
    fn of(error: &AppError, status: StatusCode) -> Problem {
        Problem {
            kind: error.problem_type(),
            title: error.title.clone(),
            status: status.as_u16(),
            detail: error.detail.clone(),
            code: error.code.clone(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(Problem::of(&self, status))).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // For `locale::Negotiate`, which renders it again in the reader's language.
        response.extensions_mut().insert(self);
        response
    }
}

/// Reads a whole request body of at most `limit` bytes: 413 when it is longer, 400 when it
/// cannot be read (the client went away, or was too slow to send it).
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<bytes::Bytes, AppError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            problem_for_status(StatusCode::PAYLOAD_TOO_LARGE, "")
        } else {
            AppError::bad_request("body-unreadable", Message::new("problem-bad-request"))
        }
    })
}

/// The problem a bare error status stands for.
fn problem_for_status(status: StatusCode, path: &str) -> AppError {
    match status {
        StatusCode::NOT_FOUND => AppError::not_found(
            "not-found",
            Message::new("problem-not-found").arg("path", path),
        ),
        StatusCode::METHOD_NOT_ALLOWED => AppError::method_not_allowed(
            Message::new("problem-method-not-allowed").arg("path", path),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::content_too_large(Message::new("problem-body-too-large"))
        }
        status if status.is_client_error() => AppError::client_error(
            status.as_u16(),
            status.canonical_reason().unwrap_or("Bad request"),
            Message::new("problem-bad-request"),
        ),
        _ => AppError::internal(),
    }
}

/// Middleware for `/api/`: every error response leaves as problem+json, keeping its status and
/// headers (such as `Allow`).
#[derive(Debug, Clone, Copy)]
pub struct ProblemResponses;

impl Around for ProblemResponses {
    /// The path is needed only if the answer is an error; a copy of the URI is a reference
    /// count.
    type Noted = http::Uri;

    fn before(&self, request: &mut Request) -> http::Uri {
        request.uri().clone()
    }

    fn after(&self, uri: http::Uri, response: Response) -> Response {
        as_problem(uri.path(), response)
    }
}

fn as_problem(path: &str, response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    // A server function's own error is JSON its client reads; only the router's bare answers
    // (405, 404) are made problems there.
    let server_function_error =
        path.starts_with("/api/fn/") && response.headers().contains_key(header::CONTENT_TYPE);
    if !path.starts_with("/api/") || server_function_error {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let problem = problem_for_status(status, path).into_response();
    let (mut problem_parts, body) = problem.into_parts();
    if let Some(error) = problem_parts.extensions.remove::<AppError>() {
        parts.extensions.insert(error);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        problem_parts
            .headers
            .get(header::CONTENT_TYPE)
            .cloned()
            .unwrap_or(HeaderValue::from_static(PROBLEM_JSON)),
    );
    Response::from_parts(parts, Body::new(body))
}
