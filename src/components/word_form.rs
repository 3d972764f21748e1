use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use crate::domain::Word;
use crate::error::AppError;
use crate::live_state::LiveRoom;
use crate::server_fns::AddWord;

/// The one-word input. With JavaScript it checks the word with the same rules as the server
/// before sending it through the `add_word` server function; without JavaScript it is a plain
/// form post to the same function, which answers with a redirect back here.
#[component]
pub fn WordForm(live: LiveRoom, returned_error: Option<String>) -> impl IntoView {
    let add = ServerAction::<AddWord>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    let max_length = move || {
        live.settings
            .with_untracked(|settings| settings.max_word_length)
    };
    let error = RwSignal::new(returned_error.map(|code| error_message(&code, max_length())));

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(element) = input.get_untracked() else {
            return;
        };
        let text = element.value();
        match Word::parse(&text, max_length() as usize) {
            Err(invalid) => {
                let code = AppError::from(invalid).code;
                error.set(Some(error_message(&code, max_length())));
            }
            Ok(_) => {
                error.set(None);
                add.dispatch(AddWord {
                    room: live.slug.get_value(),
                    text,
                });
            }
        }
    };

    // The word itself arrives through the event stream, like everyone else's; the answer only
    // clears the input or shows why the word was refused.
    Effect::new(move |_| match add.value().get() {
        Some(Ok(_)) => {
            if let Some(element) = input.get_untracked() {
                element.set_value("");
                let _ = element.focus();
            }
        }
        Some(Err(refused)) => error.set(Some(error_message(&refused.code, max_length()))),
        None => {}
    });

    view! {
        <form id="word-form" class="word-form" method="post" action=AddWord::PATH on:submit=on_submit>
            <input type="hidden" name="room" value=live.slug.get_value()/>
            <label for="word-input">"Tu palabra"</label>
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
                <button type="submit">"Añadir"</button>
            </div>
            <p id="word-error" class="error" role="alert">{move || error.get()}</p>
        </form>
    }
}
