use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use crate::error::AppError;
use crate::i18n::{t, use_locale};
use crate::live_state::LiveRoom;
use crate::model::WordView;
use crate::server_fns::{FixWord, RemoveWord};

/// When the last word of the sentence is the caller's: undo it, or fix a typo in it (the server
/// allows a fix in the first 30 s and an undo while it is still the last word), and, when the
/// room's turn rule is on, that the next word must be someone else's. It sits at the foot of the
/// sentence's panel (see [`Sentence`](super::sentence::Sentence)), so that its coming and going
/// moves nothing below.
#[component]
pub fn MyWord(live: LiveRoom, me: String, csrf: String) -> impl IntoView {
    let mine = Memo::new(move |_| {
        live.words
            .with(|words| words.last().filter(|word| word.author.id == me).cloned())
    });
    let undo = ServerAction::<RemoveWord>::new();
    let fix = ServerAction::<FixWord>::new();
    let error = RwSignal::new(None::<String>);
    let locale = use_locale();
    let max_length = move || live.settings.with_untracked(|s| s.max_word_length);
    let report = move |result: Option<Result<(), AppError>>| {
        if let Some(result) = result {
            error.set(
                result
                    .err()
                    .map(|refused| error_message(locale, &refused.code, max_length())),
            );
        }
    };
    Effect::new(move |_| report(undo.value().get()));
    Effect::new(move |_| report(fix.value().get().map(|r| r.map(drop))));
    // With the turn rule on, the next word must be someone else's: said before the player types.
    let must_wait = move || live.settings.with(|settings| settings.no_double_turn);
    let room = live.slug.get_value();
    let fixed_text = NodeRef::<leptos::html::Input>::new();

    let form = move |word: WordView| {
        let (room, csrf) = (room.clone(), csrf.clone());
        let id = word.id;
        let on_undo = {
            let room = room.clone();
            move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                undo.dispatch(RemoveWord {
                    room: room.clone(),
                    id,
                });
            }
        };
        let on_fix = {
            let room = room.clone();
            move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                let text = fixed_text
                    .get_untracked()
                    .map(|input| input.value())
                    .unwrap_or_default();
                fix.dispatch(FixWord {
                    room: room.clone(),
                    id,
                    text,
                });
            }
        };
        view! {
            <div id="my-word" class="my-word">
                <span>{t("my-word")}" "<strong>{word.text.clone()}</strong></span>
                <form id="undo-form" method="post" action=RemoveWord::PATH on:submit=on_undo>
                    <input type="hidden" name="room" value=room.clone()/>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit">{t("my-word-undo")}</button>
                </form>
                <form id="my-fix-form" method="post" action=FixWord::PATH on:submit=on_fix>
                    <input type="hidden" name="room" value=room.clone()/>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="id" value=id/>
                    <label class="visually-hidden" for="fix-text">{t("my-word-fixed-label")}</label>
                    <input id="fix-text" name="text" type="text" required autocomplete="off"
                        autocapitalize="none" spellcheck="false" value=word.text.clone()
                        node_ref=fixed_text/>
                    <button type="submit">{t("my-word-fix")}</button>
                </form>
                <p id="wait-hint" class="hint" class:hidden=move || !must_wait()>
                    {t("my-word-wait")}
                </p>
            </div>
        }
    };
    view! {
        <div class="my-word-bar">
            {move || mine.get().map(form.clone())}
            <p id="my-word-error" class="error" role="alert">{move || error.get()}</p>
        </div>
    }
}
