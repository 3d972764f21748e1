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

/// The document title of a page whose room can be renamed while it is open.
///
/// The server renders the title as plain text: `<Title>` given a closure over a signal is read
/// by leptos_meta after the page's reactive owner may already be disposed, which panicked when
/// many requests rendered at once (issue 17). In the browser an effect follows renames.
#[leptos::component]
pub fn LiveTitle(
    title: leptos::prelude::RwSignal<String>,
    /// Builds the whole title from the room's title.
    format: fn(&str, &str) -> String,
    /// The second argument of `format` (a page's suffix, already translated).
    #[prop(optional, into)]
    suffix: String,
) -> impl leptos::IntoView {
    use leptos::prelude::*;
    let initial = title.with_untracked(|title| format(title, &suffix));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let text = title.with(|title| format(title, &suffix));
        if let Some(document) = web_sys::window().and_then(|window| window.document()) {
            document.set_title(&text);
        }
    });
    view! { <leptos_meta::Title text=initial/> }
}
