use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use crate::domain::Word;
use crate::error::AppError;
use crate::i18n::{t, use_locale};
use crate::lens::Lens;
use crate::live_state::LiveRoom;
use crate::server_fns::AddWord;

/// The one-word input. With JavaScript it checks what it can of the word without Unicode's tables
/// (`Word::precheck`: emptiness, spaces, markup, length) before sending it to the `add_word`
/// server function (with an `Idempotency-Key`, shown in the HTTP lens), whose refusal of the
/// rest reads the same; without JavaScript it is a plain form post to the same function, which
/// answers with a redirect back here.
#[component]
pub fn WordForm(live: LiveRoom, returned_error: Option<String>, csrf: String) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let max_length = move || {
        live.settings
            .with_untracked(|settings| settings.max_word_length)
    };
    let locale = use_locale();
    let error =
        RwSignal::new(returned_error.map(|code| error_message(locale, &code, max_length())));
    let pending = RwSignal::new(false);
    let lens = use_context::<Lens>();

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(element) = input.get_untracked() else {
            return;
        };
        let text = element.value();
        match Word::precheck(&text, max_length() as usize) {
            Err(invalid) => {
                let code = AppError::from(invalid).code;
                error.set(Some(error_message(locale, &code, max_length())));
            }
            Ok(_) => {
                error.set(None);
                send(
                    live.slug.get_value(),
                    text,
                    input,
                    error,
                    pending,
                    lens,
                    max_length(),
                );
            }
        }
    };

    view! {
        <form id="word-form" class="word-form" method="post" action=AddWord::PATH on:submit=on_submit>
            <input type="hidden" name="room" value=live.slug.get_value()/>
            <input type="hidden" name="csrf" value=csrf/>
            <label for="word-input">{t("word-label")}</label>
            <div class="row">
                <input
                    id="word-input"
                    name="text"
                    type="text"
                    required
                    autocomplete="off"
                    autocapitalize="none"
                    spellcheck="false"
                    enterkeyhint="send"
                    aria-describedby="word-error"
                    node_ref=input
                />
                <button type="submit" aria-busy=move || pending.get().to_string()>{t("word-submit")}</button>
            </div>
            <p id="word-error" class="error" role="alert">{move || error.get()}</p>
        </form>
    }
}

/// Sends the word. The word itself arrives through the event stream, like everyone else's; the
/// answer only clears the input or shows why the word was refused.
#[cfg(feature = "hydrate")]
fn send(
    room: String,
    text: String,
    input: NodeRef<leptos::html::Input>,
    error: RwSignal<Option<String>>,
    pending: RwSignal<bool>,
    lens: Option<Lens>,
    max_length: u32,
) {
    pending.set(true);
    leptos::task::spawn_local(async move {
        let result = crate::fetch::call::<crate::model::WordView>(
            AddWord::PATH,
            &[("room", room.as_str()), ("text", text.as_str())],
            lens,
        )
        .await;
        pending.set(false);
        match result {
            Ok(_) => {
                if let Some(element) = input.get_untracked() {
                    element.set_value("");
                    let _ = element.focus();
                }
            }
            Err(refused) => {
                // The language the page was rendered in (`<html lang>`).
                let locale = crate::i18n::page_locale();
                error.set(Some(error_message(locale, &refused.code, max_length)))
            }
        }
    });
}

/// On the server the form is only rendered; submitting happens in the browser.
#[cfg(not(feature = "hydrate"))]
fn send(
    _room: String,
    _text: String,
    _input: NodeRef<leptos::html::Input>,
    _error: RwSignal<Option<String>>,
    _pending: RwSignal<bool>,
    _lens: Option<Lens>,
    _max_length: u32,
) {
}
