//! [`PostForm`]: a form posting to a server function, with or without JavaScript.

use leptos::prelude::*;

use crate::error::AppError;

/// A form that posts to a server function: what `<ActionForm>` renders (a form the server
/// function answers, when posted without JavaScript, with a 303 back to the page), with one
/// submit path for every such form in the browser: the form's fields, as the browser would post
/// them, sent with [`fetch::call`](crate::fetch::call) (an `Idempotency-Key`, shown in the HTTP
/// lens), and `(action, answer)` passed to `report`.
///
/// Not `<ActionForm>` itself: each `ActionForm<S>` compiles its own form decoder, request encoder
/// and answer decoder into the client; the host console's eight weighed ~60 KB of the `.wasm` as
/// served (issue 21).
#[component]
pub fn PostForm(
    /// The server function's path (`S::PATH`).
    action: &'static str,
    id: &'static str,
    report: Callback<(&'static str, Result<(), AppError>)>,
    children: Children,
) -> impl IntoView {
    let lens = use_context::<crate::lens::Lens>();
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submit(action, &event, lens, report);
    };
    view! {
        <form id=id method="post" action=action on:submit=on_submit>
            {children()}
        </form>
    }
}

#[cfg(feature = "hydrate")]
fn submit(
    action: &'static str,
    event: &leptos::ev::SubmitEvent,
    lens: Option<crate::lens::Lens>,
    report: Callback<(&'static str, Result<(), AppError>)>,
) {
    let fields = crate::fetch::submitted_fields(event);
    leptos::task::spawn_local(async move {
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let outcome = crate::fetch::call::<serde::de::IgnoredAny>(action, &fields, lens).await;
        report.run((action, outcome.map(drop)));
    });
}

/// On the server the forms are only rendered; submitting happens in the browser.
#[cfg(not(feature = "hydrate"))]
fn submit(
    _action: &'static str,
    _event: &leptos::ev::SubmitEvent,
    _lens: Option<crate::lens::Lens>,
    _report: Callback<(&'static str, Result<(), AppError>)>,
) {
}
