//! CSRF tokens for the forms that work without JavaScript (CONTRACT §4).
//!
//! A form the page renders carries a hidden `csrf` field: an HMAC of the caller's user id under
//! the server's secret key, so it needs no storage and holds for the session's whole life. A
//! form post that navigates (JavaScript off) to a server function must bring the caller's
//! token, or it is sent back to its page with `?error=bad-csrf-token`. Requests made by scripts
//! (`fetch` from our page, curl) are covered by the `Origin` check and need no token.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::Key;
use hmac::{Hmac, Mac};
use http::Method;
use sha2::Sha256;

use crate::error::AppError;
use crate::server::http::api::server_fns::{back_location, is_form_navigation, with_error};
use crate::server::http::problem::{BODY_LIMIT, read_body};
use crate::server::session::{Session, UserId};
use crate::server::state::AppState;

/// The name of the hidden field.
pub const FIELD: &str = "csrf";

/// The token of `user`'s forms.
pub fn token(key: &Key, user: &UserId) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key.signing()).expect("HMAC takes a key of any length");
    mac.update(b"frase-csrf\0");
    mac.update(user.as_str().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Middleware: a form navigation to a server function must carry the caller's token.
pub async fn check_form_tokens(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Whatever the body's declared type: a cross-site form can send `text/plain` or
    // `multipart/form-data`, and the server functions read a body whatever it says it is.
    let guarded = request.method() == Method::POST
        && request.uri().path().starts_with("/api/fn/")
        && is_form_navigation(request.headers());
    if !guarded {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return AppError::internal().into_response();
    };
    let back = back_location(request.headers());
    let (parts, body) = request.into_parts();
    let bytes = match read_body(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) => return error.into_response(),
    };
    let expected = token(&state.session.key, &session.user);
    let valid = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FIELD)
        .is_some_and(|(_, given)| same(&given, &expected));
    if !valid {
        return Redirect::to(&with_error(&back, "bad-csrf-token")).into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_user_and_per_key() {
        let key = Key::generate();
        let (ana, bea) = (UserId::generate(), UserId::generate());
        assert_eq!(token(&key, &ana), token(&key, &ana));
        assert_eq!(token(&key, &ana).len(), 32);
        assert_ne!(token(&key, &ana), token(&key, &bea));
        assert_ne!(token(&key, &ana), token(&Key::generate(), &ana));
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
    }
}
