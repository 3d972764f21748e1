//! Cross-site protection (CONTRACT §4): a state-changing request that comes with an `Origin`
//! naming another site is refused with 403 before it reaches any handler, for the JSON API,
//! server functions and forms alike. Requests without `Origin` (scripts, curl) pass: browsers
//! always send it on cross-site writes. The origins configured for CORS pass too.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Method, Uri};

use super::cors::CorsOrigins;
use crate::error::AppError;
use crate::i18n::Message;

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

/// Whether `origin` (`scheme://host[:port]`) names the site at `authority`.
fn same_site(origin: &str, authority: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
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
    State(cors): State<CorsOrigins>,
    request: Request,
    next: Next,
) -> Response {
    if changes_state(request.method())
        && let Some(origin) = request.headers().get(ORIGIN)
    {
        let origin = origin.to_str().unwrap_or("null");
        let same = request_authority(request.headers(), request.uri())
            .is_some_and(|authority| same_site(origin, authority));
        if !same && !cors.allows(origin) {
            return AppError::new(
                403,
                "cross-site",
                "cross-site-request-refused",
                Message::new("problem-cross-site").arg("origin", origin),
            )
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
        assert!(same_site("http://localhost:3000", "localhost:3000"));
        assert!(same_site("http://Example.org", "example.org:80"));
        assert!(same_site("https://example.org", "example.org:443"));
        assert!(same_site("http://[::1]:3000", "[::1]:3000"));
        assert!(!same_site("http://evil.example:3000", "localhost:3000"));
        assert!(!same_site("http://localhost:3001", "localhost:3000"));
        assert!(!same_site("https://example.org", "example.org:80"));
        assert!(!same_site("null", "localhost:3000"));
        assert!(!same_site("file://x", "x"));
    }

    #[test]
    fn only_writes_are_checked() {
        assert!(changes_state(&Method::POST));
        assert!(changes_state(&Method::DELETE));
        assert!(!changes_state(&Method::GET));
        assert!(!changes_state(&Method::OPTIONS));
    }
}
