//! The reader's language, per request: the `frase_lang` cookie the page's language switch sets,
//! else `Accept-Language`, else Spanish ([`Locale::choose`]).
//!
//! The middleware puts the [`Locale`] into the request's extensions, where the page rendering
//! (`i18n::page_locale`) and the server functions find it. On the way back it renders every
//! problem+json response in that language: an [`AppError`] is made deep in the service, far
//! from the request, so its response carries the error itself (see `problem.rs`) and its body
//! is written again here, with the same `type`, `status` and `code`.

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};

use super::around::Around;
use crate::error::AppError;
use crate::i18n::{self, Locale};

/// The reader's language for a request with these headers.
pub fn request_locale(headers: &HeaderMap) -> Locale {
    let header = |name| {
        headers
            .get_all(&name)
            .iter()
            .filter_map(|value: &HeaderValue| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(if name == header::COOKIE { "; " } else { ", " })
    };
    let cookies = header(header::COOKIE);
    let accept_language = header(header::ACCEPT_LANGUAGE);
    Locale::choose(
        i18n::cookie(&cookies, i18n::COOKIE),
        Some(accept_language.as_str()).filter(|value| !value.is_empty()),
    )
}

/// The `Set-Cookie` of the language switch: a session cookie (no `Max-Age`) for the whole site.
pub fn language_cookie(locale: Locale, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{}={}; Path=/; SameSite=Lax; HttpOnly{secure}",
        i18n::COOKIE,
        locale.tag()
    )
}

fn is_translated(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with("text/html") || value.starts_with(super::problem::PROBLEM_JSON)
        })
}

/// Middleware: negotiates the language, and answers problems and pages in it.
#[derive(Debug, Clone, Copy)]
pub struct Negotiate;

impl Around for Negotiate {
    type Noted = Locale;

    fn before(&self, request: &mut Request) -> Locale {
        let locale = request_locale(request.headers());
        request.extensions_mut().insert(locale);
        locale
    }

    fn after(&self, locale: Locale, response: Response) -> Response {
        in_locale(locale, response)
    }
}

fn in_locale(locale: Locale, mut response: Response) -> Response {
    // Made in Spanish: only another language needs the body written again.
    if let Some(error) = response.extensions_mut().remove::<AppError>()
        && locale != Locale::default()
    {
        let (mut parts, _) = response.into_parts();
        let (translated, body) = error.localized(locale).into_response().into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Some(content_type) = translated.headers.get(header::CONTENT_TYPE) {
            parts
                .headers
                .insert(header::CONTENT_TYPE, content_type.clone());
        }
        response = Response::from_parts(parts, Body::new(body));
        response.extensions_mut().remove::<AppError>();
    }
    if is_translated(response.headers()) {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-language"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_read_among_others_and_wins() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("en-GB"));
        assert_eq!(request_locale(&headers), Locale::En);
        headers.append(header::COOKIE, HeaderValue::from_static("frase_session=x"));
        headers.append(header::COOKIE, HeaderValue::from_static("frase_lang=es"));
        assert_eq!(request_locale(&headers), Locale::Es);
        assert_eq!(request_locale(&HeaderMap::new()), Locale::Es);
        assert_eq!(
            language_cookie(Locale::En, false),
            "frase_lang=en; Path=/; SameSite=Lax; HttpOnly"
        );
    }
}
