//! The pure domain of frase: words, rooms' settings and slugs, users and
//! their names, and the rules of the game.
//!
//! No I/O, no clock, no randomness, no threads, no framework: everything here
//! is a plain function of its inputs, so it can be tested exhaustively and
//! compiled for any target (wasm32 included).

#![forbid(unsafe_code)]

pub mod names;
pub mod settings;
pub mod slug;
pub mod turns;
pub mod user;
pub mod word;

pub use names::{
    DISPLAY_NAME_MAX_CHARS, DisplayName, MAIN_ROOM_TITLE, NameError, NameLanguage,
    ROOM_TITLE_MAX_CHARS, RoomTitle,
};
pub use settings::{
    MAX_SENTENCE_WORDS_RANGE, MAX_WORD_LENGTH_RANGE, Mode, RoomSettings, SettingsError,
    SettingsField, TURN_SECONDS_RANGE, sentence_ends_after, whole_number,
};
pub use slug::{CODE_ALPHABET, RoomSlug, SLUG_MAX_LEN, SlugError};
pub use turns::{AfterTurn, Round, RoundError, TurnError, check_turn};
pub use user::{UserId, UserIdError};
pub use word::{
    CLOSING_PUNCTUATION, DIGIT_SEPARATORS, DisplayToken, INNER_JOINERS, MARKUP_CHARS,
    OPENING_PUNCTUATION, Word, WordError, display_sentence, display_tokens,
};

/// Test helpers to check serde shapes without a format crate: a tiny
/// self-describing value that feeds serde's own `MapDeserializer`.
#[cfg(test)]
mod testutil {
    use serde::Deserialize;
    use serde::de::value::{BorrowedStrDeserializer, Error, MapDeserializer, StrDeserializer};
    use serde::de::{Deserializer, IntoDeserializer, Visitor};

    /// A scalar value of a test map.
    pub(super) enum V {
        S(&'static str),
        U(u64),
        B(bool),
    }

    impl<'de> Deserializer<'de> for V {
        type Error = Error;

        fn deserialize_any<W: Visitor<'de>>(self, visitor: W) -> Result<W::Value, Error> {
            match self {
                V::S(s) => visitor.visit_borrowed_str(s),
                V::U(n) => visitor.visit_u64(n),
                V::B(b) => visitor.visit_bool(b),
            }
        }

        /// Unit variants are given as strings, as in JSON.
        fn deserialize_enum<W: Visitor<'de>>(
            self,
            name: &'static str,
            variants: &'static [&'static str],
            visitor: W,
        ) -> Result<W::Value, Error> {
            match self {
                V::S(s) => BorrowedStrDeserializer::<Error>::new(s)
                    .deserialize_enum(name, variants, visitor),
                other => other.deserialize_any(visitor),
            }
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map struct identifier ignored_any
        }
    }

    impl IntoDeserializer<'_, Error> for V {
        type Deserializer = Self;

        fn into_deserializer(self) -> Self {
            self
        }
    }

    /// Deserialises `T` from a map of field names to scalars.
    pub(super) fn deserialize_map<T: for<'de> Deserialize<'de>>(
        entries: Vec<(&'static str, V)>,
    ) -> Result<T, Error> {
        T::deserialize(MapDeserializer::new(entries.into_iter()))
    }

    /// Deserialises `T` from a string, with the error as text.
    pub(super) fn deserialize_str<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T, String> {
        T::deserialize(StrDeserializer::<Error>::new(s)).map_err(|e| e.to_string())
    }
}
