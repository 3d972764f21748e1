//! Static files: the WebAssembly client, its JavaScript and CSS under `/pkg/`, and the files of
//! `public/`. They are embedded in the release binary (read from `target/site` at build time), so
//! it runs from any directory. Debug builds read the same folder from disk on every request
//! (rust-embed's debug mode): under `make dev`, what cargo-leptos has just written there is what
//! the browser gets, with no rebuild of the server.
//!
//! The `/pkg/` names carry a hash of their content (cargo-leptos `hash-files`), so they are cached
//! for a year as immutable; a new build has new names.

use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

#[derive(rust_embed::RustEmbed)]
#[folder = "target/site"]
#[allow_missing = true]
struct Site;

/// The names of the client's files in this build.
#[derive(Debug, Clone, Default)]
pub struct AssetManifest {
    /// URL of the wasm-bindgen JavaScript module, e.g. `/pkg/frase.<hash>.js`.
    pub js: Option<String>,
    /// URL of the WebAssembly module.
    pub wasm: Option<String>,
    /// URL of the stylesheet.
    pub css: Option<String>,
    /// The port of cargo-leptos' live-reload socket, in development only: pages then carry
    /// Leptos' reload script, and their policy lets it connect there.
    pub live_reload_port: Option<u16>,
}

impl AssetManifest {
    /// Finds the client's files among the embedded ones. Where a folder holds several builds
    /// (a development build's plain names beside a release's hashed ones), the newest wins.
    pub fn discover(output_name: &str) -> AssetManifest {
        let mut manifest = AssetManifest::default();
        let mut newest = [0u64; 3];
        for name in Site::iter() {
            let Some(file) = name.strip_prefix("pkg/") else {
                continue;
            };
            if !file.starts_with(output_name) || file.ends_with(".br") || file.ends_with(".gz") {
                continue;
            }
            let (slot, kind) = if file.ends_with(".js") && !file.contains("snippets") {
                (&mut manifest.js, 0)
            } else if file.ends_with(".wasm") {
                (&mut manifest.wasm, 1)
            } else if file.ends_with(".css") {
                (&mut manifest.css, 2)
            } else {
                continue;
            };
            let modified = Site::get(&name)
                .and_then(|file| file.metadata.last_modified())
                .unwrap_or(0);
            if slot.is_none() || modified >= newest[kind] {
                *slot = Some(format!("/{name}"));
                newest[kind] = modified;
            }
        }
        manifest
    }

    /// Whether the WebAssembly client is there to hydrate pages.
    pub fn has_client(&self) -> bool {
        self.js.is_some() && self.wasm.is_some()
    }
}

/// A name with a content hash in it (`frase.<hash>.wasm`): safe to cache forever.
fn is_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1].iter().any(|part| {
            part.len() >= 16
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The encodings a client accepts, from `Accept-Encoding` (an encoding with `q=0` is refused).
fn accepts(headers: &HeaderMap, encoding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(encoding) && !refused
        })
}

fn content_type(name: &str, mime: &str) -> Cow<'static, str> {
    if name.ends_with(".wasm") {
        Cow::Borrowed("application/wasm")
    } else if name.ends_with(".js") {
        Cow::Borrowed("text/javascript; charset=utf-8")
    } else if mime.starts_with("text/") && !mime.contains("charset") {
        Cow::Owned(format!("{mime}; charset=utf-8"))
    } else {
        Cow::Owned(mime.to_owned())
    }
}

/// Serves one embedded file, precompressed if the client accepts it, with validators.
fn serve(name: &str, request_headers: &HeaderMap, cache_control: &'static str) -> Option<Response> {
    let file = Site::get(name)?;
    let etag = {
        let hash = file.metadata.sha256_hash();
        let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_type(name, file.metadata.mimetype())) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let not_modified = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        });
    if not_modified {
        return Some((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let mut body = file.data;
    for (encoding, suffix) in [("br", ".br"), ("gzip", ".gz")] {
        if !accepts(request_headers, encoding) {
            continue;
        }
        if let Some(compressed) = Site::get(&format!("{name}{suffix}")) {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            body = compressed.data;
            break;
        }
    }
    // The release binary's files are `'static`: share them, never copy them per response (300
    // slow readers of the `.wasm` once held 429 MiB of copies).
    let body = match body {
        Cow::Borrowed(bytes) => Bytes::from_static(bytes),
        Cow::Owned(bytes) => Bytes::from(bytes),
    };
    Some((headers, Body::from(body)).into_response())
}

/// `GET /pkg/{*path}`.
pub async fn pkg(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let name = format!("pkg/{path}");
    let cache_control = if is_hashed(&name) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    serve(&name, &headers, cache_control)
        .unwrap_or_else(|| (StatusCode::NOT_FOUND, "no such file").into_response())
}

/// A file of `public/` (favicon, robots.txt), if `path` names one.
pub fn public_file(path: &str, headers: &HeaderMap) -> Option<Response> {
    let name = path.trim_start_matches('/');
    if name.is_empty() || name.starts_with("pkg/") {
        return None;
    }
    serve(name, headers, "max-age=3600")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("pkg/frase.Xk3bM9aQ2pL7vR1sT4uW6y.wasm"));
        assert!(!is_hashed("pkg/frase.wasm"));
        assert!(!is_hashed("pkg/frase_bg.wasm"));
        assert!(!is_hashed("favicon.ico"));
    }

    #[test]
    fn accept_encoding_respects_q_zero() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br;q=0"),
        );
        assert!(accepts(&headers, "gzip"));
        assert!(!accepts(&headers, "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
