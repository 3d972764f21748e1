//! The pages: the lobby, a room, its projector view, its story, and "not found".

pub mod lobby;
pub mod not_found;
pub mod present;
pub mod room;
pub mod story;

/// Sets the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_status(status: u16) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(status)
    {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = status;
}

/// Keeps the document's title (`format` builds it from the room's title) in step with a room's
/// `title` (renamed while the page is open), in the browser; the server rendered the first one with a `<Title>` outside the page's island
/// (leptos_meta's context does not reach into islands).
pub fn follow_title(
    title: leptos::prelude::RwSignal<String>,
    format: impl Fn(&str) -> String + 'static,
) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::*;
        Effect::new(move |_| {
            let text = title.with(|title| format(title));
            if let Some(document) = web_sys::window().and_then(|window| window.document()) {
                document.set_title(&text);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (title, format);
}
