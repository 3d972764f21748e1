//! CORS, off by default: only the origins given with `--cors-origin` may call the API from their
//! pages, with the caller's cookies. Those origins also pass the cross-site check of writes.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Uri, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The origins allowed to call us from their pages, as browsers send them in `Origin`.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(Arc<Vec<String>>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an origin: write it as a browser sends it, scheme://host[:port] (e.g. https://app.example.org), with no path"
)]
pub struct CorsOriginError(String);

impl CorsOrigins {
    pub fn new(origins: Vec<String>) -> CorsOrigins {
        CorsOrigins(Arc::new(origins))
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }

    /// The layer that answers preflights and adds `Access-Control-*` headers; `None` when no
    /// origin is configured.
    pub fn layer(&self) -> Option<CorsLayer> {
        if self.0.is_empty() {
            return None;
        }
        let origins: Vec<HeaderValue> = self
            .0
            .iter()
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_credentials(true)
                .allow_methods([
                    Method::GET,
                    Method::HEAD,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::IF_MATCH,
                    header::IF_NONE_MATCH,
                    HeaderName::from_static("idempotency-key"),
                    HeaderName::from_static("last-event-id"),
                ])
                .expose_headers([
                    header::ETAG,
                    header::LOCATION,
                    header::RETRY_AFTER,
                    header::LAST_MODIFIED,
                ])
                .max_age(Duration::from_secs(600)),
        )
    }
}

/// An origin as given on the command line, in the form browsers send: `https://host[:port]`.
pub fn parse_origin(raw: &str) -> Result<String, CorsOriginError> {
    let error = || CorsOriginError(raw.to_owned());
    let trimmed = raw.trim().trim_end_matches('/');
    let uri: Uri = trimmed.parse().map_err(|_| error())?;
    let scheme = uri.scheme_str().ok_or_else(error)?;
    let authority = uri.authority().ok_or_else(error)?;
    if !matches!(scheme, "http" | "https")
        || uri
            .path_and_query()
            .is_some_and(|p| !matches!(p.as_str(), "" | "/"))
        || authority.as_str().contains('@')
    {
        return Err(error());
    }
    Ok(format!(
        "{scheme}://{}",
        authority.as_str().to_ascii_lowercase()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_as_browsers_send_them() {
        assert_eq!(
            parse_origin("https://App.Example.org/"),
            Ok("https://app.example.org".to_owned())
        );
        assert_eq!(
            parse_origin("http://localhost:5173"),
            Ok("http://localhost:5173".to_owned())
        );
        for bad in [
            "app.example.org",
            "ftp://x",
            "https://x/path",
            "*",
            "https://u@x",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
        let origins = CorsOrigins::new(vec!["https://app.example.org".into()]);
        assert!(origins.allows("https://app.example.org"));
        assert!(!origins.allows("https://evil.example"));
        assert!(CorsOrigins::default().layer().is_none());
    }
}
