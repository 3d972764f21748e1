use leptos::prelude::*;

use crate::i18n::t;
use crate::live_state::LiveRoom;

/// The finished sentences, oldest first.
#[component]
pub fn Story(live: LiveRoom) -> impl IntoView {
    let export =
        move |format: &str| format!("/api/rooms/{}/story?format={format}", live.slug.get_value());
    view! {
        <section id="story" class="story" aria-labelledby="story-heading">
            <h2 id="story-heading">{t("story-heading")}</h2>
            <p class="hint" class:hidden=move || !live.story.with(Vec::is_empty)>
                {t("story-empty")}
            </p>
            <ol>
                <For
                    each=move || live.story.get()
                    key=|sentence| sentence.sentence_id
                    let:sentence
                >
                    <li data-version=sentence.version>{sentence.text.clone()}</li>
                </For>
            </ol>
            <p class="export">
                {t("story-download")}" "
                <a id="export-txt" href=export("txt") download="">{t("story-format-text")}</a>" · "
                <a id="export-md" href=export("md") download="">"Markdown"</a>" · "
                <a id="export-json" href=export("json") download="">"JSON"</a>
            </p>
            <p>
                <a id="story-page-link" href=move || format!("/r/{}/story", live.slug.get_value())>
                    {t("story-page-link")}
                </a>
            </p>
        </section>
    }
}
