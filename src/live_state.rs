//! The room page's reactive state, and how each live event changes it.
//!
//! It compiles on both sides: the server renders the page from it, the WebAssembly client feeds
//! it from the event stream (`live_client`), and its logic is tested natively.

use leptos::prelude::*;

use crate::domain::{display_sentence, display_tokens};
use crate::i18n::{Locale, shown_room_title};
use crate::model::{
    DeletedWord, EventKind, Presence, RoomPage, RoomSettings, RoomState, StorySentence, TurnEvent,
    TurnView, WordView,
};

/// The live state of one room page.
#[derive(Debug, Clone, Copy)]
pub struct LiveRoom {
    pub slug: StoredValue<String>,
    /// The last room version applied; what a reconnecting stream resumes after.
    pub version: RwSignal<i64>,
    pub title: RwSignal<String>,
    pub settings: RwSignal<RoomSettings>,
    pub sentence_id: RwSignal<i64>,
    /// The words of the open sentence, in order.
    pub words: RwSignal<Vec<WordView>>,
    pub story: RwSignal<Vec<StorySentence>>,
    pub online: RwSignal<u64>,
    /// Whose turn it is in a `turns` round, and until when.
    pub turn: RwSignal<Option<TurnView>>,
    /// Set when a snapshot replaced the state: the story may be behind and is fetched again.
    pub story_stale: RwSignal<bool>,
    /// The page's language, in which the main room's title is shown.
    locale: Locale,
}

/// A word as the sentence shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayWord {
    pub id: i64,
    pub version: i64,
    pub text: String,
    /// Closing punctuation, attached to the previous word without a space.
    pub attached: bool,
    pub author: String,
}

/// The open sentence as displayed: first word capitalised, punctuation attached.
pub fn display_words(words: &[WordView]) -> Vec<DisplayWord> {
    let tokens = display_tokens(words.iter().map(|word| word.text.as_str()));
    words
        .iter()
        .zip(tokens)
        .enumerate()
        .map(|(index, (word, token))| DisplayWord {
            id: word.id,
            version: word.version,
            text: token.text,
            attached: index > 0 && !token.space_before,
            author: word.author.name.clone(),
        })
        .collect()
}

impl LiveRoom {
    pub fn new(page: &RoomPage) -> LiveRoom {
        let state = &page.state;
        let locale = crate::i18n::use_locale();
        LiveRoom {
            slug: StoredValue::new(state.slug.clone()),
            version: RwSignal::new(state.version),
            title: RwSignal::new(shown_room_title(locale, &state.slug, &state.title)),
            settings: RwSignal::new(state.settings.clone()),
            sentence_id: RwSignal::new(state.sentence.id),
            words: RwSignal::new(state.sentence.words.clone()),
            story: RwSignal::new(page.story.clone()),
            online: RwSignal::new(0),
            turn: RwSignal::new(state.turn.clone()),
            story_stale: RwSignal::new(false),
            locale,
        }
    }

    /// Applies one live event (`kind` and its JSON `data`). Events at or below the current
    /// version were applied already and are ignored.
    pub fn apply(&self, kind: EventKind, data: &str) -> Result<(), serde_json::Error> {
        match kind {
            EventKind::Snapshot => self.apply_snapshot(serde_json::from_str(data)?),
            EventKind::Word => self.apply_word(serde_json::from_str(data)?),
            EventKind::Edit => self.apply_edit(serde_json::from_str(data)?),
            EventKind::Delete => self.apply_delete(serde_json::from_str(data)?),
            EventKind::Sentence => self.apply_sentence(serde_json::from_str(data)?),
            EventKind::Room => self.apply_room(serde_json::from_str(data)?),
            EventKind::Turn => self.apply_turn(serde_json::from_str(data)?),
            EventKind::Presence => {
                let presence: Presence = serde_json::from_str(data)?;
                self.online.set(presence.online);
            }
        }
        Ok(())
    }

    /// Moves to `version` if it is new; false if it was applied already.
    fn advance(&self, version: i64) -> bool {
        if version <= self.version.get_untracked() {
            return false;
        }
        self.version.set(version);
        true
    }

    pub fn apply_snapshot(&self, state: RoomState) {
        self.version.set(state.version);
        self.title
            .set(shown_room_title(self.locale, &state.slug, &state.title));
        self.settings.set(state.settings);
        self.sentence_id.set(state.sentence.id);
        self.words.set(state.sentence.words);
        self.turn.set(state.turn);
        self.story_stale.set(true);
    }

    pub fn apply_turn(&self, turn: TurnEvent) {
        if self.advance(turn.version) {
            self.turn.set(turn.turn);
        }
    }

