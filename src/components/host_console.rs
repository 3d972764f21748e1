use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
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
/// Each is a form posting to its server function, so it works without JavaScript (and comes
/// back with a 303); with JavaScript the form is sent by the client and every screen sees the
/// result through the event stream.
#[component]
pub fn HostConsole(live: LiveRoom, csrf: String) -> impl IntoView {
    let lock = ServerAction::<LockRoom>::new();
    let end = ServerAction::<EndSentence>::new();
    let remove = ServerAction::<RemoveWord>::new();
    let delete = ServerAction::<DeleteRoom>::new();
    let configure = ServerAction::<ConfigureRoom>::new();
    let start_round = ServerAction::<StartRound>::new();
    let fix = ServerAction::<FixWord>::new();
    let clear = ServerAction::<ClearSentence>::new();
    let error = RwSignal::new(None::<String>);
    let locale = use_locale();
    let room = live.slug.get_value();
    let locked = move || live.settings.with(|settings| settings.locked);
    let words = Memo::new(move |_| live.words.with(|words| display_words(words)));

    // Whatever fails, the message says why; success shows itself through the live events.
    let report = move |result: Option<Result<(), AppError>>| {
        if let Some(result) = result {
            error.set(
                result
                    .err()
                    .map(|refused| error_message(locale, &refused.code, 0)),
            );
        }
    };
    Effect::new(move |_| report(lock.value().get().map(|r| r.map(drop))));
    Effect::new(move |_| report(end.value().get().map(|r| r.map(drop))));
    Effect::new(move |_| report(remove.value().get()));
    Effect::new(move |_| report(configure.value().get().map(|r| r.map(drop))));
    Effect::new(move |_| report(start_round.value().get().map(|r| r.map(drop))));
    Effect::new(move |_| report(fix.value().get().map(|r| r.map(drop))));
    Effect::new(move |_| report(clear.value().get().map(|r| r.map(drop))));
    // A deleted room's page has nothing left to show: back to the lobby.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        let result = delete.value().get();
        if let Some(Ok(())) = result {
            navigate("/", Default::default());
        }
        report(result);
    });

    let hidden = {
        let (room, csrf) = (room.clone(), csrf.clone());
        move || {
            view! {
                <input type="hidden" name="room" value=room.clone()/>
                <input type="hidden" name="csrf" value=csrf.clone()/>
            }
        }
    };
    let on_lock = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            lock.dispatch(LockRoom {
                room: room.clone(),
                locked: !locked(),
            });
        }
    };
    let on_end = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            end.dispatch(EndSentence { room: room.clone() });
        }
    };
    let selected = NodeRef::<leptos::html::Select>::new();
    let on_remove = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let id = selected
                .get_untracked()
                .and_then(|select| select.value().parse::<i64>().ok());
            if let Some(id) = id {
                remove.dispatch(RemoveWord {
                    room: room.clone(),
                    id,
                });
            }
        }
    };
    let fix_selected = NodeRef::<leptos::html::Select>::new();
    let fix_text = NodeRef::<leptos::html::Input>::new();
    let on_fix = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let id = fix_selected
                .get_untracked()
                .and_then(|select| select.value().parse::<i64>().ok());
            let text = fix_text
                .get_untracked()
                .map(|input| input.value())
                .unwrap_or_default();
            if let Some(id) = id {
                fix.dispatch(FixWord {
                    room: room.clone(),
                    id,
                    text,
                });
            }
        }
    };
    let on_clear = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            clear.dispatch(ClearSentence { room: room.clone() });
        }
    };
    // The settings form starts from the room as it is; the live `room` event keeps it current.
    let settings = live.settings;
    let title_input = NodeRef::<leptos::html::Input>::new();
    let word_length_input = NodeRef::<leptos::html::Input>::new();
    let sentence_words_input = NodeRef::<leptos::html::Input>::new();
    let turn_rule_input = NodeRef::<leptos::html::Input>::new();
    let mode_select = NodeRef::<leptos::html::Select>::new();
    let turn_seconds_input = NodeRef::<leptos::html::Input>::new();
    let on_configure = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let number = |input: NodeRef<leptos::html::Input>| {
                input
                    .get_untracked()
                    .and_then(|input| input.value().trim().parse::<u32>().ok())
                    .unwrap_or(0)
            };
            configure.dispatch(ConfigureRoom {
                room: room.clone(),
                title: title_input
                    .get_untracked()
                    .map(|input| input.value())
                    .unwrap_or_default(),
                max_word_length: number(word_length_input),
                max_sentence_words: number(sentence_words_input),
                no_double_turn: turn_rule_input
                    .get_untracked()
                    .is_some_and(|input| input.checked())
                    .then(|| "on".to_owned()),
                mode: mode_select.get_untracked().map(|select| {
                    if select.value() == "turns" {
                        Mode::Turns
                    } else {
                        Mode::Open
                    }
                }),
                turn_seconds: Some(number(turn_seconds_input)),
            });
        }
    };
    let turns = move || settings.with(|settings| settings.mode == Mode::Turns);
    let on_start_round = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            start_round.dispatch(StartRound { room: room.clone() });
        }
    };
    let on_delete = {
        let room = room.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            delete.dispatch(DeleteRoom { room: room.clone() });
        }
    };

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
                        <form id="lock-form" method="post" action=LockRoom::PATH on:submit=on_lock>
                            {hidden.clone()}
                            <input type="hidden" name="locked" value=move || (!locked()).to_string()/>
                            <button type="submit" class="secondary" aria-pressed=move || locked().to_string()>
                                {move || tr(locale, if locked() { "host-open" } else { "host-lock" }, &[])}
                            </button>
                        </form>
                        <form id="round-form" method="post" action=StartRound::PATH
                            on:submit=on_start_round class:hidden=move || !turns()>
                            {hidden.clone()}
                            <button type="submit">
                                {move || if live.turn.with(Option::is_some) {
                                    tr(locale, "host-start-another-round", &[])
                                } else {
                                    tr(locale, "host-start-round", &[])
                                }}
                            </button>
                        </form>
                        <form id="end-form" method="post" action=EndSentence::PATH on:submit=on_end>
                            {hidden.clone()}
                            <button type="submit">{t("host-end-sentence")}</button>
                        </form>
                    </div>
                </section>
                <section class="host-group" aria-labelledby="host-words-heading">
                    <h3 id="host-words-heading">{t("host-group-words")}</h3>
                    <form id="remove-form" method="post" action=RemoveWord::PATH on:submit=on_remove>
                        {hidden.clone()}
                        <label for="remove-word">{t("host-remove-label")}</label>
                        <div class="row">
                            <WordChoice id="remove-word" words node_ref=selected/>
                            <button type="submit" class="secondary">{t("host-remove")}</button>
                        </div>
                    </form>
                    <form id="fix-form" method="post" action=FixWord::PATH on:submit=on_fix>
                        {hidden.clone()}
                        <label for="fix-word">{t("host-fix-label")}</label>
                        <div class="row">
                            <WordChoice id="fix-word" words node_ref=fix_selected/>
                            <input name="text" type="text" required
                                maxlength=crate::domain::MAX_WORD_LENGTH_RANGE.end().to_string()
                                aria-label=t("host-fix-text-label") autocomplete="off" node_ref=fix_text/>
                            <button type="submit" class="secondary">{t("host-fix")}</button>
                        </div>
                    </form>
                </section>
                <section class="host-group" aria-labelledby="host-settings-heading">
                    <h3 id="host-settings-heading">{t("host-group-settings")}</h3>
                    <form id="settings-form" class="settings" method="post" action=ConfigureRoom::PATH
                        on:submit=on_configure>
                        {hidden.clone()}
                        <label for="settings-title">{t("host-settings-title")}</label>
                        <input id="settings-title" name="title" type="text" required
                            maxlength=crate::domain::ROOM_TITLE_MAX_CHARS.to_string()
                            value=live.title.get_untracked() node_ref=title_input/>
                        <div class="fields">
                            <label>
                                {t("host-settings-word-length")}
                                <input name="max_word_length" type="number" required
                                    min=*MAX_WORD_LENGTH_RANGE.start() max=*MAX_WORD_LENGTH_RANGE.end()
                                    value=settings.with_untracked(|s| s.max_word_length)
                                    node_ref=word_length_input/>
                            </label>
                            <label>
                                {t("host-settings-sentence-words")}
                                <input name="max_sentence_words" type="number" required
                                    min=*MAX_SENTENCE_WORDS_RANGE.start() max=*MAX_SENTENCE_WORDS_RANGE.end()
                                    value=settings.with_untracked(|s| s.max_sentence_words)
                                    node_ref=sentence_words_input/>
                            </label>
                            <label>
                                {t("host-settings-mode")}
                                <select name="mode" node_ref=mode_select>
                                    <option value="open" selected=move || !turns()>{t("host-mode-open")}</option>
                                    <option value="turns" selected=turns>{t("host-mode-turns")}</option>
                                </select>
                            </label>
                            <label>
                                {t("host-settings-turn-seconds")}
                                <input name="turn_seconds" type="number" required
                                    min=*TURN_SECONDS_RANGE.start() max=*TURN_SECONDS_RANGE.end()
                                    value=settings.with_untracked(|s| s.turn_seconds)
                                    node_ref=turn_seconds_input/>
                            </label>
                        </div>
                        <label class="check">
                            <input name="no_double_turn" type="checkbox"
                                checked=settings.with_untracked(|s| s.no_double_turn)
                                node_ref=turn_rule_input/>
                            {t("host-settings-no-double-turn")}
                        </label>
                        <button type="submit">{t("host-settings-save")}</button>
                    </form>
                </section>
                // What cannot be undone takes two steps: open, then confirm.
                <section class="host-group danger-zone" aria-labelledby="host-danger-heading">
                    <h3 id="host-danger-heading">{t("host-group-danger")}</h3>
                    <details id="clear-confirm">
                        <summary>{t("host-clear")}"…"</summary>
                        <p class="hint">{t("host-clear-warning")}</p>
                        <form id="clear-form" method="post" action=ClearSentence::PATH on:submit=on_clear>
                            {hidden.clone()}
                            <button type="submit" class="danger">{t("host-clear-confirm")}</button>
                        </form>
                    </details>
                    <details id="delete-confirm">
                        <summary>{t("host-delete")}"…"</summary>
                        <p class="hint">{t("host-delete-warning")}</p>
                        <form id="delete-form" method="post" action=DeleteRoom::PATH on:submit=on_delete>
                            {hidden}
                            <button type="submit" class="danger">{t("host-delete-confirm")}</button>
                        </form>
                    </details>
                </section>
            </div>
        </section>
    }
}

/// A choice of one word of the open sentence (its id is the value), kept current live.
#[component]
fn WordChoice(
    id: &'static str,
    words: Memo<Vec<crate::live_state::DisplayWord>>,
    node_ref: NodeRef<leptos::html::Select>,
) -> impl IntoView {
    view! {
        <select id=id name="id" node_ref=node_ref>
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
