//! Rooms: their settings, their slug, the names of the players in them, and
//! the pure rules deciding who may play and when a sentence ends.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::word::{Word, find_markup, has_forbidden_control};

/// Allowed values of [`RoomSettings::max_word_length`].
pub const MAX_WORD_LENGTH_RANGE: RangeInclusive<u32> = 1..=64;
/// Allowed values of [`RoomSettings::max_sentence_words`].
pub const MAX_SENTENCE_WORDS_RANGE: RangeInclusive<u32> = 1..=200;
/// Allowed values of [`RoomSettings::turn_seconds`].
pub const TURN_SECONDS_RANGE: RangeInclusive<u32> = 5..=600;

/// How players take turns.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Anyone may add the next word (subject to `no_double_turn`).
    #[default]
    Open,
    /// Players play in turn, each with `turn_seconds` to play.
    Turns,
}

/// The settings of one room.
///
/// Deserialisation fills missing fields from [`Default`] (`#[serde(default)]`)
/// so that stored settings keep loading when a field is added. It does not
/// validate: call [`RoomSettings::validate`] on anything received.
// The OpenAPI schema is derived on the server only; the derive is inert metadata, no I/O.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RoomSettings {
    /// Maximum characters of one word; default 32, allowed 1..=64.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 64))]
    #[serde(deserialize_with = "whole_number::u32")]
    pub max_word_length: u32,
    /// A sentence ends after this many words; default 40, allowed 1..=200.
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 200))]
    #[serde(deserialize_with = "whole_number::u32")]
    pub max_sentence_words: u32,
    /// Whether a player may not add two words in a row; default true.
    pub no_double_turn: bool,
    /// Whether the room is locked; default false.
    pub locked: bool,
    /// How players take turns; default [`Mode::Open`].
    pub mode: Mode,
    /// Seconds per turn in [`Mode::Turns`]; default 30, allowed 5..=600.
    #[cfg_attr(feature = "ssr", schema(minimum = 5, maximum = 600))]
    #[serde(deserialize_with = "whole_number::u32")]
    pub turn_seconds: u32,
}

/// Counts as JSON Schema reads them: an integer is a whole number however it is written, so
/// `30` and `30.0` are both 30. A fraction, or a number out of range, is refused.
pub mod whole_number {
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, Visitor};

    struct WholeU32;

    impl Visitor<'_> for WholeU32 {
        type Value = u32;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<u32, E> {
            u32::try_from(value)
                .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(value), &self))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<u32, E> {
            u32::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<u32, E> {
            if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
                Ok(value as u32)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(value), &self))
            }
        }
    }

    /// A whole number into a `u32`.
    pub fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_any(WholeU32)
    }

    /// An optional whole number into a `u32`; `null` is `None`.
    pub fn option_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
        struct Whole(u32);
        impl<'de> Deserialize<'de> for Whole {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                u32(deserializer).map(Whole)
            }
        }
        Ok(Option::<Whole>::deserialize(deserializer)?.map(|whole| whole.0))
    }
}

impl Default for RoomSettings {
    fn default() -> Self {
        RoomSettings {
            max_word_length: 32,
            max_sentence_words: 40,
            no_double_turn: true,
            locked: false,
            mode: Mode::Open,
            turn_seconds: 30,
        }
    }
}

/// A numeric field of [`RoomSettings`], named as in its serialised form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingsField {
    /// `max_word_length`
    MaxWordLength,
    /// `max_sentence_words`
    MaxSentenceWords,
    /// `turn_seconds`
    TurnSeconds,
}

impl SettingsField {
    /// The field's name as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            SettingsField::MaxWordLength => "max_word_length",
            SettingsField::MaxSentenceWords => "max_sentence_words",
            SettingsField::TurnSeconds => "turn_seconds",
        }
    }
}

impl fmt::Display for SettingsField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why [`RoomSettings`] are invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SettingsError {
    /// A numeric field outside its allowed range.
    #[error("{field} must be between {min} and {max} (got {value})")]
    OutOfRange {
        /// The field.
        field: SettingsField,
        /// Smallest allowed value.
        min: u32,
        /// Largest allowed value.
        max: u32,
        /// The rejected value.
        value: u32,
    },
}

impl SettingsError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SettingsError::OutOfRange { .. } => "out_of_range",
        }
    }
}

