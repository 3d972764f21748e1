//! `/api/fn/{name}`: the Leptos server functions the page calls, at stable names.
//!
//! Leptos runs the function; this handler fixes up what it answers:
//! - an error leaves with its own status (a bad argument is a 400, not Leptos' blanket 500);
//! - a plain HTML form post (JavaScript off, `Accept: text/html`) is answered with a 303 back to
//!   the page it came from, carrying the error's code in `?error=` for the page to show.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use super::server_fn_forms::{FormError, check_form};
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::http::problem::{BODY_LIMIT, read_body};
use crate::server::state::AppState;

/// Set by a server function whose form, posted without JavaScript, should lead to another page
/// than the one it came from (a new room, the lobby); never sent to the client.
pub const NEXT_PAGE: http::HeaderName = http::HeaderName::from_static("x-frase-next-page");

/// The most a server function's error body can be (they are small JSON objects).
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Leptos context for rendering and server functions: the application state.
pub fn app_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    move || {
        leptos::prelude::provide_context(state.clone());
        leptos::prelude::provide_context(state.assets.clone());
    }
}

/// A navigation by a plain HTML form, not a `fetch` from the client.
pub(crate) fn is_form_navigation(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.to_ascii_lowercase().contains("text/html"))
}

/// Where to send a form post back to: the path of its `Referer` on this site, without an old
/// `error` parameter; the lobby when there is none.
pub(crate) fn back_location(headers: &HeaderMap) -> String {
    let referer = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<Uri>().ok());
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let Some(referer) = referer else {
        return "/".to_owned();
    };
    if let (Some(authority), Some(host)) = (referer.authority(), host)
        && authority.as_str() != host
    {
        return "/".to_owned();
    }
    let path = referer.path();
    if !path.starts_with('/') || path.starts_with("//") || path.starts_with("/api/") {
        return "/".to_owned();
    }
    let query: Vec<&str> = referer
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|pair| !pair.is_empty() && !pair.starts_with("error="))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

pub(crate) fn with_error(location: &str, code: &str) -> String {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let separator = if location.contains('?') { '&' } else { '?' };
    format!("{location}{separator}error={code}")
}

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let locale = request
        .extensions()
        .get::<crate::i18n::Locale>()
        .copied()
        .unwrap_or_default();
    let form_navigation = is_form_navigation(request.headers());
    let back = back_location(request.headers());
    // Read here, so that a body over the limit is a 413 (Leptos would answer 400).
    let (parts, body) = request.into_parts();
    let body = match read_body(body, BODY_LIMIT).await {
        Ok(body) => body,
        Err(error) => return function_error(error.localized(locale)),
    };
    if let Err(refused) = check_form(parts.uri.path(), &body) {
        let error = match refused {
            FormError::Unknown(field) => AppError::bad_request(
                "unknown-field",
                Message::new("problem-unknown-field").arg("field", field),
            ),
            FormError::Repeated(field) => AppError::bad_request(
                "repeated-field",
                Message::new("problem-repeated-field").arg("field", field),
            ),
        };
        if form_navigation {
            return Redirect::to(&with_error(&back, &error.code)).into_response();
        }
        return function_error(error.localized(locale));
    }
    let request = Request::from_parts(parts, Body::from(body));
    let response = leptos_axum::handle_server_fns_with_context(app_context(&state), request)
        .await
        .into_response();
    let failed = response.headers().contains_key(SERVER_FN_ERROR_HEADER);
    let (mut parts, body) = response.into_parts();
    let next_page = parts.headers.remove(NEXT_PAGE);
    let error = if failed {
        let bytes = to_bytes(body, ERROR_BODY_LIMIT).await.unwrap_or_default();
        Some(serde_json::from_slice::<AppError>(&bytes).unwrap_or_else(|_| AppError::internal()))
    } else if form_navigation {
        None
    } else {
        return Response::from_parts(parts, body);
    };

    if form_navigation {
        let location = match (&error, next_page) {
            (Some(error), _) => with_error(&back, &error.code),
            (None, Some(next)) => next.to_str().unwrap_or("/").to_owned(),
            (None, None) => back,
        };
        parts.status = StatusCode::SEE_OTHER;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(SERVER_FN_ERROR_HEADER);
        if let Ok(location) = HeaderValue::from_str(&location) {
            parts.headers.insert(header::LOCATION, location);
        }
        return Response::from_parts(parts, Body::empty());
    }
    let error = error.unwrap_or_else(AppError::internal).localized(locale);
    let (function_parts, body) = function_error(error).into_parts();
    parts.status = function_parts.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(function_parts.headers);
    Response::from_parts(parts, body)
}

/// A server function's error as its client reads it: the error as JSON, with its status (and
/// `Retry-After` when it has one).
fn function_error(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::to_vec(&error).unwrap_or_default(),
    )
        .into_response();
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(referer: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::REFERER, HeaderValue::from_static(referer));
        headers.insert(header::HOST, HeaderValue::from_static("localhost:3000"));
        headers
    }

    #[test]
    fn form_posts_go_back_to_their_page_on_this_site() {
        assert_eq!(
            back_location(&headers("http://localhost:3000/r/main")),
            "/r/main"
        );
        assert_eq!(
            back_location(&headers(
                "http://localhost:3000/r/main?error=word-empty&x=1"
            )),
            "/r/main?x=1"
        );
        assert_eq!(back_location(&headers("http://evil.example/r/main")), "/");
        assert_eq!(back_location(&HeaderMap::new()), "/");
        assert_eq!(
            with_error("/r/main", "word-too-long"),
            "/r/main?error=word-too-long"
        );
        assert_eq!(with_error("/r/main?x=1", "a<b"), "/r/main?x=1&error=ab");
    }
}
