//! Validators the handlers do not set themselves.
//!
//! - [`page_validators`]: server-rendered pages are `no-cache` with a strong `ETag` of their bytes,
//!   so a browser revalidates each time and gets 304 when nothing changed.
//! - [`EncodingEtags`]: a strong `ETag` names one representation, and a compressed body is
//!   another one (RFC 9110 §8.8.3); the tag of a compressed response gets the coding as a suffix
//!   (`"12-br"`), and the suffix is taken off the tags a request sends back, so the handlers keep
//!   comparing their own tags.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_MATCH,
    IF_NONE_MATCH,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use super::around::Around;
use super::conditional::{content_etag, none_match_hits};

/// The largest page that is tagged; a room page is a few kilobytes.
const MAX_TAGGED_PAGE: usize = 8 * 1024 * 1024;

/// The codings whose responses get a suffixed tag.
const CODINGS: [&str; 3] = ["br", "gzip", "deflate"];

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"))
}

/// Middleware: a strong `ETag` and `Cache-Control: private, no-cache` on every 200 HTML page,
/// and 304 when `If-None-Match` holds it. `private`: a page shows the caller's own name.
pub async fn page_validators(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        return next.run(request).await;
    }
    let request_headers = request.headers().clone();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK
        || !is_html(response.headers())
        || response.headers().contains_key(ETAG)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_TAGGED_PAGE).await else {
        // Too large to tag (or the render failed mid-stream): nothing sensible to send now.
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = content_etag(&without_nonces(&bytes));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(ETAG, value);
    }
    parts
        .headers
        .insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    if none_match_hits(&request_headers, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        // The browser keeps the page it has, with that page's nonce: a policy naming this
        // response's fresh nonce would replace the stored one and block the page's scripts.
        parts.headers.remove(CONTENT_SECURITY_POLICY);
        parts.headers.remove(CONTENT_TYPE);
        parts.headers.remove(http::header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A page's bytes with the values of its `nonce="..."` attributes taken out: the nonce is new on
/// every response, and the page is the same page whatever it is.
fn without_nonces(page: &[u8]) -> Vec<u8> {
    const ATTRIBUTE: &[u8] = b"nonce=\"";
    let mut out = Vec::with_capacity(page.len());
    let mut rest = page;
    while let Some(at) = rest.windows(ATTRIBUTE.len()).position(|w| w == ATTRIBUTE) {
        let value_start = at + ATTRIBUTE.len();
        out.extend_from_slice(&rest[..value_start]);
        match rest[value_start..].iter().position(|&b| b == b'"') {
            Some(end) => rest = &rest[value_start + end..],
            None => {
                rest = &rest[value_start..];
                break;
            }
        }
    }
    out.extend_from_slice(rest);
    out
}

/// `"abc-br"` → (`"abc"`, `Some("br")`); any other tag is returned as it is.
fn split_coding(tag: &str) -> (String, Option<&'static str>) {
    let (weak, opaque) = match tag.strip_prefix("W/") {
        Some(rest) => ("W/", rest),
        None => ("", tag),
    };
    if let Some(inner) = opaque.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        for coding in CODINGS {
            if let Some(base) = inner.strip_suffix(&format!("-{coding}")) {
                return (format!("{weak}\"{base}\""), Some(coding));
            }
        }
    }
    (tag.to_owned(), None)
}

/// Rewrites one conditional header's tags without their coding suffix; returns the codings seen.
fn strip_codings(headers: &mut HeaderMap, name: HeaderName) -> Vec<(String, &'static str)> {
    let mut seen = Vec::new();
    let values: Vec<String> = headers
        .get_all(&name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(str::to_owned)
        .collect();
    if values.is_empty() {
        return seen;
    }
    let rewritten: Vec<String> = values
        .iter()
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|tag| !tag.is_empty())
        .map(|tag| {
            let (base, coding) = split_coding(tag);
            if let Some(coding) = coding {
                seen.push((base.clone(), coding));
            }
            base
        })
        .collect();
    if let Ok(value) = HeaderValue::from_str(&rewritten.join(", ")) {
        headers.insert(name, value);
    }
    seen
}

fn with_coding(tag: &str, coding: &str) -> Option<HeaderValue> {
    let (weak, opaque) = match tag.strip_prefix("W/") {
        Some(rest) => ("W/", rest),
        None => ("", tag),
    };
    let inner = opaque.strip_prefix('"')?.strip_suffix('"')?;
    HeaderValue::from_str(&format!("{weak}\"{inner}-{coding}\"")).ok()
}

/// Middleware, outside the compression layer: see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct EncodingEtags;

impl Around for EncodingEtags {
    /// The tags the request sent with a coding's suffix, without it, and that coding.
    type Noted = Vec<(String, &'static str)>;

    fn before(&self, request: &mut Request) -> Self::Noted {
        let mut seen = strip_codings(request.headers_mut(), IF_NONE_MATCH);
        seen.extend(strip_codings(request.headers_mut(), IF_MATCH));
        seen
    }

    fn after(&self, seen: Self::Noted, response: Response) -> Response {
        with_coding_etag(&seen, response)
    }
}

fn with_coding_etag(seen: &[(String, &'static str)], mut response: Response) -> Response {
    let headers = response.headers();
    let Some(etag) = headers.get(ETAG).and_then(|value| value.to_str().ok()) else {
        return response;
    };
    let coding = match headers
        .get(CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
    {
        Some(coding) => CODINGS.into_iter().find(|c| c.eq_ignore_ascii_case(coding)),
        // A 304 has no body to name its coding: it answers for the tag the client sent.
        None if response.status() == StatusCode::NOT_MODIFIED => seen
            .iter()
            .find(|(base, _)| base.trim_start_matches("W/") == etag.trim_start_matches("W/"))
            .map(|(_, coding)| *coding),
        None => None,
    };
    let tagged = coding
        .filter(|_| split_coding(etag).1.is_none())
        .and_then(|coding| with_coding(etag, coding));
    if let Some(value) = tagged {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings_come_off_and_go_back_on() {
        assert_eq!(split_coding("\"12-br\""), ("\"12\"".into(), Some("br")));
        assert_eq!(
            split_coding("W/\"12-gzip\""),
            ("W/\"12\"".into(), Some("gzip"))
        );
        assert_eq!(split_coding("\"12-host\""), ("\"12-host\"".into(), None));
        assert_eq!(split_coding("*"), ("*".into(), None));
        assert_eq!(
            with_coding("\"12-host\"", "br").unwrap(),
            HeaderValue::from_static("\"12-host-br\"")
        );
        assert_eq!(
            split_coding("\"12-host-br\""),
            ("\"12-host\"".into(), Some("br"))
        );
    }

    #[test]
    fn nonces_do_not_change_the_page() {
        assert_eq!(
            without_nonces(b"<script nonce=\"abc\">x</script><style nonce=\"d\">"),
            b"<script nonce=\"\">x</script><style nonce=\"\">"
        );
        assert_eq!(without_nonces(b"no scripts"), b"no scripts");
        assert_eq!(without_nonces(b"cut nonce=\"abc"), b"cut nonce=\"abc");
    }

    #[test]
    fn request_tags_are_rewritten_in_place() {
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, HeaderValue::from_static("\"3-gzip\", \"4\""));
        let seen = strip_codings(&mut headers, IF_NONE_MATCH);
        assert_eq!(headers[IF_NONE_MATCH], "\"3\", \"4\"");
        assert_eq!(seen, vec![("\"3\"".to_owned(), "gzip")]);
    }
}
