//! Types both sides share: the JSON of the API, the data of live events and of server functions.
//!
//! They are plain serde structs, compiled into the server and into the WebAssembly client, so the
//! page decodes exactly what the server encodes.

use serde::{Deserialize, Serialize};

pub use crate::domain::{Mode, RoomSettings};

/// Some of a room's settings, as `PATCH` sends them; the fields left out keep their value.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomSettingsPatch {
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 64))]
    #[serde(default, deserialize_with = "crate::domain::whole_number::option_u32")]
    pub max_word_length: Option<u32>,
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    #[serde(default, deserialize_with = "crate::domain::whole_number::option_u32")]
    pub max_sentence_words: Option<u32>,
    pub no_double_turn: Option<bool>,
    pub locked: Option<bool>,
    pub mode: Option<Mode>,
    #[cfg_attr(feature = "ssr", schema(minimum = 5, maximum = 600))]
    #[serde(default, deserialize_with = "crate::domain::whole_number::option_u32")]
    pub turn_seconds: Option<u32>,
}

impl RoomSettingsPatch {
    /// `current` with this patch's fields put in.
    pub fn apply(&self, current: &RoomSettings) -> RoomSettings {
        RoomSettings {
            max_word_length: self.max_word_length.unwrap_or(current.max_word_length),
            max_sentence_words: self
                .max_sentence_words
                .unwrap_or(current.max_sentence_words),
            no_double_turn: self.no_double_turn.unwrap_or(current.no_double_turn),
            locked: self.locked.unwrap_or(current.locked),
            mode: self.mode.unwrap_or(current.mode),
            turn_seconds: self.turn_seconds.unwrap_or(current.turn_seconds),
        }
    }
}

/// A user as others see them: the author of a word, whose turn it is.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
}

/// One word of a room, as the API and the live events carry it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordView {
    pub id: i64,
    /// The room version this word was added at; orders every word of a room.
    pub version: i64,
    pub sentence_id: i64,
    /// 0-based position in its sentence.
    pub position: i64,
    pub text: String,
    /// This word closed its sentence (closing punctuation, or the sentence reached its length).
    pub ends_sentence: bool,
    pub author: UserRef,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// The sentence being built.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentenceView {
    pub id: i64,
    pub words: Vec<WordView>,
}

/// Whose turn it is in a `turns` round.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnView {
    pub user: UserRef,
    /// RFC 3339, UTC.
    pub deadline: String,
}

/// The data of a `turn` event: whose turn it is now (`null`: no round is being played), and the
/// room version of the change.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TurnEvent {
    pub turn: Option<TurnView>,
    pub version: i64,
}

/// The state of a room: what `GET /api/rooms/{slug}` answers and what a `snapshot` event carries.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomState {
    pub slug: String,
    pub title: String,
    pub version: i64,
    /// Whether the caller is the room's host.
    pub host: bool,
    pub settings: RoomSettings,
    pub sentence: SentenceView,
    pub finished_sentences: i64,
    pub turn: Option<TurnView>,
}

/// A finished sentence of a room's story.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorySentence {
    pub sentence_id: i64,
    /// The sentence as displayed: capitalised, punctuation attached.
    pub text: String,
    /// The room version at which the sentence was finished.
    pub version: i64,
}

/// A finished sentence with the people who wrote it.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthoredSentence {
    pub sentence_id: i64,
    pub text: String,
    /// Display names, in the order of their first word in the sentence.
    pub authors: Vec<String>,
}

/// One person's share of a room: how many words of it are theirs.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contributor {
    pub name: String,
    pub words: i64,
}

/// Everything the story page shows.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryPage {
    pub slug: String,
    pub title: String,
    pub sentences: Vec<AuthoredSentence>,
    /// Most words first.
    pub contributors: Vec<Contributor>,
    /// A bar chart of `contributors`, an `<svg>` element rendered by the server.
    pub chart_svg: String,
}

/// The data of a `sentence` event: a sentence was finished.
pub type SentenceEvent = StorySentence;

/// The data of a `delete` event.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedWord {
    pub id: i64,
    pub version: i64,
}

/// The data of a `presence` event.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub online: u64,
}

/// The caller, as `GET /api/me` answers.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: String,
    pub name: String,
}

/// Everything the room page needs to render, fetched in one server function call.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPage {
    pub state: RoomState,
    pub story: Vec<StorySentence>,
    pub me: Me,
    /// The caller's CSRF token, for the forms that work without JavaScript.
    #[serde(default)]
    pub csrf: String,
    /// How others join this room.
    #[serde(default)]
    pub join: JoinLink,
}

/// The link that opens a room, and its QR code.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinLink {
    pub url: String,
    /// An `<svg>` element, generated by the server.
    pub qr_svg: String,
}

/// The kinds of live events, as named on the wire (`event: <name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Snapshot,
    Word,
    Edit,
    Delete,
    Sentence,
    Room,
    Turn,
    Presence,
}

impl EventKind {
    /// Every kind, in the order the contract lists them.
    pub const ALL: [EventKind; 8] = [
        EventKind::Snapshot,
        EventKind::Word,
        EventKind::Edit,
        EventKind::Delete,
        EventKind::Sentence,
        EventKind::Room,
        EventKind::Turn,
        EventKind::Presence,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Snapshot => "snapshot",
            EventKind::Word => "word",
            EventKind::Edit => "edit",
            EventKind::Delete => "delete",
            EventKind::Sentence => "sentence",
            EventKind::Room => "room",
            EventKind::Turn => "turn",
            EventKind::Presence => "presence",
        }
    }

    pub fn parse(name: &str) -> Option<EventKind> {
        Some(match name {
            "snapshot" => EventKind::Snapshot,
            "word" => EventKind::Word,
            "edit" => EventKind::Edit,
            "delete" => EventKind::Delete,
            "sentence" => EventKind::Sentence,
            "room" => EventKind::Room,
            "turn" => EventKind::Turn,
            "presence" => EventKind::Presence,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settings_patch_takes_whole_floats_and_leaves_out_the_rest() {
        let patch: RoomSettingsPatch =
            serde_json::from_str(r#"{"max_word_length": 20.0, "turn_seconds": null}"#).unwrap();
        assert_eq!(patch.max_word_length, Some(20));
        assert_eq!(patch.turn_seconds, None);
        assert_eq!(patch.max_sentence_words, None);
        assert!(serde_json::from_str::<RoomSettingsPatch>(r#"{"extra": 1}"#).is_err());
    }
}