impl RoomSettings {
    /// Checks every numeric field against its allowed range, in declaration
    /// order, and reports the first one out of range.
    pub fn validate(&self) -> Result<(), SettingsError> {
        check_range(
            SettingsField::MaxWordLength,
            self.max_word_length,
            MAX_WORD_LENGTH_RANGE,
        )?;
        check_range(
            SettingsField::MaxSentenceWords,
            self.max_sentence_words,
            MAX_SENTENCE_WORDS_RANGE,
        )?;
        check_range(
            SettingsField::TurnSeconds,
            self.turn_seconds,
            TURN_SECONDS_RANGE,
        )
    }

    /// `max_word_length` as the `max_len` argument of [`Word::parse`].
    pub fn max_word_len(&self) -> usize {
        // u32 -> usize is lossless on every target we build for (32/64-bit,
        // wasm32 included).
        self.max_word_length as usize
    }
}

fn check_range(
    field: SettingsField,
    value: u32,
    range: RangeInclusive<u32>,
) -> Result<(), SettingsError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(SettingsError::OutOfRange {
            field,
            min: *range.start(),
            max: *range.end(),
            value,
        })
    }
}

/// Why a player may not add a word now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TurnError {
    /// The player wrote the last word of the current sentence and the room
    /// forbids two words in a row.
    #[error("you cannot add two words in a row: wait for someone else to play")]
    DoubleTurn,
    /// In `turns` mode, it is someone else's turn (`player`: their id, or their name once the
    /// server has looked it up).
    #[error("it is {player}'s turn, not yours: wait until it is yours")]
    NotYourTurn { player: String },
    /// In `turns` mode, the current player's time ran out.
    #[error("your time ran out: the turn has passed to the next player")]
    TimeUp,
    /// In `turns` mode, no round is being played: the host starts one.
    #[error("no round is being played: words are taken once the host starts a round")]
    NoRound,
}

impl TurnError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TurnError::DoubleTurn => "double_turn",
            TurnError::NotYourTurn { .. } => "not_your_turn",
            TurnError::TimeUp => "time_up",
            TurnError::NoRound => "no_round",
        }
    }
}

/// The double-turn rule: with `no_double_turn`, `author` may not add a word
/// when they wrote the last word of the current sentence
/// (`last_author`, `None` when the sentence is still empty).
///
/// Only this rule is checked here: `locked` and the [`Mode::Turns`] schedule
/// depend on state (membership, clock) that this pure function does not see.
pub fn check_turn(
    settings: &RoomSettings,
    last_author: Option<&str>,
    author: &str,
) -> Result<(), TurnError> {
    if settings.no_double_turn && last_author == Some(author) {
        Err(TurnError::DoubleTurn)
    } else {
        Ok(())
    }
}

/// Whether the sentence ends once `word` is added at the 0-based `position`:
/// the word ends a sentence (see [`Word::ends_sentence`]) or the sentence
/// reaches `max_sentence_words`.
pub fn sentence_ends_after(settings: &RoomSettings, word: &Word, position: u32) -> bool {
    word.ends_sentence() || position.saturating_add(1) >= settings.max_sentence_words
}

/// Maximum length of a [`RoomSlug`].
pub const SLUG_MAX_LEN: usize = 32;

/// The URL name of a room: `^[a-z0-9][a-z0-9-]{0,31}$`.
///
/// Deserialising validates through [`RoomSlug::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct RoomSlug(String);

/// Why a string is not a valid [`RoomSlug`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum SlugError {
    /// The empty string.
    #[error("the room name is empty")]
    Empty,
    /// A character other than `a`-`z`, `0`-`9` and `-`.
    #[error("the character {ch:?} is not allowed in a room name (use a-z, 0-9 and '-')")]
    InvalidCharacter {
        /// The offending character.
        ch: char,
    },
    /// A leading `-`.
    #[error("the room name must start with a letter a-z or a digit")]
    InvalidStart,
    /// More than [`SLUG_MAX_LEN`] characters.
    #[error("the room name is too long: {len} characters, the maximum is {max}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length of the submitted name.
        len: usize,
    },
}

impl SlugError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            SlugError::Empty => "empty",
            SlugError::InvalidCharacter { .. } => "invalid_character",
            SlugError::InvalidStart => "invalid_start",
            SlugError::TooLong { .. } => "too_long",
        }
    }
}

impl RoomSlug {
    /// Validates `raw` exactly (no trimming, no lower-casing: a URL segment
    /// that differs must not silently name another room). Checks, in order:
    /// empty, characters, first character, length.
    pub fn parse(raw: &str) -> Result<RoomSlug, SlugError> {
        if raw.is_empty() {
            return Err(SlugError::Empty);
        }
        if let Some(ch) = raw
            .chars()
            .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
        {
            return Err(SlugError::InvalidCharacter { ch });
        }
        if raw.starts_with('-') {
            return Err(SlugError::InvalidStart);
        }
        // All ASCII from here, so bytes == chars.
        if raw.len() > SLUG_MAX_LEN {
            return Err(SlugError::TooLong {
                max: SLUG_MAX_LEN,
                len: raw.len(),
            });
        }
        Ok(RoomSlug(raw.to_owned()))
    }

