//! Users: who is playing, as the server knows them.
//!
//! A [`UserId`] is 128 random bits written as 32 lowercase hex digits. The server draws the bits
//! (the domain has no source of randomness) and hands the id to the browser in the session
//! cookie; the domain only builds, checks and shows ids.
//!
//! The lowest bit is the language of the user's generated name (set: English), chosen when the
//! id is drawn from the language of the page that asked for it. The name is a function of the
//! id, so every screen and every replica shows the same one whatever its own language, and one
//! event frame can serve every viewer.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::{DisplayName, NameLanguage};

/// How many hex digits a [`UserId`] has: one per 4 of its 128 bits.
const HEX_DIGITS: usize = 32;

/// A user's id: 32 lowercase hex digits.
///
/// Serialised as a plain string. Deserialising validates through [`UserId::parse`], so a
/// stored id that is not one is refused rather than carried along.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String")]
pub struct UserId(String);

/// Why a string is not a [`UserId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserIdError {
    /// A character other than `0`-`9` and `a`-`f`.
    #[error("the character {ch:?} is not allowed in a user id (use 0-9 and a-f)")]
    InvalidCharacter {
        /// The offending character.
        ch: char,
    },
    /// Not exactly 32 hex digits.
    #[error("a user id has 32 hex digits, not {len}")]
    WrongLength {
        /// The length of the submitted id.
        len: usize,
    },
}

impl UserId {
    /// The id made of `bits`; the server draws them at random for each new user.
    pub fn from_u128(bits: u128) -> UserId {
        UserId(format!("{bits:032x}"))
    }

    /// The id made of `bits`, with its lowest bit set to say `language` (the rest kept).
    pub fn with_name_language(bits: u128, language: NameLanguage) -> UserId {
        let english = u128::from(language == NameLanguage::English);
        UserId::from_u128((bits & !1) | english)
    }

    /// The language of this user's generated name: its lowest bit.
    pub fn name_language(&self) -> NameLanguage {
        // Ids are hex (checked when made or parsed): the last digit holds the bit.
        let last = self.0.chars().last().and_then(|digit| digit.to_digit(16));
        if last.unwrap_or(0) & 1 == 1 {
            NameLanguage::English
        } else {
            NameLanguage::Spanish
        }
    }

    /// Accepts exactly what [`UserId::from_u128`] makes: checks the characters, then the
    /// length. No tidying (an id that differs is another user's, or nobody's).
    pub fn parse(raw: &str) -> Result<UserId, UserIdError> {
        if let Some(ch) = raw.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(UserIdError::InvalidCharacter { ch });
        }
        // All ASCII from here, so bytes == chars.
        if raw.len() != HEX_DIGITS {
            return Err(UserIdError::WrongLength { len: raw.len() });
        }
        Ok(UserId(raw.to_owned()))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The friendly name a user has until they choose one.
    pub fn default_name(&self) -> DisplayName {
        DisplayName::generated(self.0.as_bytes(), self.name_language())
    }
}

impl TryFrom<String> for UserId {
    type Error = UserIdError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        UserId::parse(&value)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::deserialize_str;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ids_are_the_bits_in_lowercase_hex() {
        assert_eq!(
            UserId::from_u128(0).as_str(),
            "00000000000000000000000000000000"
        );
        assert_eq!(
            UserId::from_u128(u128::MAX).as_str(),
            "ffffffffffffffffffffffffffffffff"
        );
        let id = UserId::from_u128(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(id.as_str(), "0123456789abcdef0011223344556677");
        assert_eq!(id.to_string(), id.as_str());
    }

    #[test]
    fn parse_refuses_anything_else() {
        let valid = "0123456789abcdef0011223344556677";
        assert_eq!(
            UserId::parse(valid).map(|id| id.to_string()),
            Ok(valid.into())
        );
        assert_eq!(UserId::parse(""), Err(UserIdError::WrongLength { len: 0 }));
        assert_eq!(
            UserId::parse(&valid[1..]),
            Err(UserIdError::WrongLength { len: 31 })
        );
        assert_eq!(
            UserId::parse(&format!("{valid}0")),
            Err(UserIdError::WrongLength { len: 33 })
        );
        assert_eq!(
            UserId::parse(&"A".repeat(32)),
            Err(UserIdError::InvalidCharacter { ch: 'A' })
        );
        assert_eq!(
            UserId::parse("not-an-id"),
            Err(UserIdError::InvalidCharacter { ch: 'n' })
        );
        // No tidying: what differs from an id is not one.
        assert!(UserId::parse(&format!(" {valid}")).is_err());
        assert!(UserId::parse(&valid.to_uppercase()).is_err());
        // A multi-byte character is named, not counted in bytes.
        assert_eq!(
            UserId::parse(&format!("{}é", &valid[..31])),
            Err(UserIdError::InvalidCharacter { ch: 'é' })
        );
    }

    #[test]
    fn serde_is_the_plain_string_and_validates() {
        let id = UserId::from_u128(42);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            format!("\"{}\"", id.as_str())
        );
        assert_eq!(deserialize_str::<UserId>(id.as_str()), Ok(id.clone()));
        assert_eq!(
            serde_json::from_str::<UserId>(&format!("\"{id}\"")).unwrap(),
            id
        );
        let refused = deserialize_str::<UserId>("ana").unwrap_err();
        assert!(refused.contains("not allowed in a user id"), "{refused}");
        assert!(serde_json::from_str::<UserId>("42").is_err());
    }

    #[test]
    fn the_default_name_is_generated_from_the_id() {
        let spanish = UserId::from_u128(6);
        assert_eq!(
            spanish.default_name(),
            DisplayName::generated(spanish.as_str().as_bytes(), NameLanguage::Spanish)
        );
        let english = UserId::from_u128(0xb);
        assert_eq!(
            english.default_name(),
            DisplayName::generated(english.as_str().as_bytes(), NameLanguage::English)
        );
    }

    proptest! {
        #[test]
        fn the_lowest_bit_says_the_name_language(bits in any::<u128>()) {
            for language in [NameLanguage::Spanish, NameLanguage::English] {
                let id = UserId::with_name_language(bits, language);
                prop_assert_eq!(id.name_language(), language);
                prop_assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
                // Every other bit is the drawn one.
                prop_assert_eq!(u128::from_str_radix(id.as_str(), 16).unwrap() >> 1, bits >> 1);
            }
            let plain = UserId::from_u128(bits);
            let expected = if bits & 1 == 1 { NameLanguage::English } else { NameLanguage::Spanish };
            prop_assert_eq!(plain.name_language(), expected);
        }
    }

    proptest! {
        #[test]
        fn every_id_made_parses_back(bits in any::<u128>()) {
            let id = UserId::from_u128(bits);
            prop_assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
        }

        #[test]
        fn accepted_ids_are_32_lowercase_hex_digits(raw in prop_oneof!["[0-9a-f]{31,33}", "[0-9a-fA-F]{32}", any::<String>()]) {
            if let Ok(id) = UserId::parse(&raw) {
                prop_assert_eq!(id.as_str().len(), 32);
                prop_assert!(id.as_str().bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
                prop_assert_eq!(id.as_str(), raw.as_str());
            }
        }
    }
}
