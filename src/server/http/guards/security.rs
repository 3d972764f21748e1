//! Security headers on every response (CONTRACT §7).
//!
//! The Content-Security-Policy allows no inline script and no `eval`: only scripts of this
//! origin, WebAssembly compilation (`'wasm-unsafe-eval'`), and, on pages, the inline scripts
//! that carry the page's nonce (the boot script and Leptos' own), which [`page_policy`] names.

use axum::extract::Request;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};

/// How this server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
}

/// Over HTTPS, browsers remember for a year to use nothing else for this host.
const HSTS: &str = "max-age=31536000";

/// Everything but `script-src`, which differs between pages and the rest.
const POLICY_REST: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// The policy of responses that are not pages: nothing inline at all.
fn default_policy() -> String {
    format!("script-src 'self' 'wasm-unsafe-eval'; {POLICY_REST}")
}

/// [`default_policy`] as a header, built once: nearly every response carries it, and building it
/// (a format and a check of 300 bytes) was work a `GET` repeated for nothing.
fn default_policy_header() -> HeaderValue {
    static HEADER: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
        HeaderValue::from_str(&default_policy()).expect("the policy is visible ASCII")
    });
    HEADER.clone()
}

/// The policy of a page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!("script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'; {POLICY_REST}")
}

/// The policy of a development page (`make dev`): the page's, plus a WebSocket to cargo-leptos'
/// live-reload port on the host the page was loaded from (`host` is the request's `Host`), and
/// nothing else.
pub fn development_page_policy(nonce: &str, host: Option<&str>, reload_port: u16) -> String {
    let hostname = host
        .map(|host| match host.rsplit_once(':') {
            // `[::1]:3000` or `name:3000`; a bare IPv6 literal keeps its brackets.
            Some((name, port)) if !port.contains(']') => name,
            _ => host,
        })
        .filter(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b))
        })
        .unwrap_or("localhost");
    page_policy(nonce).replace(
        "connect-src 'self'",
        &format!("connect-src 'self' ws://{hostname}:{reload_port} wss://{hostname}:{reload_port}"),
    )
}

const PERMISSIONS_POLICY: &str = "camera=(), microphone=(), geolocation=(), payment=(), usb=()";

use crate::server::http::around::Around;

/// Middleware: the headers every response carries. A page has set its own
/// `Content-Security-Policy` (with its nonce) while rendering; that one is kept, and a 304 gets
/// none. Over HTTPS, `Strict-Transport-Security` too.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders(pub Transport);

impl Around for SecurityHeaders {
    type Noted = ();

    fn before(&self, _: &mut Request) {}

    fn after(&self, (): (), response: Response) -> Response {
        with_security_headers(self.0, response)
    }
}

fn with_security_headers(transport: Transport, mut response: Response) -> Response {
    // A 304 keeps the policy the client stored with the page it has (and that page's nonce).
    let not_modified = response.status() == http::StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    if !not_modified && !headers.contains_key(CONTENT_SECURITY_POLICY) {
        headers.insert(CONTENT_SECURITY_POLICY, default_policy_header());
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        http::HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    if transport == Transport::Https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_allow_no_inline_script_and_no_eval() {
        assert_eq!(default_policy_header(), default_policy().as_str());
        for policy in [default_policy(), page_policy("abc")] {
            assert!(!policy.contains("'unsafe-inline'"));
            assert!(!policy.contains("'unsafe-eval'"));
            assert!(policy.contains("'wasm-unsafe-eval'"));
            assert!(policy.contains("frame-ancestors 'none'"));
        }
        assert!(page_policy("abc").contains("'nonce-abc'"));
    }

    #[test]
    fn a_development_page_may_reach_the_reload_socket_only() {
        let policy = development_page_policy("abc", Some("192.168.1.5:3000"), 3001);
        assert!(
            policy.contains(
                "connect-src 'self' ws://192.168.1.5:3001 wss://192.168.1.5:3001; font-src"
            )
        );
        assert_eq!(
            policy.replace(" ws://192.168.1.5:3001 wss://192.168.1.5:3001", ""),
            page_policy("abc")
        );
        assert!(development_page_policy("n", Some("[::1]:3000"), 3001).contains("ws://[::1]:3001"));
        assert!(development_page_policy("n", Some("[::1]"), 3001).contains("ws://[::1]:3001"));
        // A Host that could smuggle a source list in is not used.
        assert!(
            development_page_policy("n", Some("a.com *; script-src *"), 3001)
                .contains("ws://localhost:3001 ")
        );
    }
}
