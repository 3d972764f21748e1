//! Words: the unit a player adds to the shared sentence, and how a sentence
//! made of words is shown.
//!
//! A [`Word`] can only be obtained through [`Word::parse`], so any `Word` in
//! the program is known to satisfy the contract's word rules (see the docs of
//! `parse` for the exact grammar).

use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{
    GeneralCategory, GeneralCategoryGroup, UnicodeEmoji, UnicodeGeneralCategory,
};

/// Characters that are never accepted in words or display names.
///
/// Why: words and names end up inside HTML, Markdown-ish renderers, template
/// strings and log lines. Rendering code must escape anyway; this list is
/// defence in depth so that nothing a player types can *look like* markup:
///
/// * `<` `>` `&` — HTML tags and entities;
/// * `` ` `` `\` — code spans, escapes;
/// * `{` `}` — template interpolation (`{{ }}`, `${ }`);
/// * `[` `]` — Markdown links / BBCode;
/// * `=` — HTML attributes (`onerror=`);
/// * `|` — template filters (`{{ x | safe }}`) and Markdown tables.
///
/// Some of these are symbols (`<` `>` `=` `|` are Sm, `` ` `` is Sk), which
/// the word grammar would otherwise allow, hence the explicit list.
pub const MARKUP_CHARS: &[char] = &['<', '>', '&', '`', '\\', '{', '}', '[', ']', '=', '|'];

/// Punctuation that may open a word, before its body (`¿Qué`, `«cita`).
pub const OPENING_PUNCTUATION: &[char] = &['¿', '¡', '«', '"', '\'', '(', '“', '‘'];

/// Punctuation that may close a word, after its body (`hola,`, `fin.»`).
/// A token made only of these characters is a valid punctuation-only word.
pub const CLOSING_PUNCTUATION: &[char] = &[
    '.', ',', ';', ':', '!', '?', '…', '»', '"', '\'', ')', '”', '’',
];

/// Apostrophes, hyphens and the Catalan middle dot: allowed only between two
/// body characters (`l'amour`, `rock-and-roll`, `col·lecció`).
pub const INNER_JOINERS: &[char] = &['\'', '’', '-', '‐', '·'];

/// Separators allowed only between two decimal digits (`3.14`, `1,5`, `10:30`).
pub const DIGIT_SEPARATORS: &[char] = &['.', ',', ':'];

/// Characters that end a sentence when they are the last one of a word (after
/// stripping [`TRAILING_CLOSERS`]).
const SENTENCE_TERMINATORS: &[char] = &['.', '!', '?', '…'];

/// Closing quotes and brackets that may follow a sentence terminator
/// (`fin.»`, `(sí.)`) without changing whether the sentence ends.
const TRAILING_CLOSERS: &[char] = &['»', '"', '\'', ')', '”', '’'];

/// ZERO WIDTH JOINER, the glue of emoji ZWJ sequences (`👨‍👩‍👧`).
const ZWJ: char = '\u{200D}';
/// CANCEL TAG, terminator of emoji tag sequences (subdivision flags like 🏴󠁧󠁢󠁳󠁣󠁴󠁿).
const CANCEL_TAG: char = '\u{E007F}';
/// VARIATION SELECTOR-16 (emoji presentation).
const VS16: char = '\u{FE0F}';
/// COMBINING ENCLOSING KEYCAP.
const KEYCAP: char = '\u{20E3}';

/// A validated word of a sentence.
///
/// The stored text is NFC-normalised and trimmed; see [`Word::parse`].
/// It serialises as a plain string. It deliberately does not implement
/// `Deserialize`: validity depends on the room's maximum length, so incoming
/// text must go through `parse` with the right limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Word(String);

/// Why a raw string is not a valid [`Word`].
///
/// Serialised as `{"code": "<code>", ...fields}`; the tag equals
/// [`WordError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum WordError {
    /// Nothing but whitespace.
    #[error("the word is empty")]
    Empty,
    /// Whitespace inside the token.
    #[error("a word must be a single token without spaces")]
    MultipleTokens,
    /// More than `max` characters (counted after NFC normalisation).
    #[error("the word is too long: {len} characters, the maximum is {max}")]
    TooLong {
        /// The limit in force.
        max: usize,
        /// The length of the submitted word.
        len: usize,
    },
    /// A control (Cc) or invisible format (Cf) character.
    #[error("the word contains a control or invisible character")]
    ControlCharacter,
    /// A character of [`MARKUP_CHARS`].
    #[error("the character {ch:?} is not allowed because it could be read as markup")]
    Markup {
        /// The offending character.
        ch: char,
    },
    /// A character that is never allowed in a word (e.g. `@`, `%`, `_`).
    #[error("the character {ch:?} is not allowed in a word")]
    InvalidCharacter {
        /// The offending character.
        ch: char,
    },
    /// An allowed punctuation character in a place where it is not allowed.
    #[error(
        "misplaced punctuation: apostrophes and hyphens must sit between two letters, \
         '.', ',' and ':' inside a word only between two digits, \
         and opening punctuation must be followed by a word"
    )]
    MisplacedPunctuation,
}

impl WordError {
    /// Stable machine-readable code, e.g. for clients to localise messages.
    pub fn code(&self) -> &'static str {
        match self {
            WordError::Empty => "empty",
            WordError::MultipleTokens => "multiple_tokens",
            WordError::TooLong { .. } => "too_long",
            WordError::ControlCharacter => "control_character",
            WordError::Markup { .. } => "markup",
            WordError::InvalidCharacter { .. } => "invalid_character",
            WordError::MisplacedPunctuation => "misplaced_punctuation",
        }
    }
}

