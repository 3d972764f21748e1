//! Names: what a player is called ([`DisplayName`], typed or generated) and what a room is
//! called ([`RoomTitle`]).
//!
//! Both are text other players see, so both follow one rule (`parse_label`): tidied the way
//! people mean it (NFC, whitespace collapsed) and refused when it could hide or look like
//! something else (control, invisible or markup characters).

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::word::{find_markup, has_forbidden_control};

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

/// The language a generated name is made in: a player gets theirs in the language of the page
/// that first saw them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NameLanguage {
    #[default]
    Spanish,
    English,
}

/// Animals for Spanish generated names; all grammatically masculine.
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

/// Adjectives for Spanish generated names; all invariant in gender, so
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

/// Animals for English generated names.
const ANIMALS_EN: [&str; 32] = [
    "Owl",
    "Fox",
    "Lynx",
    "Bear",
    "Wolf",
    "Dolphin",
    "Tiger",
    "Puma",
    "Jaguar",
    "Falcon",
    "Rooster",
    "Hummingbird",
    "Penguin",
    "Koala",
    "Panda",
    "Beaver",
    "Rabbit",
    "Hedgehog",
    "Cat",
    "Dog",
    "Horse",
    "Deer",
    "Bull",
    "Condor",
    "Parrot",
    "Toucan",
    "Chameleon",
    "Octopus",
    "Shark",
    "Snail",
    "Flamingo",
    "Sparrow",
];

/// Adjectives for English generated names (they go before the animal).
const ADJECTIVES_EN: [&str; 32] = [
    "Blue", "Swift", "Happy", "Brave", "Kind", "Bold", "Cheerful", "Bright", "Able", "Sweet",
    "Elegant", "Strong", "Great", "Big", "Humble", "Clever", "Jolly", "Loyal", "Free", "Noble",
    "Patient", "Shrewd", "Subtle", "Steady", "Green", "Grey", "Friendly", "Nimble", "Faithful",
    "Gentle", "Smiling", "Firm",
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

    /// The checks of [`DisplayName::parse`] that need none of Unicode's tables, for the
    /// WebAssembly client (see [`crate::domain::Word::precheck`]): every error found here is the
    /// one `parse` gives; what passes, the server decides.
    pub fn precheck(raw: &str) -> Result<(), NameError> {
        let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(NameError::Empty);
        }
        if collapsed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacter);
        }
        if collapsed.is_ascii() {
            if let Some(ch) = find_markup(&collapsed.chars().collect::<Vec<_>>()) {
                return Err(NameError::Markup { ch });
            }
            if collapsed.len() > DISPLAY_NAME_MAX_CHARS {
                return Err(NameError::TooLong {
                    max: DISPLAY_NAME_MAX_CHARS,
                    len: collapsed.len(),
                });
            }
        }
        Ok(())
    }

    /// A friendly name such as `Búho Veloz 42` (in English `Swift Owl 42`), the same for the
    /// same seed and language on every platform and Rust version.
    pub fn generated(seed: &[u8], language: NameLanguage) -> DisplayName {
        let hash = fnv1a_64(seed);
        // The last FNV step is a multiplication, which only carries low bits
        // upwards: the low bits of the hash depend only on the low bits of
        // the input bytes. The high bits depend on every input bit, so the
        // indices are taken from there.
        let animal = (hash >> 59) as usize % ANIMALS.len();
        let adjective = (hash >> 54) as usize % ADJECTIVES.len();
        let number = 10 + (hash >> 32) % 90;
        DisplayName(match language {
            NameLanguage::Spanish => {
                format!("{} {} {number}", ANIMALS[animal], ADJECTIVES[adjective])
            }
            NameLanguage::English => {
                format!(
                    "{} {} {number}",
                    ADJECTIVES_EN[adjective], ANIMALS_EN[animal]
                )
            }
        })
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

/// The title the main room is created with (`migrations/`), in Spanish, frase's first language;
/// pages in another language show it translated (`i18n::shown_room_title`).
pub const MAIN_ROOM_TITLE: &str = "Sala principal";

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

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::super::testutil::{V, deserialize_map, deserialize_str};
    use super::super::word::MARKUP_CHARS;
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

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
        let a = DisplayName::generated(b"session-123", NameLanguage::Spanish);
        assert_eq!(
            a,
            DisplayName::generated(b"session-123", NameLanguage::Spanish)
        );
        // Pinned so that a change of hash or lists is noticed: names already
        // shown to players would change.
        assert_eq!(
            DisplayName::generated(b"", NameLanguage::Spanish).as_str(),
            PINNED_EMPTY_SEED
        );
        assert_eq!(
            DisplayName::generated(b"", NameLanguage::English).as_str(),
            PINNED_EMPTY_SEED_EN
        );
        let mut names = HashSet::new();
        let mut animals = HashSet::new();
        let mut adjectives = HashSet::new();
        for i in 0u32..2000 {
            let name =
                DisplayName::generated(&i.to_le_bytes(), NameLanguage::Spanish).into_string();
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
    const PINNED_EMPTY_SEED_EN: &str = "Clever Toucan 14";

    #[test]
    fn english_names_are_the_same_animal_and_adjective_in_english_order() {
        let mut animals = HashSet::new();
        let mut adjectives = HashSet::new();
        for i in 0u32..2000 {
            let seed = i.to_le_bytes();
            let spanish = DisplayName::generated(&seed, NameLanguage::Spanish).into_string();
            let english = DisplayName::generated(&seed, NameLanguage::English).into_string();
            let (es, en): (Vec<&str>, Vec<&str>) =
                (spanish.split(' ').collect(), english.split(' ').collect());
            assert_eq!(en.len(), 3, "{english}");
            assert_eq!(es[2], en[2], "{spanish} / {english}");
            let animal = ANIMALS.iter().position(|a| *a == es[0]).unwrap();
            let adjective = ADJECTIVES.iter().position(|a| *a == es[1]).unwrap();
            assert_eq!(
                (en[0], en[1]),
                (ADJECTIVES_EN[adjective], ANIMALS_EN[animal])
            );
            assert_eq!(
                DisplayName::parse(&english).as_ref(),
                Ok(&DisplayName(english.clone()))
            );
            animals.insert(en[1].to_owned());
            adjectives.insert(en[0].to_owned());
        }
        assert_eq!((animals.len(), adjectives.len()), (32, 32));
    }

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
        fn what_the_name_precheck_refuses_parse_refuses_with_the_same_error(
            raw in prop_oneof![
                prop::collection::vec(any::<char>(), 0..50).prop_map(|c| c.into_iter().collect::<String>()),
                "[ \t\na-zñé\u{301}\u{338}<>=&\u{7}\u{85}\u{200B}]{0,45}",
                "[ -~\t\n]{0,50}",
            ]
        ) {
            let parsed = DisplayName::parse(&raw);
            match DisplayName::precheck(&raw) {
                Err(error) => prop_assert_eq!(parsed, Err(error)),
                // On ASCII, only what needs no table is left to the server (nothing, for names).
                Ok(()) if raw.is_ascii() => prop_assert!(parsed.is_ok(), "{:?}: {:?}", raw, parsed),
                Ok(()) => {}
            }
        }

        #[test]
        fn generated_names_parse_back(seed in prop::collection::vec(any::<u8>(), 0..64)) {
            for language in [NameLanguage::Spanish, NameLanguage::English] {
                let name = DisplayName::generated(&seed, language);
                prop_assert_eq!(DisplayName::parse(name.as_str()), Ok(name.clone()));
            }
        }
    }
}
