use leptos::prelude::*;

use crate::live_state::LiveRoom;

/// The finished sentences, oldest first.
#[component]
pub fn Story(live: LiveRoom) -> impl IntoView {
    view! {
        <section id="story" class="story" aria-labelledby="story-heading">
            <h2 id="story-heading">"La historia"</h2>
            <p class="hint" class:hidden=move || !live.story.with(Vec::is_empty)>
                "Aún no hay frases terminadas. Una palabra que acaba en . ! ? o … cierra la frase."
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
        </section>
    }
}
