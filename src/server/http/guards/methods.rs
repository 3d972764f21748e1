//! Method semantics on every path (RFC 9110 §9): `OPTIONS` answers 204 with the path's `Allow`;
//! a method a path does not support is 405 with `Allow`; `TRACE` and `CONNECT` are always
//! refused with 405 and never echo anything back. (`HEAD` is `GET` without a body: the router
//! does that for every `GET` route.)
//!
//! What each path allows comes from one table ([`ROUTES`]), matched like the router matches;
//! the method matrix test checks the table against the router.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};

use crate::error::AppError;
use crate::i18n::Message;

/// The routes with methods beyond `GET`/`HEAD`, or under `/api/`, and what they allow
/// (`OPTIONS` is added to each). Every other path is a page or a file: [`DOCUMENT`].
pub const ROUTES: &[(&str, &str)] = &[
    ("/api/rooms", "POST"),
    ("/api/rooms/{slug}", "GET, HEAD, PUT, PATCH, DELETE"),
    ("/api/rooms/{slug}/words", "GET, HEAD, POST"),
    ("/api/rooms/{slug}/words/{id}", "GET, HEAD, PATCH, DELETE"),
    ("/api/rooms/{slug}/sentence/end", "POST"),
    ("/api/rooms/{slug}/round/start", "POST"),
    ("/api/rooms/{slug}/story", "GET, HEAD"),
    ("/api/rooms/{slug}/events", "GET, HEAD"),
    ("/api/me", "GET, HEAD, PATCH"),
    ("/api/openapi.json", "GET, HEAD"),
];

/// What a server function allows: each takes its arguments as a form.
const SERVER_FUNCTION: &str = "POST";

/// What a page, a file or any other path allows.
const DOCUMENT: &str = "GET, HEAD";

/// The `Allow` of each path.
#[derive(Debug)]
pub struct AllowTable {
    router: matchit::Router<&'static str>,
}

impl AllowTable {
    pub fn new() -> AllowTable {
        let mut router = matchit::Router::new();
        for (path, methods) in ROUTES {
            // The table is static and its patterns distinct: inserting cannot fail.
            let _ = router.insert(*path, *methods);
        }
        for (path, _method) in leptos::server_fn::axum::server_fn_paths() {
            let _ = router.insert(path, SERVER_FUNCTION);
        }
        AllowTable { router }
    }

    /// The methods of `path`, `OPTIONS` included; `None` for an unknown path under `/api/`.
    pub fn allow(&self, path: &str) -> Option<String> {
        match self.router.at(path) {
            Ok(found) => Some(format!("{}, OPTIONS", found.value)),
            Err(_) if path.starts_with("/api/") => None,
            Err(_) => Some(format!("{DOCUMENT}, OPTIONS")),
        }
    }
}

impl Default for AllowTable {
    fn default() -> AllowTable {
        AllowTable::new()
    }
}

fn with_allow(mut response: Response, allow: &str) -> Response {
    response.headers_mut().remove(header::ALLOW);
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

pub async fn method_semantics(
    State(table): State<std::sync::Arc<AllowTable>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    // Most requests are neither `OPTIONS`, `TRACE` nor `CONNECT`, and are answered by their route:
    // their path's `Allow` is looked up only if that answer is a 405.
    if !matches!(method, Method::OPTIONS | Method::TRACE | Method::CONNECT) {
        let uri = request.uri().clone();
        let response = next.run(request).await;
        if response.status() != StatusCode::METHOD_NOT_ALLOWED {
            return response;
        }
        return match table.allow(uri.path()) {
            Some(allow) => with_allow(response, &allow),
            None => response,
        };
    }
    let path = request.uri().path();
    let allow = table.allow(path);
    if method != Method::OPTIONS {
        // `TRACE` or `CONNECT`: refused without reading or repeating anything of the request.
        let problem = AppError::method_not_allowed(
            Message::new("problem-method-never").arg("method", &method),
        );
        return with_allow(
            problem.into_response(),
            &allow.unwrap_or_else(|| "OPTIONS".into()),
        );
    }
    match allow {
        Some(allow) => with_allow(StatusCode::NO_CONTENT.into_response(), &allow),
        None => AppError::not_found(
            "not-found",
            Message::new("problem-not-found").arg("path", path),
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_their_methods() {
        let table = AllowTable::new();
        assert_eq!(table.allow("/api/rooms").as_deref(), Some("POST, OPTIONS"));
        assert_eq!(
            table.allow("/api/rooms/main").as_deref(),
            Some("GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
        );
        assert_eq!(
            table.allow("/api/rooms/main/words/7").as_deref(),
            Some("GET, HEAD, PATCH, DELETE, OPTIONS")
        );
        assert_eq!(
            table.allow("/api/fn/add_word").as_deref(),
            Some("POST, OPTIONS")
        );
        assert_eq!(table.allow("/api/fn/no_such_function"), None);
        assert_eq!(
            table.allow("/r/main").as_deref(),
            Some("GET, HEAD, OPTIONS")
        );
        assert_eq!(table.allow("/api/nothing"), None);
    }
}
