use leptos::prelude::*;

use crate::i18n::t;
use crate::live_state::{DisplayWord, LiveRoom, display_words};

/// The live sentence: one element per word, keyed so that a new word adds one node and leaves
/// the others alone. New words are announced to screen readers.
///
/// The words sit in a box of their own (`.sentence-box`) so that a growing sentence never moves
/// what is around it: on a room page the box scrolls, and the client keeps the newest word in
/// view; on the projector the box is the container the type is sized against
/// ([`SentenceFit`]). The sentence is one tab stop (its newest word); the arrow keys, Home and
/// End move between its words, each showing its author on focus. `children` go at the foot of
/// the panel, below the words (the player's own last word, on a room page): what comes and goes
/// there shrinks the words' box, and moves nothing outside the panel.
#[component]
pub fn Sentence(live: LiveRoom, #[prop(optional)] children: Option<Children>) -> impl IntoView {
    let words = Memo::new(move |_| live.words.with(|words| display_words(words)));
    let fit = Memo::new(move |_| words.with(|words| SentenceFit::of(words)));
    let newest = Memo::new(move |_| words.with(|words| words.last().map(|word| word.id)));
    let scroller = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        words.track();
        if let Some(scroller) = scroller.get() {
            scroller.set_scroll_top(scroller.scroll_height());
        }
    });
    view! {
        <section class="sentence-panel" aria-labelledby="sentence-heading">
            <h2 id="sentence-heading" class="visually-hidden">{t("sentence-heading")}</h2>
            <div class="sentence-box" node_ref=scroller>
                <p
                    id="sentence"
                    class="sentence"
                    aria-live="polite"
                    data-fit=move || fit.get().area.to_string()
                    data-longest=move || fit.get().longest.to_string()
                    on:keydown=keyboard::move_focus
                >
                    <For
                        each=move || words.get()
                        key=|word| (word.id, word.text.clone(), word.attached)
                        let:word
                    >
                        // A real space before each word that is not attached to the one before
                        // (the first one's is collapsed away), so that the text reads and copies
                        // as words.
                        {(!word.attached).then_some(" ")}
                        <span
                            class="word"
                            class:attached=word.attached
                            data-version=word.version
                            title=word.author.clone()
                            data-author=word.author.clone()
                            tabindex=move || if newest.get() == Some(word.id) { "0" } else { "-1" }
                        >
                            {word.text.clone()}
                        </span>
                    </For>
                    <span class="caret" aria-hidden="true"></span>
                </p>
            </div>
            <p class="hint" class:hidden=move || !live.words.with(Vec::is_empty)>
                {t("sentence-empty")}
            </p>
            {children.map(|children| children())}
        </section>
    }
}

/// How much room the sentence needs, in steps the stylesheet knows (`data-fit`,
/// `data-longest`): the projector sizes its type from them, with no script and no inline style
/// (the Content-Security-Policy allows neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentenceFit {
    /// The square root of the sentence's characters (spaces included), rounded up to a step of
    /// [`AREA_STEPS`]: a text of `c` characters fills an area that grows with `c`, so its type
    /// can be as large as the box's side over `√c`.
    pub area: u16,
    /// The longest word's characters, rounded up to a step of [`LONGEST_STEPS`]: the type must
    /// let that word fit on one line.
    pub longest: u16,
}

/// The steps of [`SentenceFit::area`]; the stylesheet has a rule for each.
pub const AREA_STEPS: [u16; 18] = [
    4, 5, 6, 7, 8, 10, 12, 14, 16, 19, 22, 26, 30, 35, 40, 48, 56, 64,
];
/// The steps of [`SentenceFit::longest`]; the stylesheet has a rule for each. The last is the
/// longest word any room allows (`MAX_WORD_LENGTH_RANGE`).
pub const LONGEST_STEPS: [u16; 14] = [4, 6, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 64];

impl SentenceFit {
    pub fn of(words: &[DisplayWord]) -> SentenceFit {
        let lengths = words.iter().map(|word| word.text.chars().count());
        let spaces = words.iter().filter(|word| !word.attached).count();
        let characters = lengths.clone().sum::<usize>() + spaces;
        let longest = lengths.max().unwrap_or(0);
        SentenceFit {
            area: step_at_least(&AREA_STEPS, characters.isqrt() + 1),
            longest: step_at_least(&LONGEST_STEPS, longest),
        }
    }
}

