//! Room slugs: the name of a room in its URL, typed by a host or generated as a short code.
//!
//! A slug is matched exactly, never tidied: two URLs that differ must not name the same room.

use std::fmt;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::super::testutil::{V, deserialize_map, deserialize_str};
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
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
    }
}
