use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use super::post_form::PostForm;
use crate::domain::{MAX_SENTENCE_WORDS_RANGE, MAX_WORD_LENGTH_RANGE, Mode, TURN_SECONDS_RANGE};
use crate::error::AppError;
use crate::i18n::{t, tr, use_locale};
use crate::live_state::{LiveRoom, display_words};
use crate::server_fns::{
    ClearSentence, ConfigureRoom, DeleteRoom, EndSentence, FixWord, LockRoom, RemoveWord,
    StartRound,
};

/// The host's controls: the room's name and rules, lock or open it, start a round of `turns`,
/// end or clear the sentence, remove or fix any word, delete the room.
/// Each is a [`PostForm`] posting to its server function, so it works without JavaScript (and
/// comes back with a 303); with JavaScript the client sends the form's fields, and every screen
/// sees the result through the event stream. One report says how the last one went.
#[component]
pub fn HostConsole(live: LiveRoom, csrf: String) -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let locale = use_locale();
    let room = live.slug.get_value();
    let locked = move || live.settings.with(|settings| settings.locked);
    let words = Memo::new(move |_| live.words.with(|words| display_words(words)));
    // Whatever fails, the message says why; success shows itself through the live events (and
    // clears the last message). A deleted room's page has nothing left to show: back to the
    // lobby.
    let report = Callback::new(
        move |(path, outcome): (&'static str, Result<(), AppError>)| {
            if path == DeleteRoom::PATH && outcome.is_ok() {
                go_to_lobby();
            }
            error.set(
                outcome
                    .err()
                    .map(|refused| error_message(locale, &refused.code, 0)),
            );
        },
    );

    // Every form's own fields: the room, and the token a form posted without JavaScript needs.
    let fields = StoredValue::new((room.clone(), csrf));
    let hidden = move || {
        let (room, csrf) = fields.get_value();
        view! {
            <input type="hidden" name="room" value=room/>
            <input type="hidden" name="csrf" value=csrf/>
        }
    };
    // The settings form starts from the room as it is; the live `room` event keeps it current.
    let settings = live.settings;
    let turns = move || settings.with(|settings| settings.mode == Mode::Turns);
    let present = format!("/r/{room}/present");
    view! {
        <section id="host-console" class="host-console" aria-labelledby="host-heading">
            <div class="host-top">
                <h2 id="host-heading">{t("host-heading")}</h2>
                <a id="host-present-link" class="button" href=present target="_blank">
                    {t("room-present-link")}
                </a>
            </div>
            <p id="host-error" class="error" role="alert">{move || error.get()}</p>
            <div class="host-groups">
                <section class="host-group" aria-labelledby="host-play-heading">
                    <h3 id="host-play-heading">{t("host-group-play")}</h3>
                    <div class="host-buttons">
                        <PostForm action=LockRoom::PATH report id="lock-form">
                            {hidden()}
                            <input type="hidden" name="locked" value=move || (!locked()).to_string()/>
                            <button type="submit" class="secondary" aria-pressed=move || locked().to_string()>
                                {move || tr(locale, if locked() { "host-open" } else { "host-lock" }, &[])}
                            </button>
                        </PostForm>
                        <PostForm action=StartRound::PATH report id="round-form" class:hidden=move || !turns()>
                            {hidden()}
                            <button type="submit">
                                {move || if live.turn.with(Option::is_some) {
                                    tr(locale, "host-start-another-round", &[])
                                } else {
                                    tr(locale, "host-start-round", &[])
                                }}
                            </button>
                        </PostForm>
                        <PostForm action=EndSentence::PATH report id="end-form">
                            {hidden()}
                            <button type="submit">{t("host-end-sentence")}</button>
                        </PostForm>
                    </div>
                </section>
                <section class="host-group" aria-labelledby="host-words-heading">
                    <h3 id="host-words-heading">{t("host-group-words")}</h3>
                    <PostForm action=RemoveWord::PATH report id="remove-form">
                        {hidden()}
                        <label for="remove-word">{t("host-remove-label")}</label>
                        <div class="row">
                            <WordChoice id="remove-word" words/>
                            <button type="submit" class="secondary">{t("host-remove")}</button>
                        </div>
                    </PostForm>
                    <PostForm action=FixWord::PATH report id="fix-form">
                        {hidden()}
                        <label for="fix-word">{t("host-fix-label")}</label>
                        <div class="row">
                            <WordChoice id="fix-word" words/>
                            <input name="text" type="text" required
                                maxlength=crate::domain::MAX_WORD_LENGTH_RANGE.end().to_string()
                                aria-label=t("host-fix-text-label") autocomplete="off"/>
                            <button type="submit" class="secondary">{t("host-fix")}</button>
                        </div>
                    </PostForm>
                </section>
                <section class="host-group" aria-labelledby="host-settings-heading">
                    <h3 id="host-settings-heading">{t("host-group-settings")}</h3>
                    <PostForm action=ConfigureRoom::PATH report id="settings-form" attr:class="settings">
                        {hidden()}
                        <label for="settings-title">{t("host-settings-title")}</label>
                        <input id="settings-title" name="title" type="text" required
                            maxlength=crate::domain::ROOM_TITLE_MAX_CHARS.to_string()
                            value=live.title.get_untracked()/>
                        <div class="fields">
                            <NumberField label="host-settings-word-length" name="max_word_length"
                                range=MAX_WORD_LENGTH_RANGE
                                value=settings.with_untracked(|s| s.max_word_length)/>
                            <NumberField label="host-settings-sentence-words" name="max_sentence_words"
                                range=MAX_SENTENCE_WORDS_RANGE
                                value=settings.with_untracked(|s| s.max_sentence_words)/>
                            <label>
                                {t("host-settings-mode")}
                                <select name="mode">
                                    <option value="open" selected=move || !turns()>{t("host-mode-open")}</option>
                                    <option value="turns" selected=turns>{t("host-mode-turns")}</option>
                                </select>
                            </label>
                            <NumberField label="host-settings-turn-seconds" name="turn_seconds"
                                range=TURN_SECONDS_RANGE
                                value=settings.with_untracked(|s| s.turn_seconds)/>
                        </div>
                        <label class="check">
                            <input name="no_double_turn" type="checkbox"
                                checked=settings.with_untracked(|s| s.no_double_turn)/>
                            {t("host-settings-no-double-turn")}
                        </label>
                        <button type="submit">{t("host-settings-save")}</button>
                    </PostForm>
                </section>
                // What cannot be undone takes two steps: open, then confirm.
                <section class="host-group danger-zone" aria-labelledby="host-danger-heading">
                    <h3 id="host-danger-heading">{t("host-group-danger")}</h3>
                    <details id="clear-confirm">
                        <summary>{t("host-clear")}"…"</summary>
                        <p class="hint">{t("host-clear-warning")}</p>
                        <PostForm action=ClearSentence::PATH report id="clear-form">
                            {hidden()}
                            <button type="submit" class="danger">{t("host-clear-confirm")}</button>
                        </PostForm>
                    </details>
                    <details id="delete-confirm">
                        <summary>{t("host-delete")}"…"</summary>
                        <p class="hint">{t("host-delete-warning")}</p>
                        <PostForm action=DeleteRoom::PATH report id="delete-form">
                            {hidden()}
                            <button type="submit" class="danger">{t("host-delete-confirm")}</button>
                        </PostForm>
                    </details>
                </section>
            </div>
        </section>
    }
}

/// A labelled whole number of the settings form, within the limits the domain sets for it.
#[component]
fn NumberField(
    label: &'static str,
    name: &'static str,
    range: std::ops::RangeInclusive<u32>,
    value: u32,
) -> impl IntoView {
    view! {
        <label>
            {t(label)}
            <input name=name type="number" required min=*range.start() max=*range.end() value=value/>
        </label>
    }
}

/// A choice of one word of the open sentence (its id is the value), kept current live.
#[component]
fn WordChoice(id: &'static str, words: Memo<Vec<crate::live_state::DisplayWord>>) -> impl IntoView {
    view! {
        <select id=id name="id" required>
            <For
                each=move || words.get()
                key=|word| (word.id, word.text.clone())
                let:word
            >
                <option value=word.id>{word.text.clone()}</option>
            </For>
        </select>
    }
}

/// Leaves a deleted room's page for the lobby.
fn go_to_lobby() {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.location().assign("/");
    }
}