    pub fn apply_word(&self, word: WordView) {
        if !self.advance(word.version) {
            return;
        }
        if word.sentence_id != self.sentence_id.get_untracked() {
            // A new sentence began (the previous one was closed by an event we applied).
            self.sentence_id.set(word.sentence_id);
            self.words
                .update(|words| words.retain(|w| w.sentence_id == word.sentence_id));
        }
        let ends_sentence = word.ends_sentence;
        let (sentence_id, version) = (word.sentence_id, word.version);
        self.words.update(|words| words.push(word));
        if ends_sentence {
            let text = self
                .words
                .with_untracked(|words| display_sentence(words.iter().map(|w| w.text.as_str())));
            self.finish_sentence(StorySentence {
                sentence_id,
                text,
                version,
            });
        }
    }

    fn finish_sentence(&self, sentence: StorySentence) {
        self.story.update(|story| {
            if !story.iter().any(|s| s.sentence_id == sentence.sentence_id) {
                story.push(sentence);
            }
        });
        self.words.set(Vec::new());
    }

    pub fn apply_sentence(&self, sentence: StorySentence) {
        if self.advance(sentence.version) {
            self.finish_sentence(sentence);
        }
    }

    pub fn apply_edit(&self, word: WordView) {
        if self.advance(word.version) {
            self.words.update(|words| {
                if let Some(existing) = words.iter_mut().find(|w| w.id == word.id) {
                    existing.text = word.text;
                }
            });
        }
    }

    pub fn apply_delete(&self, deleted: DeletedWord) {
        if self.advance(deleted.version) {
            self.words
                .update(|words| words.retain(|w| w.id != deleted.id));
        }
    }

    pub fn apply_room(&self, state: RoomState) {
        if self.advance(state.version) {
            self.title
                .set(shown_room_title(self.locale, &state.slug, &state.title));
            self.settings.set(state.settings);
            self.turn.set(state.turn);
            // The host may have cleared the sentence: the state's words are the current ones.
            self.sentence_id.set(state.sentence.id);
            self.words.set(state.sentence.words);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Me, SentenceView, UserRef};

    fn word(id: i64, version: i64, sentence_id: i64, text: &str, ends: bool) -> WordView {
        WordView {
            id,
            version,
            sentence_id,
            position: 0,
            text: text.to_owned(),
            ends_sentence: ends,
            author: UserRef {
                id: "u".into(),
                name: "U".into(),
            },
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn page() -> RoomPage {
        RoomPage {
            state: RoomState {
                slug: "main".into(),
                title: "frase".into(),
                version: 0,
                host: false,
                settings: RoomSettings::default(),
                sentence: SentenceView {
                    id: 1,
                    words: vec![],
                },
                finished_sentences: 0,
                turn: None,
            },
            story: vec![],
            me: Me {
                id: "u".into(),
                name: "U".into(),
            },
            csrf: String::new(),
            join: Default::default(),
        }
    }

    #[test]
    fn words_apply_once_and_in_order() {
        let owner = Owner::new();
        owner.with(|| {
            let live = LiveRoom::new(&page());
            live.apply_word(word(1, 1, 1, "hola", false));
            live.apply_word(word(1, 1, 1, "hola", false));
            live.apply_word(word(2, 2, 1, "mundo", false));
            assert_eq!(live.words.get_untracked().len(), 2);
            assert_eq!(live.version.get_untracked(), 2);
        });
    }

    #[test]
    fn a_closing_word_moves_the_sentence_to_the_story() {
        let owner = Owner::new();
        owner.with(|| {
            let live = LiveRoom::new(&page());
            live.apply_word(word(1, 1, 1, "hola", false));
            live.apply_word(word(2, 2, 1, "mundo", false));
            live.apply_word(word(3, 3, 1, ".", true));
            assert!(live.words.get_untracked().is_empty());
            let story = live.story.get_untracked();
            assert_eq!(story.len(), 1);
            assert_eq!(story[0].text, "Hola mundo.");
            live.apply_word(word(4, 4, 2, "otra", false));
            assert_eq!(live.words.get_untracked().len(), 1);
            assert_eq!(live.sentence_id.get_untracked(), 2);
        });
    }

    #[test]
    fn turn_events_say_whose_turn_it_is() {
        let owner = Owner::new();
        owner.with(|| {
            let live = LiveRoom::new(&page());
            let data = r#"{"turn":{"user":{"id":"a","name":"Ana"},"deadline":"2026-01-01T00:00:30Z"},"version":1}"#;
            live.apply(EventKind::Turn, data).unwrap();
            let turn = live.turn.get_untracked().expect("a turn");
            assert_eq!(turn.user.name, "Ana");
            assert_eq!(live.version.get_untracked(), 1);
            live.apply(EventKind::Turn, r#"{"turn":null,"version":2}"#)
                .unwrap();
            assert_eq!(live.turn.get_untracked(), None);
            // Replayed: ignored.
            live.apply(EventKind::Turn, data).unwrap();
            assert_eq!(live.turn.get_untracked(), None);
        });
    }

    #[test]
    fn presence_and_unknown_json() {
        let owner = Owner::new();
        owner.with(|| {
            let live = LiveRoom::new(&page());
            live.apply(EventKind::Presence, r#"{"online":3}"#).unwrap();
            assert_eq!(live.online.get_untracked(), 3);
            assert!(live.apply(EventKind::Word, "not json").is_err());
        });
    }
}
