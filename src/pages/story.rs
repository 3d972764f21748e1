use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::error::AppError;
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
        <Suspense fallback=|| view! { <p class="loading">"Cargando…"</p> }>
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
    view! {
        <Title text="Historia no disponible · frase"/>
        <main class="page narrow">
            <h1>"Historia no disponible"</h1>
            <p class="error" role="alert">
                {if error.status == 404 { "Esta sala no existe.".to_owned() } else { error.detail }}
            </p>
            <p><a href="/">"Volver al inicio"</a></p>
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
    view! {
        <Title text=format!("{} · historia · frase", data.title)/>
        <main class="page story-page">
            <header class="room-header">
                <a class="brand" href="/">"frase"</a>
                <h1>{data.title.clone()}</h1>
                <p class="room-meta"><a href=format!("/r/{}", data.slug)>"Volver a la sala"</a></p>
            </header>
            <section id="story" class="story" aria-labelledby="story-heading">
                <h2 id="story-heading">"La historia"</h2>
                <p class="hint" class:hidden=!empty>"Aún no hay frases terminadas."</p>
                <ol>
                    {data.sentences.into_iter().map(|sentence| view! {
                        <li data-sentence=sentence.sentence_id>
                            <span class="story-text">{sentence.text}</span>
                            <span class="story-authors">" — "{sentence.authors.join(", ")}</span>
                        </li>
                    }).collect_view()}
                </ol>
                <p class="export">
                    "Descargar la historia: "
                    <a id="export-txt" href=export("txt") download="">"texto"</a>" · "
                    <a id="export-md" href=export("md") download="">"Markdown"</a>" · "
                    <a id="export-json" href=export("json") download="">"JSON"</a>
                </p>
            </section>
            <section id="contributors" class="contributors" aria-labelledby="contributors-heading">
                <h2 id="contributors-heading">"Quién escribió cuánto"</h2>
                <p class="hint" class:hidden=!nobody>"Nadie ha escrito todavía."</p>
                <div id="contributions-chart" class="chart-frame" class:hidden=nobody
                    inner_html=data.chart_svg></div>
                <ul class="contributor-list">
                    {data.contributors.into_iter().map(|person| view! {
                        <li>
                            <span class="contributor-name">{person.name}</span>": "
                            <span class="contributor-words">{person.words}</span>
                            {if person.words == 1 { " palabra" } else { " palabras" }}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </main>
    }
}