    /// The default room, `main`.
    pub fn main() -> RoomSlug {
        RoomSlug("main".to_owned())
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoomSlug {
    type Error = SlugError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        RoomSlug::parse(&value)
    }
}

/// The characters of generated room codes: lowercase letters and digits, without the ones that
/// are easy to mistake for each other (i, l, o, 0, 1).
pub const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

impl RoomSlug {
    /// A short room code made from random bytes, one character per byte.
    pub fn from_random(bytes: &[u8; 6]) -> RoomSlug {
        RoomSlug(
            bytes
                .iter()
                .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
                .collect(),
        )
    }
}

impl fmt::Display for RoomSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RoomSlug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Maximum characters of a [`DisplayName`] (after normalisation).
pub const DISPLAY_NAME_MAX_CHARS: usize = 40;

/// A player's name as shown to others.
///
/// Deserialising validates through [`DisplayName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct DisplayName(String);

/// Why a string is not a valid [`DisplayName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum NameError {
    /// Nothing but whitespace.
    #[error("the name is empty")]
    Empty,
    /// A control (Cc) or invisible format (Cf) character.
    #[error("the name contains a control or invisible character")]
    ControlCharacter,
    /// A character of [`super::word::MARKUP_CHARS`].
    #[error("the character {ch:?} is not allowed because it could be read as markup")]
    Markup {
        /// The offending character.
        ch: char,
    },
    /// More than [`DISPLAY_NAME_MAX_CHARS`] characters.
    #[error("the name is too long: {len} characters, the maximum is {max}")]
    TooLong {
        /// The limit.
        max: usize,
        /// The length of the normalised name.
        len: usize,
    },
}

impl NameError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            NameError::Empty => "empty",
            NameError::ControlCharacter => "control_character",
            NameError::Markup { .. } => "markup",
            NameError::TooLong { .. } => "too_long",
        }
    }
}

/// Animals for [`DisplayName::generated`]; all grammatically masculine.
const ANIMALS: [&str; 32] = [
    "Búho",
    "Zorro",
    "Lince",
    "Oso",
    "Lobo",
    "Delfín",
    "Tigre",
    "Puma",
    "Jaguar",
    "Halcón",
    "Gallo",
    "Colibrí",
    "Pingüino",
    "Koala",
    "Panda",
    "Castor",
    "Conejo",
    "Erizo",
    "Gato",
    "Perro",
    "Caballo",
    "Ciervo",
    "Toro",
    "Cóndor",
    "Loro",
    "Tucán",
    "Camaleón",
    "Pulpo",
    "Tiburón",
    "Caracol",
    "Flamenco",
    "Gorrión",
];

/// Adjectives for [`DisplayName::generated`]; all invariant in gender, so
/// they agree with any noun.
const ADJECTIVES: [&str; 32] = [
    "Azul",
    "Veloz",
    "Feliz",
    "Valiente",
    "Amable",
    "Audaz",
    "Alegre",
    "Brillante",
    "Capaz",
    "Dulce",
    "Elegante",
    "Fuerte",
    "Genial",
    "Grande",
    "Humilde",
    "Inteligente",
    "Jovial",
    "Leal",
    "Libre",
    "Noble",
    "Paciente",
    "Sagaz",
    "Sutil",
    "Tenaz",
    "Verde",
    "Gris",
    "Cordial",
    "Ágil",
    "Fiel",
    "Gentil",
    "Sonriente",
    "Firme",
];

/// 64-bit FNV-1a. Written by hand because std's hashers are not guaranteed
/// to give the same result across Rust versions, and generated names must
/// stay the same for the same seed.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(PRIME)
    })
}

impl DisplayName {
    /// Validates a name typed by a player.
    ///
    /// The text is NFC-normalised, trimmed, and every inner whitespace run
    /// (tabs and newlines included) becomes one space. Then, in order: it
    /// must be non-empty, contain no control/invisible characters (the same
    /// rule as words: emoji ZWJ and tag sequences are fine), no markup
    /// characters, and at most [`DISPLAY_NAME_MAX_CHARS`] characters.
    pub fn parse(raw: &str) -> Result<DisplayName, NameError> {
        parse_label(raw, DISPLAY_NAME_MAX_CHARS).map(DisplayName)
    }

