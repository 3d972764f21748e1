use leptos::prelude::*;

use crate::i18n::t;
use crate::live_state::{LiveRoom, display_words};

/// The live sentence: one element per word, keyed so that a new word adds one node and leaves
/// the others alone. New words are announced to screen readers.
#[component]
pub fn Sentence(live: LiveRoom) -> impl IntoView {
    let words = Memo::new(move |_| live.words.with(|words| display_words(words)));
    view! {
        <section class="sentence-panel" aria-labelledby="sentence-heading">
            <h2 id="sentence-heading" class="visually-hidden">{t("sentence-heading")}</h2>
            <p id="sentence" class="sentence" aria-live="polite">
                <For
                    each=move || words.get()
                    key=|word| (word.id, word.text.clone(), word.attached)
                    let:word
                >
                    // A real space before each word that is not attached to the one before (the
                    // first one's is collapsed away), so that the text reads and copies as words.
                    {(!word.attached).then_some(" ")}
                    <span
                        class="word"
                        class:attached=word.attached
                        data-version=word.version
                        title=word.author.clone()
                        data-author=word.author.clone()
                        tabindex="0"
                    >
                        {word.text.clone()}
                    </span>
                </For>
                <span class="caret" aria-hidden="true"></span>
            </p>
            <p class="hint" class:hidden=move || !live.words.with(Vec::is_empty)>
                {t("sentence-empty")}
            </p>
        </section>
    }
}
