//! Cross-site protection (CONTRACT §4): a state-changing request that comes with an `Origin`
//! naming another site is refused with 403 before it reaches any handler, for the JSON API,
//! server functions and forms alike. Requests without `Origin` (scripts, curl) pass: browsers
//! always send it on cross-site writes. The origins configured for CORS pass too.
//!
//! The same site is the same scheme, host and port. The scheme is the one this server speaks,
//! or, for a request relayed by a proxy on this machine (a loopback peer), the one its
//! `X-Forwarded-Proto` says the browser used.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Method, Uri};

use super::security::Transport;
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::state::AppState;

fn changes_state(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The `host[:port]` this request was sent to: `Host` (HTTP/1.1) or the authority (HTTP/2).
fn request_authority<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()))
}

/// The scheme the browser used for this request: see the module documentation.
fn request_scheme(request: &Request, transport: Transport) -> &'static str {
    let from_local_proxy = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback());
    let forwarded = request
        .headers()
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_lowercase());
    match (from_local_proxy, forwarded.as_deref(), transport) {
        (true, Some("https"), _) => "https",
        (true, Some("http"), _) => "http",
        (_, _, Transport::Https) => "https",
        (_, _, Transport::Http) => "http",
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the site at `scheme://authority`.
fn same_site(origin: &str, site_scheme: &str, authority: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case(site_scheme) {
        return false;
    }
    let default_port = match site_scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let with_port = |hostport: &str| -> String {
        let hostport = hostport.to_ascii_lowercase();
        // `[::1]:3000`, `[::1]`, `host:3000`, `host`
        let has_port = match hostport.rfind(']') {
            Some(end) => hostport[end..].contains(':'),
            None => hostport.contains(':'),
        };
        if has_port {
            hostport
        } else {
            format!("{hostport}:{default_port}")
        }
    };
    with_port(rest) == with_port(authority)
}

/// Middleware: see the module documentation.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if changes_state(request.method())
        && let Some(origin) = request.headers().get(ORIGIN)
    {
        let origin = origin.to_str().unwrap_or("null");
        let scheme = request_scheme(&request, state.transport);
        let same = request_authority(request.headers(), request.uri())
            .is_some_and(|authority| same_site(origin, scheme, authority));
        if !same && !state.cors.allows(origin) {
            return AppError::cross_site(Message::new("problem-cross-site").arg("origin", origin))
                .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_with_default_ports() {
        assert!(same_site("http://localhost:3000", "http", "localhost:3000"));
        assert!(same_site("http://Example.org", "http", "example.org:80"));
        assert!(same_site("https://example.org", "https", "example.org:443"));
        assert!(same_site("https://example.org", "https", "example.org"));
        assert!(same_site("http://[::1]:3000", "http", "[::1]:3000"));
        assert!(!same_site(
            "http://evil.example:3000",
            "http",
            "localhost:3000"
        ));
        assert!(!same_site(
            "http://localhost:3001",
            "http",
            "localhost:3000"
        ));
        assert!(!same_site("https://example.org", "http", "example.org:80"));
        assert!(!same_site("null", "http", "localhost:3000"));
        assert!(!same_site("file://x", "http", "x"));
        // The scheme counts even where the port is given (issue 17).
        assert!(!same_site(
            "https://localhost:3000",
            "http",
            "localhost:3000"
        ));
        assert!(!same_site(
            "http://localhost:3443",
            "https",
            "localhost:3443"
        ));
    }

    #[test]
    fn only_a_proxy_on_this_machine_may_name_the_scheme() {
        let request = |peer: &str, forwarded: Option<&str>| {
            let mut request = Request::new(axum::body::Body::empty());
            request
                .extensions_mut()
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            if let Some(forwarded) = forwarded {
                request
                    .headers_mut()
                    .insert("x-forwarded-proto", forwarded.parse().unwrap());
            }
            request
        };
        let scheme =
            |peer, forwarded, transport| request_scheme(&request(peer, forwarded), transport);
        assert_eq!(
            scheme("127.0.0.1:9", Some("https"), Transport::Http),
            "https"
        );
        assert_eq!(scheme("[::1]:9", Some("HTTPS"), Transport::Http), "https");
        assert_eq!(scheme("10.0.0.9:9", Some("https"), Transport::Http), "http");
        assert_eq!(scheme("127.0.0.1:9", None, Transport::Https), "https");
        assert_eq!(
            scheme("127.0.0.1:9", Some("gopher"), Transport::Http),
            "http"
        );
    }

    #[test]
    fn only_writes_are_checked() {
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::DELETE));
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::OPTIONS));
    }
}