    /// A friendly name such as `Búho Veloz 42`, the same for the same seed
    /// on every platform and Rust version.
    pub fn generated(seed: &[u8]) -> DisplayName {
        let hash = fnv1a_64(seed);
        // The last FNV step is a multiplication, which only carries low bits
        // upwards: the low bits of the hash depend only on the low bits of
        // the input bytes. The high bits depend on every input bit, so the
        // indices are taken from there.
        let animal = ANIMALS[(hash >> 59) as usize % ANIMALS.len()];
        let adjective = ADJECTIVES[(hash >> 54) as usize % ADJECTIVES.len()];
        let number = 10 + (hash >> 32) % 90;
        DisplayName(format!("{animal} {adjective} {number}"))
    }

    /// The name text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name text, by value.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The shared rule of names and titles: NFC, trimmed, inner whitespace runs collapsed to one
/// space, then non-empty, no control/invisible or markup characters, at most `max` characters.
fn parse_label(raw: &str, max: usize) -> Result<String, NameError> {
    let normalized: String = raw.nfc().collect();
    let collapsed = normalized.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(NameError::Empty);
    }
    let chars: Vec<char> = collapsed.chars().collect();
    if has_forbidden_control(&chars) {
        return Err(NameError::ControlCharacter);
    }
    if let Some(ch) = find_markup(&chars) {
        return Err(NameError::Markup { ch });
    }
    if chars.len() > max {
        return Err(NameError::TooLong {
            max,
            len: chars.len(),
        });
    }
    Ok(collapsed)
}

/// The most characters a room title has.
pub const ROOM_TITLE_MAX_CHARS: usize = 80;

/// A room's title, as shown on its page: the same rules as a display name, up to
/// [`ROOM_TITLE_MAX_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomTitle(String);

