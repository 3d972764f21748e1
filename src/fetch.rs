//! The WebAssembly client's calls to server functions, made with `fetch` directly so that each
//! one carries an `Idempotency-Key` (a retried click never doubles a word) and shows up in the
//! HTTP lens with its status, headers and timing.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::error::AppError;
use crate::i18n::Message;
use crate::lens::{Lens, LensEntry};

/// The response headers the lens shows.
const SHOWN_HEADERS: [&str; 6] = [
    "content-type",
    "etag",
    "cache-control",
    "location",
    "idempotent-replayed",
    "retry-after",
];

/// How often a call is tried when the network fails (same key each time).
const ATTEMPTS: u32 = 3;

/// Whether `body` is the error of a retry that arrived while the first request is still running.
fn is_in_flight(body: &str) -> bool {
    serde_json::from_str::<AppError>(body)
        .is_ok_and(|error| error.code == crate::error::codes::IDEMPOTENCY_KEY_IN_FLIGHT)
}

async fn sleep_ms(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// A fresh idempotency key: 128 random bits as hex (`crypto.getRandomValues`, which, unlike
/// `randomUUID`, works on plain-HTTP LAN addresses too).
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    if let Some(crypto) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = crypto.get_random_values_with_u8_array(&mut bytes);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The fields of the form a submit event sends, named and valued as the browser would post them
/// without JavaScript (checkboxes, selects and the submitting form's hidden fields included).
pub fn submitted_fields(event: &web_sys::SubmitEvent) -> Vec<(String, String)> {
    let Some(form) = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok())
    else {
        return Vec::new();
    };
    let Ok(data) = web_sys::FormData::new_with_form(&form) else {
        return Vec::new();
    };
    let Ok(Some(entries)) = js_sys::try_iter(&data) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pair: js_sys::Array = entry.dyn_into().ok()?;
            Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
        })
        .collect()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                js_sys::encode_uri_component(name),
                js_sys::encode_uri_component(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs form fields to a server function and decodes its JSON answer: `T` on success, the
/// [`AppError`] it sent otherwise. Network failures are retried with the same key.
pub async fn call<T: serde::de::DeserializeOwned>(
    path: &str,
    fields: &[(&str, &str)],
    lens: Option<Lens>,
) -> Result<T, AppError> {
    let key = new_key();
    let mut last_error = AppError::unavailable(Message::new("problem-unreachable"));
    for _ in 0..ATTEMPTS {
        match exchange(path, Some((fields, &key)), lens).await {
            // An earlier attempt whose answer was lost is still running on the server: wait for
            // it, then ask again with the same key to get its response.
            Ok((409, body)) if is_in_flight(&body) => {
                last_error = AppError::unavailable(Message::new("problem-still-busy"));
                sleep_ms(500).await;
            }
            Ok((status, body)) => {
                return if (200..300).contains(&status) {
                    serde_json::from_str(&body).map_err(|e| {
                        AppError::bad_response(
                            status,
                            Message::new("problem-bad-response").arg("reason", e),
                        )
                    })
                } else {
                    Err(serde_json::from_str(&body).unwrap_or_else(|_| {
                        AppError::unexpected_response(
                            status,
                            Message::new("problem-unexpected-response").arg("reason", body),
                        )
                    }))
                };
            }
            Err(error) => last_error = error,
        }
    }
    Err(last_error)
}

/// GETs a JSON document (through the browser's cache, which revalidates it with its `ETag`):
/// `None` when it cannot be had or read.
pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str, lens: Option<Lens>) -> Option<T> {
    match exchange(path, None, lens).await {
        Ok((200, body)) => serde_json::from_str(&body).ok(),
        _ => None,
    }
}

/// One request: a GET, or a POST of form fields with an idempotency key; answers the status and
/// the body, and shows the exchange in the lens.
async fn exchange(
    path: &str,
    post: Option<(&[(&str, &str)], &str)>,
    lens: Option<Lens>,
) -> Result<(u16, String), AppError> {
    let unreachable = |_| AppError::unavailable(Message::new("problem-unreachable"));
    let window = web_sys::window()
        .ok_or_else(|| AppError::unavailable(Message::new("problem-unreachable")))?;
    let init = RequestInit::new();
    let method = if post.is_some() { "POST" } else { "GET" };
    init.set_method(method);
    if let Some((fields, _)) = post {
        init.set_body(&wasm_bindgen::JsValue::from_str(&form_body(fields)));
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(unreachable)?;
    let headers = request.headers();
    let _ = headers.set("Accept", "application/json");
    if let Some((_, key)) = post {
        let _ = headers.set("Content-Type", "application/x-www-form-urlencoded");
        let _ = headers.set("Idempotency-Key", key);
    }
    let started = now_ms();
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(unreachable)?
        .dyn_into()
        .map_err(unreachable)?;
    let text = JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    let status = response.status();
    if let Some(lens) = lens {
        let mut shown: Vec<(String, String)> = post
            .map(|(_, key)| ("idempotency-key".to_owned(), key.to_owned()))
            .into_iter()
            .collect();
        for name in SHOWN_HEADERS {
            if let Ok(Some(value)) = response.headers().get(name) {
                shown.push((name.to_owned(), value));
            }
        }
        lens.record(LensEntry {
            seq: 0,
            method: method.into(),
            target: path.to_owned(),
            status: status.to_string(),
            headers: shown,
            millis: Some(now_ms() - started),
        });
    }
    Ok((status, text))
}
