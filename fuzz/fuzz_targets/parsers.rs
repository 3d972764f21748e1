//! Everything that turns raw client input into frase's types: a word, a display name, a room
//! title and code, and the JSON bodies of settings. None may panic, and what they accept must
//! hold the promises the rest of the code relies on.

#![no_main]

use frase::domain::{DisplayName, MARKUP_CHARS, RoomSettings, RoomSlug, RoomTitle, Word};
use frase::model::RoomSettingsPatch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks a length limit, as room settings would.
    let max_len = data.first().map_or(32, |b| usize::from(*b % 64) + 1);
    if let Ok(word) = Word::parse(text, max_len) {
        let parsed = word.as_str();
        assert!(!parsed.is_empty());
        assert!(parsed.chars().count() <= max_len);
        assert!(!parsed.chars().any(char::is_whitespace));
        assert!(!parsed.contains(MARKUP_CHARS), "markup in {parsed:?}");
        // A parsed word is its own parse: storing and reading it back changes nothing.
        assert_eq!(Word::parse(parsed, max_len).as_ref(), Ok(&word));
        let _ = word.ends_sentence();
    }
    if let Ok(name) = DisplayName::parse(text) {
        assert!(!name.as_str().contains(MARKUP_CHARS), "markup in {name:?}");
    }
    let _ = RoomTitle::parse(text);
    if let Ok(slug) = RoomSlug::parse(text) {
        assert!(
            slug.as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "slug {slug}"
        );
    }
    let _ = frase::domain::display_sentence(text.split(' '));
    if let Ok(settings) = serde_json::from_str::<RoomSettings>(text) {
        let _ = settings.validate();
    }
    if let Ok(patch) = serde_json::from_str::<RoomSettingsPatch>(text) {
        let _ = patch.apply(&RoomSettings::default()).validate();
    }
});
