//! A room's settings: what the host may change, the ranges each number must fall in, and the
//! one rule they decide on their own, when a sentence ends ([`sentence_ends_after`]).
//!
//! The ranges are public because the OpenAPI schema, the settings form and the error messages
//! all show them: they are the contract's, stated once.

use std::fmt;
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use super::word::Word;

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

/// Whether the sentence ends once `word` is added at the 0-based `position`:
/// the word ends a sentence (see [`Word::ends_sentence`]) or the sentence
/// reaches `max_sentence_words`.
pub fn sentence_ends_after(settings: &RoomSettings, word: &Word, position: u32) -> bool {
    word.ends_sentence() || position.saturating_add(1) >= settings.max_sentence_words
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{V, deserialize_map, deserialize_str};
    use super::*;
    use proptest::prelude::*;

    fn word(raw: &str) -> Word {
        match Word::parse(raw, 32) {
            Ok(w) => w,
            Err(e) => panic!("{raw:?}: {e:?}"),
        }
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

    proptest! {
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
