//! Abuse limits at the edge: writes per client address (generous: a classroom behind NAT is one
//! address), answered with 429 and `Retry-After` before any handler runs. The per-user limit on
//! new words lives in the rooms service, so that it holds for every way a word arrives.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;
use http::request::Parts;

use crate::error::AppError;
use crate::i18n::Message;
use crate::server::http::api::server_fns::{back_location, is_form_navigation, with_error};
use crate::server::session::Session;
use crate::server::state::AppState;

fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The address of the client at the other end of the connection (`None` when the request
/// did not come through a socket, as in router-level tests).
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(&parts.extensions)))
    }
}

fn client_address(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip())
}

/// Middleware: refuses a write when its address is over `FRASE_RATE_LIMIT` × 50, and a write
/// without a session cookie when its address's cookieless writes are over one user's
/// `FRASE_RATE_LIMIT` (dropping the cookie would otherwise give every write a fresh budget).
pub async fn limit_writes_per_address(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let refused = if is_write(request.method())
        && let Some(address) = client_address(request.extensions())
    {
        let cookieless = request
            .extensions()
            .get::<Session>()
            .is_some_and(|session| session.fresh);
        if let Err(wait) = state.address_writes.check(&address) {
            Some((wait, "problem-rate-limited-address"))
        } else if cookieless && let Err(wait) = state.cookieless_writes.check(&address) {
            Some((wait, "problem-rate-limited-anonymous"))
        } else {
            None
        }
    } else {
        None
    };
    if let Some((wait, message)) = refused {
        let error = AppError::rate_limited(Message::new(message), wait);
        // A form posted without JavaScript goes back to its page, which shows the message.
        if request.uri().path().starts_with("/api/fn/") && is_form_navigation(request.headers()) {
            let back = back_location(request.headers());
            return Redirect::to(&with_error(&back, &error.code)).into_response();
        }
        return error.into_response();
    }
    next.run(request).await
}
