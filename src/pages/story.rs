use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::error::AppError;
use crate::i18n::{shown_room_title, t, tr, use_locale};
use crate::model::StoryPage as StoryData;
use crate::server_fns::load_story;

/// `/r/{slug}/story`: the room's finished sentences with who wrote them, who wrote how much (a
/// chart drawn on the server), and the story to download.
#[component]
pub fn StoryPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let page = Resource::new(slug, load_story);
    view! {
        <Suspense fallback=|| view! { <p class="loading">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => view! { <Story data/> }.into_any(),
                    Err(error) => view! { <StoryError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn StoryError(error: AppError) -> impl IntoView {
    super::set_status(error.status);
    let locale = use_locale();
    view! {
        <Title text=format!("{} · frase", t("story-page-unavailable"))/>
        <main class="page narrow">
            <h1>{t("story-page-unavailable")}</h1>
            <p class="error" role="alert">
                {if error.status == 404 {
                    t("error-room-not-found")
                } else {
                    error.localized(locale).detail
                }}
            </p>
            <p><a href="/">{t("back-home")}</a></p>
        </main>
    }
}

#[component]
fn Story(data: StoryData) -> impl IntoView {
    let export = {
        let slug = data.slug.clone();
        move |format: &str| format!("/api/rooms/{slug}/story?format={format}")
    };
    let empty = data.sentences.is_empty();
    let nobody = data.contributors.is_empty();
    let locale = use_locale();
    let title = shown_room_title(locale, &data.slug, &data.title);
    view! {
        <Title text=format!("{} · {} · frase", title, t("story-page-title-suffix"))/>
        <main class="page story-page">
            <header class="room-header">
                <a class="brand" href="/">"frase"</a>
                <h1>{title.clone()}</h1>
                <p class="room-meta"><a href=format!("/r/{}", data.slug)>{t("story-page-back")}</a></p>
            </header>
            <section id="story" class="story" aria-labelledby="story-heading">
                <h2 id="story-heading">{t("story-heading")}</h2>
                <p class="hint" class:hidden=!empty>{t("story-page-empty")}</p>
                <ol>
                    {data.sentences.into_iter().map(|sentence| view! {
                        <li data-sentence=sentence.sentence_id>
                            <span class="story-text">{sentence.text}</span>
                            <span class="story-authors">" — "{sentence.authors.join(", ")}</span>
                        </li>
                    }).collect_view()}
                </ol>
                <p class="export">
                    {t("story-download")}" "
                    <a id="export-txt" href=export("txt") download="">{t("story-format-text")}</a>" · "
                    <a id="export-md" href=export("md") download="">"Markdown"</a>" · "
                    <a id="export-json" href=export("json") download="">"JSON"</a>
                </p>
            </section>
            <section id="contributors" class="contributors" aria-labelledby="contributors-heading">
                <h2 id="contributors-heading">{t("story-page-contributors")}</h2>
                <p class="hint" class:hidden=!nobody>{t("story-page-nobody")}</p>
                <div id="contributions-chart" class="chart-frame" class:hidden=nobody
                    inner_html=data.chart_svg></div>
                <ul class="contributor-list">
                    {data.contributors.into_iter().map(|person| view! {
                        <li>
                            <span class="contributor-name">{person.name}</span>": "
                            <span class="contributor-words">{person.words}</span>
                            " "{tr(locale, "story-page-words", &[("count", person.words.to_string())])}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </main>
    }
}