impl RoomTitle {
    pub fn parse(raw: &str) -> Result<RoomTitle, NameError> {
        parse_label(raw, ROOM_TITLE_MAX_CHARS).map(RoomTitle)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomTitle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DisplayName {
    type Error = NameError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        DisplayName::parse(&value)
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DisplayName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::testutil::{V, deserialize_map, deserialize_str};
    use super::super::word::MARKUP_CHARS;
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

    fn word(raw: &str) -> Word {
        match Word::parse(raw, 32) {
            Ok(w) => w,
            Err(e) => panic!("{raw:?}: {e:?}"),
        }
    }

    // --- settings ---------------------------------------------------------

    #[test]
    fn generated_codes_are_valid_slugs_without_look_alikes() {
        for seed in 0..=255u8 {
            let bytes = [
                seed,
                seed.wrapping_mul(7),
                seed ^ 0x5a,
                3,
                200,
                seed.wrapping_add(99),
            ];
            let code = RoomSlug::from_random(&bytes);
            assert_eq!(RoomSlug::parse(code.as_str()).as_ref(), Ok(&code));
            assert_eq!(code.as_str().len(), 6);
            assert!(!code.as_str().contains(['i', 'l', 'o', '0', '1']));
        }
    }

    #[test]
    fn titles_follow_the_name_rules_with_more_room() {
        assert_eq!(
            RoomTitle::parse("  Clase   3ºB ").unwrap().as_str(),
            "Clase 3ºB"
        );
        assert!(RoomTitle::parse(&"x".repeat(80)).is_ok());
        assert!(RoomTitle::parse(&"x".repeat(81)).is_err());
        assert!(RoomTitle::parse("<b>").is_err());
    }

    #[test]
    fn default_settings_match_the_contract() {
        let s = RoomSettings::default();
        assert_eq!(s.max_word_length, 32);
        assert_eq!(s.max_sentence_words, 40);
        assert!(s.no_double_turn);
        assert!(!s.locked);
        assert_eq!(s.mode, Mode::Open);
        assert_eq!(s.turn_seconds, 30);
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.max_word_len(), 32);
    }

    #[test]
    fn validate_accepts_range_bounds() {
        for (mwl, msw, ts) in [(1, 1, 5), (64, 200, 600)] {
            let s = RoomSettings {
                max_word_length: mwl,
                max_sentence_words: msw,
                turn_seconds: ts,
                ..RoomSettings::default()
            };
            assert_eq!(s.validate(), Ok(()), "{s:?}");
        }
    }

    #[test]
    fn validate_rejects_each_field_out_of_range() {
        let base = RoomSettings::default();
        let cases = [
            (
                RoomSettings {
                    max_word_length: 0,
                    ..base.clone()
                },
                SettingsField::MaxWordLength,
                1,
                64,
                0,
            ),
            (
                RoomSettings {
                    max_word_length: 65,
                    ..base.clone()
                },
                SettingsField::MaxWordLength,
                1,
                64,
                65,
            ),
            (
                RoomSettings {
                    max_sentence_words: 0,
                    ..base.clone()
                },
                SettingsField::MaxSentenceWords,
                1,
                200,
                0,
            ),
            (
                RoomSettings {
                    max_sentence_words: 201,
                    ..base.clone()
                },
                SettingsField::MaxSentenceWords,
                1,
                200,
                201,
            ),
            (
                RoomSettings {
                    turn_seconds: 4,
                    ..base.clone()
                },
                SettingsField::TurnSeconds,
                5,
                600,
                4,
            ),
            (
                RoomSettings {
                    turn_seconds: 601,
                    ..base.clone()
                },
                SettingsField::TurnSeconds,
                5,
                600,
                601,
            ),
        ];
        for (settings, field, min, max, value) in cases {
            let expected = SettingsError::OutOfRange {
                field,
                min,
                max,
                value,
            };
            assert_eq!(settings.validate(), Err(expected.clone()));
            assert_eq!(expected.code(), "out_of_range");
        }
    }

    #[test]
    fn settings_error_message_names_field_and_range() {
        let e = SettingsError::OutOfRange {
            field: SettingsField::TurnSeconds,
            min: 5,
            max: 600,
            value: 3,
        };
        assert_eq!(
            e.to_string(),
            "turn_seconds must be between 5 and 600 (got 3)"
        );
    }

    #[test]
    fn mode_serde_is_lowercase() {
        assert_eq!(deserialize_str::<Mode>("open"), Ok(Mode::Open));
        assert_eq!(deserialize_str::<Mode>("turns"), Ok(Mode::Turns));
        assert!(deserialize_str::<Mode>("Turns").is_err());
    }

    #[test]
    fn settings_deserialize_with_snake_case_names_and_defaults() {
        let parsed: RoomSettings = deserialize_map(vec![
            ("max_word_length", V::U(10)),
            ("max_sentence_words", V::U(12)),
            ("no_double_turn", V::B(false)),
            ("locked", V::B(true)),
            ("mode", V::S("turns")),
            ("turn_seconds", V::U(60)),
        ])
        .expect("deserializes");
        assert_eq!(
            parsed,
            RoomSettings {
                max_word_length: 10,
                max_sentence_words: 12,
                no_double_turn: false,
                locked: true,
                mode: Mode::Turns,
                turn_seconds: 60,
            }
        );
        let partial: RoomSettings =
            deserialize_map(vec![("locked", V::B(true))]).expect("deserializes");
        assert_eq!(
            partial,
            RoomSettings {
                locked: true,
                ..RoomSettings::default()
            }
        );
    }

    #[test]
    fn settings_error_deserializes_with_code_tag() {
        let parsed: SettingsError = deserialize_map(vec![
            ("code", V::S("out_of_range")),
            ("field", V::S("max_word_length")),
            ("min", V::U(1)),
            ("max", V::U(64)),
            ("value", V::U(0)),
        ])
        .expect("deserializes");
        assert_eq!(
            parsed,
            SettingsError::OutOfRange {
                field: SettingsField::MaxWordLength,
                min: 1,
                max: 64,
                value: 0
            }
        );
        for field in [
            SettingsField::MaxWordLength,
            SettingsField::MaxSentenceWords,
            SettingsField::TurnSeconds,
        ] {
            assert_eq!(deserialize_str::<SettingsField>(field.as_str()), Ok(field));
            assert_eq!(field.to_string(), field.as_str());
        }
    }

    // --- turns and sentence end -------------------------------------------

    #[test]
    fn double_turn_is_rejected_only_when_enabled() {
        let on = RoomSettings::default();
        let off = RoomSettings {
            no_double_turn: false,
            ..RoomSettings::default()
        };
        assert_eq!(
            check_turn(&on, Some("ana"), "ana"),
            Err(TurnError::DoubleTurn)
        );
        assert_eq!(check_turn(&on, Some("ana"), "luis"), Ok(()));
        assert_eq!(check_turn(&on, None, "ana"), Ok(()));
        assert_eq!(check_turn(&off, Some("ana"), "ana"), Ok(()));
        assert_eq!(TurnError::DoubleTurn.code(), "double_turn");
        let parsed: TurnError =
            deserialize_map(vec![("code", V::S("double_turn"))]).expect("deserializes");
        assert_eq!(parsed, TurnError::DoubleTurn);
    }

    #[test]
    fn sentence_ends_on_terminator_or_length() {
        let s = RoomSettings {
            max_sentence_words: 3,
            ..RoomSettings::default()
        };
        assert!(!sentence_ends_after(&s, &word("hola"), 0));
        assert!(!sentence_ends_after(&s, &word("hola"), 1));
        assert!(sentence_ends_after(&s, &word("hola"), 2)); // third word
        assert!(sentence_ends_after(&s, &word("hola"), 5));
        assert!(sentence_ends_after(&s, &word("fin."), 0));
        assert!(!sentence_ends_after(&s, &word("3.14"), 0));
        assert!(sentence_ends_after(&s, &word("hola"), u32::MAX)); // no overflow
        let one = RoomSettings {
            max_sentence_words: 1,
            ..RoomSettings::default()
        };
        assert!(sentence_ends_after(&one, &word("hola"), 0));
    }

    // --- slug -------------------------------------------------------------

    #[test]
    fn slug_accepts_valid() {
        for raw in ["main", "a", "0", "sala-1", "a-", "a--b", &"a".repeat(32)] {
            let slug = RoomSlug::parse(raw).expect("valid slug");
            assert_eq!(slug.as_str(), raw);
            assert_eq!(slug.to_string(), raw);
        }
        assert_eq!(RoomSlug::main().as_str(), "main");
        assert_eq!(RoomSlug::parse("main"), Ok(RoomSlug::main()));
    }

    #[test]
    fn slug_rejects_invalid() {
        assert_eq!(RoomSlug::parse(""), Err(SlugError::Empty));
        assert_eq!(RoomSlug::parse("-a"), Err(SlugError::InvalidStart));
        assert_eq!(
            RoomSlug::parse("Main"),
            Err(SlugError::InvalidCharacter { ch: 'M' })
        );
        assert_eq!(
            RoomSlug::parse("sala 1"),
            Err(SlugError::InvalidCharacter { ch: ' ' })
        );
        assert_eq!(
            RoomSlug::parse("niño"),
            Err(SlugError::InvalidCharacter { ch: 'ñ' })
        );
        assert_eq!(
            RoomSlug::parse("a_b"),
            Err(SlugError::InvalidCharacter { ch: '_' })
        );
        assert_eq!(
            RoomSlug::parse(&"a".repeat(33)),
            Err(SlugError::TooLong { max: 32, len: 33 })
        );
        let codes = [
            SlugError::Empty.code(),
            SlugError::InvalidStart.code(),
            SlugError::InvalidCharacter { ch: 'x' }.code(),
            SlugError::TooLong { max: 1, len: 2 }.code(),
        ];
        assert_eq!(
            codes,
            ["empty", "invalid_start", "invalid_character", "too_long"]
        );
    }

    #[test]
    fn slug_deserialization_validates() {
        assert_eq!(
            deserialize_str::<RoomSlug>("sala"),
            RoomSlug::parse("sala").map_err(|e| e.to_string())
        );
        assert!(deserialize_str::<RoomSlug>("Sala").is_err());
        let parsed: SlugError = deserialize_map(vec![("code", V::S("invalid_start"))]).expect("ok");
        assert_eq!(parsed, SlugError::InvalidStart);
    }

    // --- display names ----------------------------------------------------

    #[test]
    fn name_is_normalised_trimmed_and_collapsed() {
        let n = DisplayName::parse("  Ana \t  Bele\u{301}n\n ").expect("valid");
        assert_eq!(n.as_str(), "Ana Belén");
        assert_eq!(n.to_string(), "Ana Belén");
        assert_eq!(
            DisplayName::parse("Dr. O'Brien 👨‍👩‍👧").map(DisplayName::into_string),
            Ok("Dr. O'Brien 👨‍👩‍👧".to_owned())
        );
    }

    #[test]
    fn name_errors() {
        assert_eq!(DisplayName::parse(""), Err(NameError::Empty));
        assert_eq!(DisplayName::parse(" \n\t "), Err(NameError::Empty));
        assert_eq!(
            DisplayName::parse("a\u{7}b"),
            Err(NameError::ControlCharacter)
        );
        assert_eq!(
            DisplayName::parse("a\u{200B}b"),
            Err(NameError::ControlCharacter)
        );
        for &ch in MARKUP_CHARS {
            assert_eq!(
                DisplayName::parse(&format!("Ana {ch}")),
                Err(NameError::Markup { ch })
            );
        }
        assert_eq!(
            DisplayName::parse(&"ñ".repeat(41)),
            Err(NameError::TooLong { max: 40, len: 41 })
        );
        assert!(DisplayName::parse(&"ñ".repeat(40)).is_ok());
        // Collapsing happens before the length check.
        assert!(DisplayName::parse(&format!("{}     {}", "a".repeat(20), "b".repeat(19))).is_ok());
        let codes = [
            NameError::Empty.code(),
            NameError::ControlCharacter.code(),
            NameError::Markup { ch: '<' }.code(),
            NameError::TooLong { max: 1, len: 2 }.code(),
        ];
        assert_eq!(codes, ["empty", "control_character", "markup", "too_long"]);
        let parsed: NameError =
            deserialize_map(vec![("code", V::S("markup")), ("ch", V::S("<"))]).expect("ok");
        assert_eq!(parsed, NameError::Markup { ch: '<' });
    }

    #[test]
    fn name_deserialization_validates() {
        assert_eq!(
            deserialize_str::<DisplayName>("  Ana  "),
            DisplayName::parse("Ana").map_err(|e| e.to_string())
        );
        assert!(deserialize_str::<DisplayName>("<b>").is_err());
    }

    #[test]
    fn fnv1a_matches_reference_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn word_lists_are_distinct() {
        assert_eq!(ANIMALS.iter().collect::<HashSet<_>>().len(), 32);
        assert_eq!(ADJECTIVES.iter().collect::<HashSet<_>>().len(), 32);
    }

    #[test]
    fn every_generated_combination_is_a_valid_name() {
        for animal in ANIMALS {
            for adjective in ADJECTIVES {
                for number in [10, 99] {
                    let text = format!("{animal} {adjective} {number}");
                    assert_eq!(
                        DisplayName::parse(&text).map(DisplayName::into_string),
                        Ok(text)
                    );
                }
            }
        }
    }

    #[test]
    fn generated_names_are_deterministic_and_varied() {
        let a = DisplayName::generated(b"session-123");
        assert_eq!(a, DisplayName::generated(b"session-123"));
        // Pinned so that a change of hash or lists is noticed: names already
        // shown to players would change.
        assert_eq!(DisplayName::generated(b"").as_str(), PINNED_EMPTY_SEED);
        let mut names = HashSet::new();
        let mut animals = HashSet::new();
        let mut adjectives = HashSet::new();
        for i in 0u32..2000 {
            let name = DisplayName::generated(&i.to_le_bytes()).into_string();
            let mut parts = name.split(' ');
            animals.insert(parts.next().map(str::to_owned));
            adjectives.insert(parts.next().map(str::to_owned));
            let number: u32 = parts.next().and_then(|n| n.parse().ok()).expect("number");
            assert!((10..=99).contains(&number), "{name}");
            names.insert(name);
        }
        assert_eq!(animals.len(), 32);
        assert_eq!(adjectives.len(), 32);
        assert!(names.len() > 1500, "only {} distinct names", names.len());
    }

    const PINNED_EMPTY_SEED: &str = "Tucán Inteligente 14";

    /// Names and titles the rules accept as they are: NFC words of letters, digits, emoji and
    /// punctuation (no markup, control or invisible character) separated by single spaces, at
    /// most `max_words` of them (none longer than 8 characters).
    fn valid_label(max_words: usize) -> impl Strategy<Value = String> {
        let token = prop_oneof![
            "[a-zA-Z0-9ñÑéáüçº.,:;!?¿¡'’\"()«»@#%*/+-]{1,8}",
            prop::sample::select(vec!["👨‍👩‍👧", "🏳️‍🌈", "👍🏽", "Ñandú", "O'Brien", "3ºB", "中文"])
                .prop_map(str::to_owned),
        ];
        prop::collection::vec(token, 1..=max_words).prop_map(|tokens| tokens.join(" "))
    }

    /// Whitespace as people type it: runs of spaces, tabs and newlines.
    fn typed_whitespace() -> impl Strategy<Value = String> {
        "[ \t\n\u{A0}]{1,3}"
    }

    /// `label` as typed: each space a run of whitespace, and maybe more around it.
    fn as_typed(label: &str, runs: &[String]) -> String {
        let mut typed = runs[0].clone();
        for (i, token) in label.split(' ').enumerate() {
            if i > 0 {
                typed.push_str(&runs[i % runs.len()]);
            }
            typed.push_str(token);
        }
        typed.push_str(&runs[runs.len() - 1]);
        typed
    }

    proptest! {
        #[test]
        fn valid_names_are_accepted_as_they_are(name in valid_label(4)) {
            prop_assert_eq!(DisplayName::parse(&name).map(DisplayName::into_string), Ok(name));
        }

        #[test]
        fn typed_whitespace_around_and_between_name_words_is_tidied(
            name in valid_label(4),
            runs in prop::collection::vec(typed_whitespace(), 1..4),
        ) {
            prop_assert_eq!(
                DisplayName::parse(&as_typed(&name, &runs)).map(DisplayName::into_string),
                Ok(name)
            );
        }

        #[test]
        fn valid_titles_are_accepted_as_they_are(
            title in valid_label(8),
            runs in prop::collection::vec(typed_whitespace(), 1..4),
        ) {
            let parsed = |raw: &str| RoomTitle::parse(raw).map(|title| title.as_str().to_owned());
            prop_assert_eq!(parsed(&title), Ok(title.clone()));
            prop_assert_eq!(parsed(&as_typed(&title, &runs)), Ok(title));
        }

        #[test]
        fn settings_within_their_ranges_are_valid(
            max_word_length in MAX_WORD_LENGTH_RANGE,
            max_sentence_words in MAX_SENTENCE_WORDS_RANGE,
            turn_seconds in TURN_SECONDS_RANGE,
            no_double_turn in any::<bool>(),
            locked in any::<bool>(),
            turns in any::<bool>(),
        ) {
            let settings = RoomSettings {
                max_word_length,
                max_sentence_words,
                no_double_turn,
                locked,
                mode: if turns { Mode::Turns } else { Mode::Open },
                turn_seconds,
            };
            prop_assert_eq!(settings.validate(), Ok(()));
        }

        #[test]
        fn slugs_matching_the_pattern_are_accepted(raw in "[a-z0-9][a-z0-9-]{0,31}") {
            prop_assert_eq!(RoomSlug::parse(&raw).map(|s| s.as_str().to_owned()), Ok(raw));
        }

        #[test]
        fn accepted_slugs_match_the_pattern(raw in prop_oneof!["[a-z0-9A-Z_ñ-]{0,40}", any::<String>()]) {
            if let Ok(slug) = RoomSlug::parse(&raw) {
                let s = slug.as_str();
                prop_assert!((1..=32).contains(&s.len()));
                prop_assert!(!s.starts_with('-'));
                prop_assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
            }
        }

        #[test]
        fn accepted_names_are_normalised(
            raw in prop_oneof![
                prop::collection::vec(any::<char>(), 0..50).prop_map(|c| c.into_iter().collect::<String>()),
                "[ \t\na-zñé\u{301}👍]{0,45}",
                "[ a-z<&\u{7}\u{200B}]{0,10}",
            ]
        ) {
            if let Ok(name) = DisplayName::parse(&raw) {
                let s = name.as_str();
                prop_assert!(is_nfc(s));
                prop_assert_eq!(s.trim(), s);
                prop_assert!(!s.contains("  "));
                prop_assert!(s.chars().all(|c| c == ' ' || !c.is_whitespace()));
                prop_assert!(!s.chars().any(char::is_control));
                prop_assert!(!s.chars().any(|c| MARKUP_CHARS.contains(&c)));
                prop_assert!((1..=DISPLAY_NAME_MAX_CHARS).contains(&s.chars().count()));
                prop_assert_eq!(DisplayName::parse(s), Ok(name.clone()));
            }
        }

        #[test]
        fn generated_names_parse_back(seed in prop::collection::vec(any::<u8>(), 0..64)) {
            let name = DisplayName::generated(&seed);
            prop_assert_eq!(DisplayName::parse(name.as_str()), Ok(name.clone()));
        }

        #[test]
        fn sentence_always_ends_at_the_limit(max in 1u32..=200, position in 0u32..400) {
            let s = RoomSettings { max_sentence_words: max, ..RoomSettings::default() };
            prop_assert_eq!(sentence_ends_after(&s, &word("hola"), position), position + 1 >= max);
        }
    }

    #[test]
    fn counts_may_be_written_as_whole_floats() {
        let settings: RoomSettings =
            serde_json::from_str(r#"{"max_sentence_words": 132.0, "turn_seconds": 45}"#).unwrap();
        assert_eq!(settings.max_sentence_words, 132);
        assert_eq!(settings.turn_seconds, 45);
        for bad in [
            r#"{"turn_seconds": 4.5}"#,
            r#"{"turn_seconds": -1}"#,
            r#"{"turn_seconds": 1e12}"#,
            r#"{"turn_seconds": "5"}"#,
        ] {
            assert!(serde_json::from_str::<RoomSettings>(bad).is_err(), "{bad}");
        }
    }
}
