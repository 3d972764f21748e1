//! `Idempotency-Key` on POST: the same key from the same user within 24 hours gets the first
//! response again and changes nothing; the same key with another request gets 422.
//!
//! The key is claimed (in its own small transaction) before the request runs and its response
//! kept after. A key whose first request has not finished answers 409 and is never run twice: a
//! retried click can be late, but never doubles a word. The change a request makes marks its key
//! in the change's own transaction, so a key cut off by a crash is settled at the next start
//! (`store::settle_keys_in_flight`), or with several processes on PostgreSQL by the first retry
//! that reaches another once the first process is gone: answered "stored" if its change
//! committed, released for a fresh try if not. No retry stays 409. A key is its process's alone:
//! a change can commit under it only while it is (so one taken for cut off never lets the first
//! request's change in as well).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;

use crate::error::AppError;
use crate::i18n::Message;
use crate::server::http::problem::{BODY_LIMIT, read_body};
use crate::server::session::Session;
use crate::server::state::AppState;
use crate::server::store::{self, KeyUse, StoredResponse};

/// A safe retry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the same key from the same user within 24 h returns
    /// the first response again (422 with another body, 409 while the first is running).
    #[serde(rename = "Idempotency-Key")]
    #[param(value_type = String, required = false)]
    #[param(pattern = "^[\\x21-\\x7e]{1,255}$")]
    pub idempotency_key: Option<String>,
}

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Marks a replayed response.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// How long a key is remembered.
const KEY_LIFETIME: time::Duration = time::Duration::hours(24);

/// The response headers a replay repeats.
const KEPT_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::CACHE_CONTROL,
    header::RETRY_AFTER,
];

/// A key: 1 to 255 visible ASCII characters (what RFC 8941 strings and UUIDs use). A key sent
/// as a structured-field string (`"abc"`) is the same key as its bare form; quotes that enclose
/// nothing (`"`, `""`) are the key itself, so every value the OpenAPI pattern allows is accepted.
fn parse_key(value: &HeaderValue) -> Result<String, AppError> {
    let raw = value.to_str().unwrap_or("").trim();
    let key = match raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        Some(inner) if !inner.is_empty() => inner,
        _ => raw,
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::bad_request(
            "bad-idempotency-key",
            Message::new("problem-bad-idempotency-key"),
        ));
    }
    Ok(key.to_owned())
}

/// What makes two requests "the same": method, target, media type and body.
fn fingerprint(request: &http::request::Parts, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(request.method.as_str());
    hasher.update([0]);
    hasher.update(request.uri.path_and_query().map_or("", |p| p.as_str()));
    hasher.update([0]);
    let content_type = request
        .headers
        .get(header::CONTENT_TYPE)
        .map_or(&b""[..], |value| value.as_bytes());
    hasher.update(content_type);
    hasher.update([0]);
    hasher.update(body);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn timestamps() -> (String, String) {
    use time::format_description::well_known::Rfc3339;
    let now = time::OffsetDateTime::now_utc();
    let format = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    (format(now), format(now - KEY_LIFETIME))
}

pub async fn idempotent_posts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next.run(request).await;
    };
    match run_once(&state, raw_key, request, next).await {
        Ok(response) | Err(response) => response,
    }
}

async fn run_once(
    state: &AppState,
    raw_key: HeaderValue,
    request: Request,
    next: Next,
) -> Result<Response, Response> {
    let key = parse_key(&raw_key).map_err(IntoResponse::into_response)?;
    let user = request
        .extensions()
        .get::<Session>()
        .map(|session| session.user.to_string())
        .ok_or_else(|| AppError::internal().into_response())?;
    let (parts, body) = request.into_parts();
    let body = read_body(body, BODY_LIMIT)
        .await
        .map_err(IntoResponse::into_response)?;
    let hash = fingerprint(&parts, &body);
    let (now, cutoff) = timestamps();
    let store = state.rooms.store();
    let claim = store::ClaimedKey {
        user_id: user,
        key,
        process: store.process_id().to_owned(),
    };
    let claimed = store
        .write(async |conn: &mut store::Conn| {
            store::claim_key(conn, &claim, &hash, &now, &cutoff).await
        })
        .await
        .map_err(|error| {
            tracing::error!(%error, "idempotency key store");
            AppError::internal().into_response()
        })?;

    match claimed {
        KeyUse::Fresh => {}
        KeyUse::Replay(stored) => return Ok(replay(stored)),
        KeyUse::Mismatch => {
            return Err(AppError::unprocessable(
                "idempotency-key-reused",
                Message::new("problem-idempotency-key-reused"),
            )
            .into_response());
        }
        KeyUse::InFlight => {
            let mut response = AppError::idempotency_key_in_flight(Message::new(
                "problem-idempotency-key-in-flight",
            ))
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return Err(response);
        }
    }

    // The change the request makes marks the key in its own transaction, so that a crash
    // before the response is kept leaves a record of whether it committed.
    let response = store::REQUEST_KEY
        .scope(
            claim.clone(),
            next.run(Request::from_parts(parts, Body::from(body))),
        )
        .await;
    let (response_parts, response_body) = response.into_parts();
    let response_body = to_bytes(response_body, 1024 * 1024)
        .await
        .unwrap_or_default();
    let status = response_parts.status;
    // A failure of ours, or "too many requests": the same key may be tried again.
    let release = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
    let stored = (!release).then(|| StoredResponse {
        status: status.as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = response_parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: response_body.to_vec(),
    });
    let outcome = store
        .write(async |conn: &mut store::Conn| match &stored {
            None => store::release_key(conn, &claim).await,
            Some(stored) => store::complete_key(conn, &claim, stored).await,
        })
        .await;
    if let Err(error) = outcome {
        tracing::error!(%error, key = %claim.key, "could not keep the response of an idempotent request");
    }
    Ok(Response::from_parts(
        response_parts,
        Body::from(response_body),
    ))
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert_eq!(
            parse_key(&HeaderValue::from_static("abc-123")).unwrap(),
            "abc-123"
        );
        assert_eq!(
            parse_key(&HeaderValue::from_static("\"quoted\"")).unwrap(),
            "quoted"
        );
        // Every value of the documented pattern `^[\x21-\x7e]{1,255}$` is a key.
        for quotes in ["\"", "\"\"", "\"a", "a\""] {
            assert_eq!(
                parse_key(&HeaderValue::from_static(quotes)).unwrap(),
                quotes
            );
        }
        assert!(parse_key(&HeaderValue::from_static("")).is_err());
        assert!(parse_key(&HeaderValue::from_static("has space")).is_err());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
    }
}
