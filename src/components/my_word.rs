use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use super::post_form::PostForm;
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
    let error = RwSignal::new(None::<String>);
    let locale = use_locale();
    let max_length = move || live.settings.with_untracked(|s| s.max_word_length);
    let report = Callback::new(move |(_, outcome): (&'static str, Result<(), AppError>)| {
        error.set(
            outcome
                .err()
                .map(|refused| error_message(locale, &refused.code, max_length())),
        );
    });
    // With the turn rule on, the next word must be someone else's: said before the player types.
    let must_wait = move || live.settings.with(|settings| settings.no_double_turn);
    let fields = StoredValue::new((live.slug.get_value(), csrf));

    let form = move |word: WordView| {
        let id = word.id;
        // Each form's own fields: the room, the token a form posted without JavaScript needs,
        // and the word.
        let hidden = move || {
            let (room, csrf) = fields.get_value();
            view! {
                <input type="hidden" name="room" value=room/>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="id" value=id/>
            }
        };
        view! {
            <div id="my-word" class="my-word">
                <span>{t("my-word")}" "<strong>{word.text.clone()}</strong></span>
                <PostForm action=RemoveWord::PATH id="undo-form" report>
                    {hidden()}
                    <button type="submit">{t("my-word-undo")}</button>
                </PostForm>
                <PostForm action=FixWord::PATH id="my-fix-form" report>
                    {hidden()}
                    <label class="visually-hidden" for="fix-text">{t("my-word-fixed-label")}</label>
                    <input id="fix-text" name="text" type="text" required autocomplete="off"
                        autocapitalize="none" spellcheck="false" value=word.text.clone()/>
                    <button type="submit">{t("my-word-fix")}</button>
                </PostForm>
                <p id="wait-hint" class="hint" class:hidden=move || !must_wait()>
                    {t("my-word-wait")}
                </p>
            </div>
        }
    };
    view! {
        <div class="my-word-bar">
            {move || mine.get().map(form)}
            <p id="my-word-error" class="error" role="alert">{move || error.get()}</p>
        </div>
    }
}