impl Word {
    /// Validates `raw` as one word of at most `max_len` characters.
    ///
    /// The text is NFC-normalised, then trimmed of Unicode whitespace. The
    /// result must be, in this order of checks:
    ///
    /// 1. non-empty ([`WordError::Empty`]);
    /// 2. free of whitespace ([`WordError::MultipleTokens`]);
    /// 3. free of control characters (Cc) and format characters (Cf), except
    ///    the ZERO WIDTH JOINER between two emoji and the tag characters of an
    ///    emoji tag sequence ([`WordError::ControlCharacter`]);
    /// 4. free of [`MARKUP_CHARS`] ([`WordError::Markup`]);
    /// 5. at most `max_len` characters ([`WordError::TooLong`]);
    /// 6. structured as `opening* body closing*`, or as `closing+` alone
    ///    (a punctuation-only token such as `.` or `?!`), where the body is
    ///    made of letters, marks, numbers and symbols (emoji included), with
    ///    [`INNER_JOINERS`] only between two body characters and
    ///    [`DIGIT_SEPARATORS`] only between two decimal digits
    ///    ([`WordError::InvalidCharacter`] for characters never allowed,
    ///    [`WordError::MisplacedPunctuation`] for allowed punctuation in the
    ///    wrong place).
    pub fn parse(raw: &str, max_len: usize) -> Result<Word, WordError> {
        let normalized: String = raw.nfc().collect();
        let text = normalized.trim();
        if text.is_empty() {
            return Err(WordError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(WordError::MultipleTokens);
        }
        let chars: Vec<char> = text.chars().collect();
        if has_forbidden_control(&chars) {
            return Err(WordError::ControlCharacter);
        }
        if let Some(ch) = find_markup(&chars) {
            return Err(WordError::Markup { ch });
        }
        if chars.len() > max_len {
            return Err(WordError::TooLong {
                max: max_len,
                len: chars.len(),
            });
        }
        check_structure(&chars)?;
        Ok(Word(text.to_owned()))
    }

    /// The checks of [`Word::parse`] that need none of Unicode's tables (normalisation, general
    /// categories, emoji), for the WebAssembly client: it checks a word before sending it, and
    /// the tables would add ~70 KB (brotli) to what every phone downloads.
    /// Every error found here is the one `parse` gives for the same text (a property test holds
    /// it to that); what passes, the server's `parse` decides. Text that normalisation changes
    /// is only checked for emptiness, spaces and control characters; ASCII text (which it leaves
    /// alone) for markup and length too.
    pub fn precheck(raw: &str, max_len: usize) -> Result<(), WordError> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(WordError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(WordError::MultipleTokens);
        }
        if text.chars().any(char::is_control) {
            return Err(WordError::ControlCharacter);
        }
        if text.is_ascii() {
            if let Some(ch) = text.chars().find(|&c| is_markup(c)) {
                return Err(WordError::Markup { ch });
            }
            if text.len() > max_len {
                return Err(WordError::TooLong {
                    max: max_len,
                    len: text.len(),
                });
            }
        }
        Ok(())
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised text, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Whether this word closes the sentence: after stripping trailing
    /// closing quotes and brackets, it ends with `.`, `!`, `?` or `…`.
    ///
    /// `3.14` does not end a sentence because its `.` is not last.
    pub fn ends_sentence(&self) -> bool {
        self.0
            .trim_end_matches(TRAILING_CLOSERS)
            .ends_with(SENTENCE_TERMINATORS)
    }

    /// Whether the word is only closing punctuation (`,`, `...`, `?!`).
    /// Such tokens are displayed attached to the previous word.
    pub fn is_punctuation_only(&self) -> bool {
        is_punctuation_only_text(&self.0)
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Word {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Whether `c` is in the markup deny list.
pub(super) fn is_markup(c: char) -> bool {
    MARKUP_CHARS.contains(&c)
}

/// The first markup character of `chars`, if any.
pub(super) fn find_markup(chars: &[char]) -> Option<char> {
    chars.iter().copied().find(|&c| is_markup(c))
}

/// Whether `chars` contains a control character (Cc) or a format character
/// (Cf) outside the emoji contexts where Cf characters are legitimate.
///
/// Why Cf at all: zero width spaces, bidi overrides, soft hyphens and the
/// like make two words that look identical compare different, or make text
/// render in a misleading order.
pub(super) fn has_forbidden_control(chars: &[char]) -> bool {
    chars
        .iter()
        .enumerate()
        .any(|(i, &c)| match c.general_category() {
            GeneralCategory::Control => true,
            GeneralCategory::Format => !is_allowed_format_char(chars, i, c),
            _ => false,
        })
}

/// Whether the Cf character `c` at index `i` sits in a valid emoji context:
///
/// * ZWJ: between an emoji (or emoji component such as VS16 or a skin tone)
///   and an emoji, as in `👨‍👩‍👧` or `🏳️‍🌈`;
/// * tag characters U+E0020..=U+E007E: after an emoji or another tag, and
///   followed by another tag or CANCEL TAG, as in 🏴󠁧󠁢󠁳󠁣󠁴󠁿;
/// * CANCEL TAG: right after a tag character.
///
/// ASCII digits, `#` and `*` are emoji components too (keycaps) but are
/// excluded so that `1\u{200D}2` is not accepted.
fn is_allowed_format_char(chars: &[char], i: usize, c: char) -> bool {
    let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
    let next = chars.get(i + 1).copied();
    if c == ZWJ {
        let prev_ok =
            prev.is_some_and(|p| !p.is_ascii() && p != ZWJ && p.is_emoji_char_or_emoji_component());
        let next_ok = next.is_some_and(|n| !n.is_ascii() && n.is_emoji_char());
        prev_ok && next_ok
    } else if is_tag_spec(c) {
        let prev_ok = prev.is_some_and(|p| is_tag_spec(p) || (!p.is_ascii() && p.is_emoji_char()));
        let next_ok = next.is_some_and(|n| is_tag_spec(n) || n == CANCEL_TAG);
        prev_ok && next_ok
    } else if c == CANCEL_TAG {
        prev.is_some_and(is_tag_spec)
    } else {
        false
    }
}

/// Tag characters other than CANCEL TAG.
fn is_tag_spec(c: char) -> bool {
    ('\u{E0020}'..='\u{E007E}').contains(&c)
}

fn is_opening(c: char) -> bool {
    OPENING_PUNCTUATION.contains(&c)
}

fn is_closing(c: char) -> bool {
    CLOSING_PUNCTUATION.contains(&c)
}

/// Whether `c` is punctuation the grammar knows (so a bad position is
/// "misplaced", not "invalid").
fn is_known_punctuation(c: char) -> bool {
    is_opening(c) || is_closing(c) || INNER_JOINERS.contains(&c) || DIGIT_SEPARATORS.contains(&c)
}

/// Non-empty and made only of closing punctuation.
fn is_punctuation_only_text(text: &str) -> bool {
    !text.is_empty() && text.chars().all(is_closing)
}

/// Whether `body[i]` is a body character on its own (not a joiner or
/// separator).
///
/// Emoji components were checked: VS16 and U+FE0E are Mn, the keycap U+20E3
/// is Me, skin tones U+1F3FB..=U+1F3FF are Sk and regional indicators are So,
/// so they are covered by the category test. ZWJ and tag characters are Cf;
/// they reach this point only in a valid context (see
/// [`has_forbidden_control`]) and are body characters. `#` and `*` are
/// punctuation but are the base of keycap emoji (`#️⃣`), so they count as body
/// characters only when followed by VS16 or the keycap mark.
fn is_body_char(body: &[char], i: usize) -> bool {
    let Some(&c) = body.get(i) else {
        return false;
    };
    match c.general_category_group() {
        GeneralCategoryGroup::Letter
        | GeneralCategoryGroup::Mark
        | GeneralCategoryGroup::Number
        | GeneralCategoryGroup::Symbol => true,
        _ if c == ZWJ || c == CANCEL_TAG || is_tag_spec(c) => true,
        _ if c == '#' || c == '*' => matches!(body.get(i + 1), Some(&(VS16 | KEYCAP))),
        _ => false,
    }
}

fn is_decimal_digit(c: char) -> bool {
    c.general_category() == GeneralCategory::DecimalNumber
}

/// Checks the `opening* body closing*` / `closing+` grammar (step 6 of
/// [`Word::parse`]). Earlier steps guarantee no whitespace, controls or markup.
fn check_structure(chars: &[char]) -> Result<(), WordError> {
    if chars.iter().all(|&c| is_closing(c)) {
        // Punctuation-only token: `.`, `...`, `?!`, and also a lone `"` or
        // `'`, which can be either opening or closing and is taken as closing.
        return Ok(());
    }
    let start = chars.iter().take_while(|&&c| is_opening(c)).count();
    let mut end = chars.len();
    while end > start && chars.get(end - 1).is_some_and(|&c| is_closing(c)) {
        end -= 1;
    }
    let body = chars.get(start..end).unwrap_or_default();
    if body.is_empty() {
        // Only opening punctuation (e.g. `¿` or `¿?`) is not a word.
        return Err(WordError::MisplacedPunctuation);
    }
    for (i, &c) in body.iter().enumerate() {
        if is_body_char(body, i) {
            continue;
        }
        let prev = i.checked_sub(1);
        let placed_well = if INNER_JOINERS.contains(&c) {
            prev.is_some_and(|p| is_body_char(body, p)) && is_body_char(body, i + 1)
        } else if DIGIT_SEPARATORS.contains(&c) {
            prev.and_then(|p| body.get(p))
                .is_some_and(|&p| is_decimal_digit(p))
                && body.get(i + 1).is_some_and(|&n| is_decimal_digit(n))
        } else {
            false
        };
        if placed_well {
            continue;
        }
        return Err(if is_known_punctuation(c) {
            WordError::MisplacedPunctuation
        } else {
            WordError::InvalidCharacter { ch: c }
        });
    }
    Ok(())
}

/// One token of a sentence as it should be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayToken {
    /// The word text, possibly with its first letter capitalised.
    pub text: String,
    /// Whether a space separates this token from the previous one.
    pub space_before: bool,
}

/// Prepares the words of one sentence (their stored texts, in order) for
/// display.
///
/// * The first *word* of the sentence — the first token that is not
///   punctuation-only — has its first character after any opening
///   punctuation upper-cased if it is a letter (`¿qué` → `¿Qué`,
///   `"hola` → `"Hola`, `ß` → `SS`). Nothing else is changed: a sentence
///   starting with `3` or `👍` is left as is.
/// * Punctuation-only tokens and the first token get `space_before: false`,
///   every other token gets `true`.
///
/// Accepts any strings (it never panics); it is meant for texts of [`Word`]s.
pub fn display_tokens<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<DisplayToken> {
    let mut first_word_done = false;
    words
        .into_iter()
        .enumerate()
        .map(|(i, word)| {
            let punctuation_only = is_punctuation_only_text(word);
            let text = if !first_word_done && !punctuation_only {
                first_word_done = true;
                capitalise_first_letter(word)
            } else {
                word.to_owned()
            };
            DisplayToken {
                text,
                space_before: i > 0 && !punctuation_only,
            }
        })
        .collect()
}

/// The sentence as one string, joining [`display_tokens`].
pub fn display_sentence<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for token in display_tokens(words) {
        if token.space_before {
            out.push(' ');
        }
        out.push_str(&token.text);
    }
    out
}

/// The characters that change when upper-cased but are not letters (general category L): a
/// combining mark (U+0345), the small Roman numerals (Nl) and the circled small letters (So).
/// [`capitalise_first_letter`] leaves them alone, as it leaves every non-letter.
const CASED_NON_LETTERS: [std::ops::RangeInclusive<char>; 3] = [
    '\u{345}'..='\u{345}',
    '\u{2170}'..='\u{217F}',
    '\u{24D0}'..='\u{24E9}',
];

/// Whether upper-casing `c` as the first letter of a sentence changes it: it is a letter with an
/// upper case. Asked without the general-category table (the client shows sentences too, and
/// that table is 16 KB of its download): every character that changes when upper-cased is a
/// letter but for [`CASED_NON_LETTERS`] (a unit test goes through every character).
fn capitalises(c: char) -> bool {
    !c.to_uppercase().eq([c]) && !CASED_NON_LETTERS.iter().any(|range| range.contains(&c))
}

/// Upper-cases the first character after the opening punctuation run, if it
/// is a letter.
fn capitalise_first_letter(word: &str) -> String {
    let opening_len: usize = word
        .chars()
        .take_while(|&c| is_opening(c))
        .map(char::len_utf8)
        .sum();
    // `opening_len` is a sum of whole char lengths, so it is a char boundary.
    let (opening, rest) = word.split_at(opening_len);
    let mut rest_chars = rest.chars();
    match rest_chars.next() {
        Some(first) if capitalises(first) => {
            let mut out = String::with_capacity(word.len() + 2);
            out.push_str(opening);
            out.extend(first.to_uppercase());
            out.push_str(rest_chars.as_str());
            out
        }
        _ => word.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{V, deserialize_map};
    use super::*;
    use proptest::prelude::*;
    use unicode_normalization::is_nfc;

    const MAX: usize = 32;

    fn ok(raw: &str) -> Word {
        match Word::parse(raw, MAX) {
            Ok(w) => w,
            Err(e) => panic!("{raw:?} should be accepted, got {e:?}"),
        }
    }

    fn err(raw: &str) -> WordError {
        match Word::parse(raw, MAX) {
            Ok(w) => panic!("{raw:?} should be rejected, got {w:?}"),
            Err(e) => e,
        }
    }

    // --- acceptance -------------------------------------------------------

    #[test]
    fn accepts_plain_and_accented_words() {
        assert_eq!(ok("hola").as_str(), "hola");
        assert_eq!(ok("niño").as_str(), "niño");
        assert_eq!(ok("Pingüino").as_str(), "Pingüino");
    }

    #[test]
    fn accepts_opening_and_closing_punctuation() {
        assert_eq!(ok("¿Qué").as_str(), "¿Qué");
        assert_eq!(ok("¡hola!").as_str(), "¡hola!");
        assert_eq!(ok("«cita»").as_str(), "«cita»");
        assert_eq!(ok("\"hola\",").as_str(), "\"hola\",");
        assert_eq!(ok("(sí.)").as_str(), "(sí.)");
        assert_eq!(ok("“bien”").as_str(), "“bien”");
        assert_eq!(ok("¡¿qué?!").as_str(), "¡¿qué?!");
    }

    #[test]
    fn accepts_inner_apostrophes_hyphens_and_middle_dot() {
        ok("l'amour");
        ok("l’amour");
        ok("rock-and-roll");
        ok("anti‐virus"); // U+2010 HYPHEN
        ok("col·lecció");
        ok("'tis"); // leading apostrophe is an opening quote
        ok("l'"); // trailing apostrophe is a closing quote
    }

    #[test]
    fn accepts_digit_separators_between_digits() {
        ok("3.14");
        ok("10:30");
        ok("1,5");
        ok("1.000.000");
        ok("3.14.");
    }

    #[test]
    fn accepts_punctuation_only_tokens() {
        for raw in [".", "...", "?!", "…", ",", "»", "\"", "'", ".\""] {
            let w = ok(raw);
            assert!(w.is_punctuation_only(), "{raw:?}");
        }
    }

    #[test]
    fn accepts_emoji_and_sequences() {
        ok("👍");
        ok("👍🏽"); // skin tone modifier
        ok("👨‍👩‍👧"); // ZWJ family
        ok("🏳️‍🌈"); // VS16 before ZWJ
        ok("🇪🇸"); // regional indicator pair
        ok("1️⃣"); // digit keycap
        ok("#️⃣"); // '#' keycap
        ok("🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"); // Scotland
        ok("¡👍!");
        ok("5€");
    }

    #[test]
    fn emoji_components_fall_in_allowed_categories() {
        // Documents the check required by the contract: which components are
        // covered by M*/S* and which need explicit handling.
        assert_eq!(VS16.general_category(), GeneralCategory::NonspacingMark);
        assert_eq!(
            '\u{FE0E}'.general_category(),
            GeneralCategory::NonspacingMark
        );
        assert_eq!(KEYCAP.general_category(), GeneralCategory::EnclosingMark);
        for tone in '\u{1F3FB}'..='\u{1F3FF}' {
            assert_eq!(tone.general_category(), GeneralCategory::ModifierSymbol);
        }
        assert_eq!('\u{1F1EA}'.general_category(), GeneralCategory::OtherSymbol);
        assert_eq!('\u{1F9B0}'.general_category(), GeneralCategory::OtherSymbol); // red hair
        // These two are Cf and are allowed explicitly, in context only.
        assert_eq!(ZWJ.general_category(), GeneralCategory::Format);
        assert_eq!('\u{E0067}'.general_category(), GeneralCategory::Format);
        // '#' is punctuation: keycap bases are allowed explicitly.
        assert_eq!('#'.general_category(), GeneralCategory::OtherPunctuation);
    }

    #[test]
    fn normalises_to_nfc_and_trims() {
        let w = ok("e\u{301}");
        assert_eq!(w.as_str(), "é");
        assert_eq!(w.as_str().chars().count(), 1);
        assert_eq!(ok("  hola\u{A0}\n").as_str(), "hola");
    }

    #[test]
    fn length_is_counted_in_nfc_chars() {
        // 32 decomposed é's are 64 chars before NFC but 32 after.
        let raw = "e\u{301}".repeat(32);
        assert_eq!(ok(&raw).as_str().chars().count(), 32);
        assert_eq!(ok(&"a".repeat(32)).as_str().len(), 32);
        assert_eq!(ok(&"ñ".repeat(32)).as_str().chars().count(), 32);
    }

    // --- rejection --------------------------------------------------------

    #[test]
    fn rejects_empty_and_blank() {
        assert_eq!(err(""), WordError::Empty);
        assert_eq!(err("   "), WordError::Empty);
        assert_eq!(err("\u{3000}\t"), WordError::Empty);
    }

    #[test]
    fn rejects_inner_whitespace() {
        assert_eq!(err("dos palabras"), WordError::MultipleTokens);
        assert_eq!(err("a\tb"), WordError::MultipleTokens);
        assert_eq!(err("a\u{A0}b"), WordError::MultipleTokens);
        assert_eq!(err("a\u{2028}b"), WordError::MultipleTokens);
    }

    #[test]
    fn rejects_too_long() {
        let raw = "a".repeat(33);
        assert_eq!(err(&raw), WordError::TooLong { max: 32, len: 33 });
        assert_eq!(
            Word::parse("hola", 3),
            Err(WordError::TooLong { max: 3, len: 4 })
        );
        assert!(Word::parse("hola", 4).is_ok());
    }

    #[test]
    fn rejects_control_and_invisible_characters() {
        assert_eq!(err("a\u{0007}b"), WordError::ControlCharacter);
        assert_eq!(err("\u{200B}"), WordError::ControlCharacter); // zero width space
        assert_eq!(err("a\u{200B}b"), WordError::ControlCharacter);
        assert_eq!(err("a\u{AD}b"), WordError::ControlCharacter); // soft hyphen
        assert_eq!(err("\u{202E}abc"), WordError::ControlCharacter); // bidi override
        assert_eq!(err("\u{FEFF}hola"), WordError::ControlCharacter); // BOM
    }

    #[test]
    fn rejects_zwj_outside_emoji_sequences() {
        assert_eq!(err("\u{200D}"), WordError::ControlCharacter);
        assert_eq!(err("a\u{200D}b"), WordError::ControlCharacter);
        assert_eq!(err("1\u{200D}2"), WordError::ControlCharacter);
        assert_eq!(err("👨\u{200D}"), WordError::ControlCharacter);
        assert_eq!(err("\u{200D}👨"), WordError::ControlCharacter);
        assert_eq!(err("👨\u{200D}\u{200D}👩"), WordError::ControlCharacter);
    }

    #[test]
    fn rejects_malformed_tag_sequences() {
        assert_eq!(err("\u{E0067}"), WordError::ControlCharacter);
        assert_eq!(err("a\u{E0067}\u{E007F}"), WordError::ControlCharacter);
        assert_eq!(err("🏴\u{E0067}"), WordError::ControlCharacter); // no CANCEL TAG
        assert_eq!(err("🏴\u{E007F}"), WordError::ControlCharacter); // no tag spec
    }

    #[test]
    fn rejects_markup() {
        assert_eq!(err("<b>"), WordError::Markup { ch: '<' });
        assert_eq!(err("a<b"), WordError::Markup { ch: '<' });
        assert_eq!(err("&amp;"), WordError::Markup { ch: '&' });
        for &ch in MARKUP_CHARS {
            assert_eq!(err(&format!("a{ch}b")), WordError::Markup { ch });
        }
    }

    #[test]
    fn rejects_misplaced_punctuation() {
        assert_eq!(err("-hola"), WordError::MisplacedPunctuation);
        assert_eq!(err("hola-"), WordError::MisplacedPunctuation);
        assert_eq!(err("a--b"), WordError::MisplacedPunctuation);
        assert_eq!(err("a-'b"), WordError::MisplacedPunctuation);
        assert_eq!(err("¿"), WordError::MisplacedPunctuation);
        assert_eq!(err("¿?"), WordError::MisplacedPunctuation);
        assert_eq!(err("(«"), WordError::MisplacedPunctuation);
        assert_eq!(err("hola!mundo"), WordError::MisplacedPunctuation);
        assert_eq!(err("a.b"), WordError::MisplacedPunctuation);
        assert_eq!(err(".5"), WordError::MisplacedPunctuation);
        assert_eq!(err("3.x"), WordError::MisplacedPunctuation);
        assert_eq!(err("hola¿"), WordError::MisplacedPunctuation);
        assert_eq!(err("·hola"), WordError::MisplacedPunctuation);
    }

    #[test]
    fn rejects_invalid_characters() {
        assert_eq!(err("@ana"), WordError::InvalidCharacter { ch: '@' });
        assert_eq!(err("50%"), WordError::InvalidCharacter { ch: '%' });
        assert_eq!(err("a_b"), WordError::InvalidCharacter { ch: '_' });
        assert_eq!(err("#tag"), WordError::InvalidCharacter { ch: '#' });
        assert_eq!(err("—"), WordError::InvalidCharacter { ch: '—' });
        assert_eq!(
            err("\u{E000}"),
            WordError::InvalidCharacter { ch: '\u{E000}' }
        ); // private use
    }

    #[test]
    fn check_order_is_respected() {
        // whitespace before control
        assert_eq!(err("a\u{7} b"), WordError::MultipleTokens);
        // control before markup
        assert_eq!(err("<\u{7}"), WordError::ControlCharacter);
        // markup before length
        assert_eq!(
            err(&format!("<{}", "a".repeat(40))),
            WordError::Markup { ch: '<' }
        );
        // length before structure
        assert_eq!(
            err(&format!("-{}", "a".repeat(40))),
            WordError::TooLong { max: 32, len: 41 }
        );
    }

    // --- queries ----------------------------------------------------------

    #[test]
    fn ends_sentence() {
        for raw in [
            "fin.", "¿qué?", "fin.»", "...", "¡ya!", "bien…", "(sí.)", "?!", "dijo.\"",
        ] {
            assert!(ok(raw).ends_sentence(), "{raw:?} should end a sentence");
        }
        for raw in ["hola,", "3.14", "hola", "»", "dijo:", "l'", "«cita»", ")"] {
            assert!(
                !ok(raw).ends_sentence(),
                "{raw:?} should not end a sentence"
            );
        }
    }

    #[test]
    fn punctuation_only() {
        assert!(ok(",").is_punctuation_only());
        assert!(!ok("hola,").is_punctuation_only());
        assert!(!ok("¡hola").is_punctuation_only());
        assert!(!ok("3").is_punctuation_only());
    }

    #[test]
    fn display_and_conversions() {
        let w = ok(" ¿Qué? ");
        assert_eq!(w.to_string(), "¿Qué?");
        assert_eq!(w.as_ref(), "¿Qué?");
        assert_eq!(w.into_string(), "¿Qué?");
    }

    #[test]
    fn error_codes_are_stable_and_match_serde_tags() {
        let cases = [
            (WordError::Empty, "empty", vec![]),
            (WordError::MultipleTokens, "multiple_tokens", vec![]),
            (
                WordError::TooLong { max: 32, len: 33 },
                "too_long",
                vec![("max", V::U(32)), ("len", V::U(33))],
            ),
            (WordError::ControlCharacter, "control_character", vec![]),
            (
                WordError::Markup { ch: '<' },
                "markup",
                vec![("ch", V::S("<"))],
            ),
            (
                WordError::InvalidCharacter { ch: '@' },
                "invalid_character",
                vec![("ch", V::S("@"))],
            ),
            (
                WordError::MisplacedPunctuation,
                "misplaced_punctuation",
                vec![],
            ),
        ];
        for (error, code, fields) in cases {
            assert_eq!(error.code(), code);
            let mut entries = vec![("code", V::S(code))];
            entries.extend(fields);
            let parsed: WordError = deserialize_map(entries).expect("deserializes");
            assert_eq!(parsed, error);
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn error_messages_name_the_details() {
        assert_eq!(
            WordError::TooLong { max: 32, len: 33 }.to_string(),
            "the word is too long: 33 characters, the maximum is 32"
        );
        assert!(WordError::Markup { ch: '<' }.to_string().contains("'<'"));
    }

    // --- display ----------------------------------------------------------

    fn token(text: &str, space_before: bool) -> DisplayToken {
        DisplayToken {
            text: text.to_owned(),
            space_before,
        }
    }

    #[test]
    fn display_capitalises_first_word_only() {
        assert_eq!(
            display_tokens(["hola", "mundo", "."]),
            vec![
                token("Hola", false),
                token("mundo", true),
                token(".", false)
            ]
        );
        assert_eq!(display_sentence(["¿qué", "tal?"]), "¿Qué tal?");
        assert_eq!(display_sentence(["\"hola\"", "dijo"]), "\"Hola\" dijo");
        assert_eq!(display_sentence(["«ella»", "dijo"]), "«Ella» dijo");
        assert_eq!(display_sentence(["ßtraße"]), "SStraße");
        assert_eq!(display_sentence(["ñandú", "corre"]), "Ñandú corre");
    }

    #[test]
    fn display_skips_leading_punctuation_only_tokens() {
        assert_eq!(
            display_tokens(["...", "y", "luego"]),
            vec![token("...", false), token("Y", true), token("luego", true)]
        );
    }

    #[test]
    fn display_does_not_capitalise_past_a_non_letter_first_word() {
        assert_eq!(display_sentence(["3", "cerditos"]), "3 cerditos");
        assert_eq!(display_sentence(["👍", "bien"]), "👍 bien");
        assert_eq!(display_sentence(["3x", "más"]), "3x más");
    }

    #[test]
    fn display_attaches_punctuation_only_tokens() {
        assert_eq!(
            display_sentence(["hola", ",", "mundo", "?!"]),
            "Hola, mundo?!"
        );
        assert_eq!(display_sentence(["ya", "»", "."]), "Ya».");
        assert_eq!(display_sentence(Vec::<&str>::new()), "");
        assert_eq!(display_tokens([","]), vec![token(",", false)]);
    }

    // --- properties -------------------------------------------------------

    /// Characters that exercise every branch of the grammar, so that
    /// generated strings are often accepted (arbitrary strings almost never
    /// are, which would make the "accepted implies ..." properties vacuous).
    fn wordish() -> impl Strategy<Value = String> {
        let alphabet: Vec<char> = concat!(
            "aZñéß3٣7 .,;:!?…«»\"'()“”‘’¿¡-‐·_%@",
            "👍👨👩🇪🇸🏴\u{301}\u{FE0F}\u{20E3}\u{1F3FB}\u{200D}\u{E0067}\u{E007F}",
            "<&\u{7}\t\u{200B}#*\u{A0}=>\u{338}\u{85}\u{7F}",
        )
        .chars()
        .collect();
        prop::collection::vec(prop::sample::select(alphabet), 0..12)
            .prop_map(|chars| chars.into_iter().collect())
    }

    /// Strings shaped like `opening* segment (joiner segment)* closing*`,
    /// mostly accepted, so that structural properties see many hyphens,
    /// apostrophes, digit separators and emoji sequences.
    fn plausible_word() -> impl Strategy<Value = String> {
        let opening =
            prop::collection::vec(prop::sample::select(OPENING_PUNCTUATION.to_vec()), 0..3);
        let segment = prop_oneof![
            "[a-zA-Zñéü]{1,5}",
            "[0-9]{1,3}",
            prop::sample::select(vec!["👍", "👍🏽", "👨‍👩‍👧", "🇪🇸", "1️⃣", "e\u{301}", "ß", "ǆ"])
                .prop_map(str::to_owned),
        ];
        let joiner = prop::sample::select(vec!['\'', '’', '-', '‐', '·', '.', ',', ':']);
        let rest = prop::collection::vec((joiner, segment.clone()), 0..3);
        let closing =
            prop::collection::vec(prop::sample::select(CLOSING_PUNCTUATION.to_vec()), 0..3);
        (opening, segment, rest, closing).prop_map(|(opening, first, rest, closing)| {
            let mut out: String = opening.into_iter().collect();
            out.push_str(&first);
            for (joiner, segment) in rest {
                out.push(joiner);
                out.push_str(&segment);
            }
            out.extend(closing);
            out
        })
    }

    /// Words the grammar accepts, and only those: `opening* body closing*` where the body is
    /// segments of letters, digits or emoji joined by an apostrophe, hyphen or middle dot, and
    /// numbers whose digits are joined by `.`, `,` or `:`; or closing punctuation alone.
    fn valid_word() -> impl Strategy<Value = String> {
        let opening =
            prop::collection::vec(prop::sample::select(OPENING_PUNCTUATION.to_vec()), 0..3);
        let number = (
            "[0-9٣]{1,3}",
            prop::collection::vec(
                (
                    prop::sample::select(DIGIT_SEPARATORS.to_vec()),
                    "[0-9]{1,3}",
                ),
                0..2,
            ),
        )
            .prop_map(|(first, rest)| {
                let mut out = first;
                for (separator, digits) in rest {
                    out.push(separator);
                    out.push_str(&digits);
                }
                out
            });
        let segment = prop_oneof![
            "[a-zA-Zñéüß]{1,5}",
            prop::sample::select(vec![
                "👍",
                "👍🏽",
                "👨‍👩‍👧",
                "🏳️‍🌈",
                "🇪🇸",
                "1️⃣",
                "#️⃣",
                "e\u{301}",
                "ǆ",
                "ß",
                "3ºB",
                "x²",
                "€5",
            ])
            .prop_map(str::to_owned),
            number,
        ];
        let joined = prop::collection::vec(
            (
                prop::sample::select(INNER_JOINERS.to_vec()),
                segment.clone(),
            ),
            0..3,
        );
        let closing =
            prop::collection::vec(prop::sample::select(CLOSING_PUNCTUATION.to_vec()), 0..3);
        let body_word =
            (opening, segment, joined, closing).prop_map(|(opening, first, rest, closing)| {
                let mut out: String = opening.into_iter().collect();
                out.push_str(&first);
                for (joiner, segment) in rest {
                    out.push(joiner);
                    out.push_str(&segment);
                }
                out.extend(closing);
                out
            });
        let punctuation_only =
            prop::collection::vec(prop::sample::select(CLOSING_PUNCTUATION.to_vec()), 1..4)
                .prop_map(|chars| chars.into_iter().collect::<String>());
        prop_oneof![4 => body_word, 1 => punctuation_only]
    }

    fn any_chars() -> impl Strategy<Value = String> {
        prop::collection::vec(any::<char>(), 0..40).prop_map(|chars| chars.into_iter().collect())
    }

    fn raw_input() -> impl Strategy<Value = String> {
        prop_oneof![wordish(), plausible_word(), any_chars(), any::<String>()]
    }

    #[test]
    fn a_character_capitalises_exactly_when_it_is_a_letter_with_an_upper_case() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let letter = c.general_category_group() == GeneralCategoryGroup::Letter;
            let changes = !c.to_uppercase().eq([c]);
            assert_eq!(
                capitalises(c),
                letter && changes,
                "{c:?} (U+{:04X})",
                u32::from(c)
            );
        }
    }

    proptest! {
        #[test]
        fn what_the_precheck_refuses_parse_refuses_with_the_same_error(
            raw in raw_input(),
            max in 1usize..=64,
        ) {
            if let Err(error) = Word::precheck(&raw, max) {
                prop_assert_eq!(Word::parse(&raw, max), Err(error));
            }
        }

        #[test]
        fn on_ascii_the_precheck_finds_markup_and_length_like_parse(
            raw in "[ -~]{0,30}",
            max in 1usize..=20,
        ) {
            let parsed = Word::parse(&raw, max);
            let found_early = matches!(
                parsed,
                Err(WordError::Empty
                    | WordError::MultipleTokens
                    | WordError::ControlCharacter
                    | WordError::Markup { .. }
                    | WordError::TooLong { .. })
            );
            match Word::precheck(&raw, max) {
                Err(error) => prop_assert_eq!(parsed, Err(error)),
                Ok(()) => prop_assert!(!found_early, "{:?} passed the precheck", raw),
            }
        }

        #[test]
        fn accepted_words_satisfy_invariants(raw in raw_input(), max in 1usize..=64) {
            if let Ok(w) = Word::parse(&raw, max) {
                let s = w.as_str();
                prop_assert!(is_nfc(s));
                prop_assert!(!s.chars().any(char::is_whitespace));
                prop_assert!(!s.chars().any(char::is_control));
                prop_assert!(!s.chars().any(is_markup));
                let len = s.chars().count();
                prop_assert!((1..=max).contains(&len));
                // Cf characters only as emoji glue.
                let only_emoji_glue = s.chars().all(|c| {
                    c.general_category() != GeneralCategory::Format
                        || c == ZWJ
                        || c == CANCEL_TAG
                        || is_tag_spec(c)
                });
                prop_assert!(only_emoji_glue);
            }
        }

        #[test]
        fn hyphens_and_middle_dots_are_always_inner(raw in prop_oneof![wordish(), plausible_word()]) {
            if let Ok(w) = Word::parse(&raw, 64) {
                let chars: Vec<char> = w.as_str().chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    if matches!(c, '-' | '‐' | '·') {
                        let prev = i.checked_sub(1).and_then(|j| chars.get(j));
                        let next = chars.get(i + 1);
                        prop_assert!(prev.is_some_and(|&p| !is_known_punctuation(p)));
                        prop_assert!(next.is_some_and(|&n| !is_known_punctuation(n)));
                    }
                }
            }
        }

        #[test]
        fn valid_words_are_accepted_as_their_normal_form(raw in valid_word()) {
            let normal: String = raw.nfc().collect();
            prop_assert_eq!(Word::parse(&raw, MAX).map(Word::into_string), Ok(normal.clone()));
            // Spaces around a word are not part of it.
            prop_assert_eq!(
                Word::parse(&format!(" {raw}\t"), MAX).map(Word::into_string),
                Ok(normal)
            );
        }

        #[test]
        fn a_valid_word_fits_a_limit_of_its_own_length_and_no_less(raw in valid_word()) {
            let len = raw.nfc().count();
            prop_assert!(Word::parse(&raw, len).is_ok());
            prop_assert_eq!(
                Word::parse(&raw, len - 1),
                Err(WordError::TooLong { max: len - 1, len })
            );
        }

        #[test]
        fn parse_round_trips(raw in raw_input(), max in 1usize..=64) {
            if let Ok(w) = Word::parse(&raw, max) {
                prop_assert_eq!(Word::parse(w.as_str(), max), Ok(w.clone()));
            }
        }

        #[test]
        fn parse_is_invariant_under_canonical_decomposition(raw in raw_input()) {
            let decomposed: String = raw.nfd().collect();
            prop_assert_eq!(Word::parse(&decomposed, MAX), Word::parse(&raw, MAX));
        }

        #[test]
        fn parse_never_panics(raw in any_chars(), max in 0usize..100) {
            let _ = Word::parse(&raw, max);
        }

        #[test]
        fn display_changes_at_most_the_first_word(
            words in prop::collection::vec(prop_oneof![wordish(), plausible_word(), any_chars()], 0..8)
        ) {
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let tokens = display_tokens(refs.iter().copied());
            prop_assert_eq!(tokens.len(), refs.len());
            let first_word = refs.iter().position(|w| !is_punctuation_only_text(w));
            let mut joined = String::new();
            for (i, (t, w)) in tokens.iter().zip(&refs).enumerate() {
                if Some(i) != first_word {
                    prop_assert_eq!(&t.text, w);
                }
                prop_assert_eq!(t.space_before, i > 0 && !is_punctuation_only_text(w));
                if t.space_before {
                    joined.push(' ');
                }
                joined.push_str(&t.text);
            }
            prop_assert_eq!(display_sentence(refs.iter().copied()), joined);
        }

        #[test]
        fn display_of_ascii_words_lowercases_back(
            words in prop::collection::vec("[a-zA-Z]{1,6}[.,!?]?", 1..8)
        ) {
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let shown = display_sentence(refs.iter().copied());
            prop_assert_eq!(shown.to_lowercase(), refs.join(" ").to_lowercase());
            prop_assert!(shown.starts_with(|c: char| c.is_ascii_uppercase()));
        }
    }
}