/// The first step not below `value`, or the last step.
fn step_at_least(steps: &[u16], value: usize) -> u16 {
    steps
        .iter()
        .copied()
        .find(|&step| usize::from(step) >= value)
        .unwrap_or(steps[steps.len() - 1])
}

/// The arrow keys inside the sentence: its words are one tab stop, walked with the keys.
mod keyboard {
    #[cfg(feature = "hydrate")]
    pub fn move_focus(event: leptos::ev::KeyboardEvent) {
        use wasm_bindgen::JsCast;
        use web_sys::{Element, HtmlElement};

        let Some(word) = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .filter(|element| element.class_list().contains("word"))
        else {
            return;
        };
        let is_word = |element: &Element| element.class_list().contains("word");
        let walk = |from: Element, step: fn(&Element) -> Option<Element>| {
            std::iter::successors(step(&from), step).find(is_word)
        };
        let target = match event.key().as_str() {
            "ArrowRight" | "ArrowDown" => walk(word, Element::next_element_sibling),
            "ArrowLeft" | "ArrowUp" => walk(word, Element::previous_element_sibling),
            "Home" => word
                .parent_element()
                .and_then(|sentence| sentence.first_element_child())
                .filter(is_word),
            "End" => word
                .parent_element()
                .and_then(|sentence| sentence.last_element_child())
                .and_then(|caret| walk(caret, Element::previous_element_sibling)),
            _ => return,
        };
        if let Some(target) = target.and_then(|element| element.dyn_into::<HtmlElement>().ok()) {
            event.prevent_default();
            let _ = target.focus();
        }
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn move_focus(_event: leptos::ev::KeyboardEvent) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(texts: &[&str]) -> Vec<DisplayWord> {
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| DisplayWord {
                id: index as i64 + 1,
                version: index as i64 + 1,
                text: text.to_string(),
                attached: *text == ".",
                author: "Ana".into(),
            })
            .collect()
    }

    #[test]
    fn an_empty_sentence_takes_the_smallest_steps() {
        assert_eq!(
            SentenceFit::of(&[]),
            SentenceFit {
                area: 4,
                longest: 4
            }
        );
    }

    #[test]
    fn the_area_step_grows_with_the_square_root_of_the_characters() {
        // "Hola mundo" with its spaces: 4 + 5 + 2 = 11 characters, √11 → 4 (rounded up past 3).
        assert_eq!(SentenceFit::of(&words(&["Hola", "mundo"])).area, 4);
        // 39 words of 20 letters, each with its space: 819 characters, √819 ≈ 28.6 → 30.
        let long = vec!["Electroencefalograma"; 39];
        let fit = SentenceFit::of(&words(&long));
        assert_eq!(fit.area, 30);
        assert_eq!(fit.longest, 20);
    }

    #[test]
    fn the_steps_cover_every_word_length_a_room_allows() {
        let longest = *crate::domain::MAX_WORD_LENGTH_RANGE.end() as usize;
        assert_eq!(usize::from(LONGEST_STEPS[LONGEST_STEPS.len() - 1]), longest);
        assert_eq!(step_at_least(&LONGEST_STEPS, longest), 64);
        assert_eq!(step_at_least(&LONGEST_STEPS, longest + 10), 64);
        // The most a sentence can hold: 200 words of 64 characters.
        assert_eq!(step_at_least(&AREA_STEPS, (200 * 65usize).isqrt() + 1), 64);
    }

    #[test]
    fn the_stylesheet_has_a_rule_for_every_step() {
        let css = include_str!("../../style/main.css");
        for step in AREA_STEPS {
            let rule = format!("[data-fit=\"{step}\"]");
            assert!(css.contains(&rule), "no rule for {rule}");
        }
        for step in LONGEST_STEPS {
            let rule = format!("[data-longest=\"{step}\"]");
            assert!(css.contains(&rule), "no rule for {rule}");
        }
    }
}
