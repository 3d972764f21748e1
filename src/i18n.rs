//! Spanish and English: which one a reader gets, and the words of each.
//!
//! Every text people read — the pages and the API's problem titles and details — is a message
//! of `locales/es.ftl` or `locales/en.ftl` ([Fluent](https://projectfluent.org) files, embedded
//! in the binary and the WebAssembly client alike, and read by [`ftl`], which knows the part of
//! Fluent they use), looked up by key with [`tr`]. The language
//! is chosen per request ([`Locale::choose`]): the `frase_lang` cookie that the page's language
//! switch sets, else `Accept-Language`, else Spanish. Plain Rust, no I/O: both targets use it.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

mod ftl;
use ftl::Messages;

/// A language frase speaks. Spanish when in doubt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    Es,
    En,
}

/// The session cookie that remembers the language chosen with the page's switch.
pub const COOKIE: &str = "frase_lang";

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Es, Locale::En];

    /// Its language tag, as in `<html lang>` and the cookie.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::Es => "es",
            Locale::En => "en",
        }
    }

    /// The language a tag names by its primary subtag (`en-GB` is English); `None` for others.
    pub fn parse(tag: &str) -> Option<Locale> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or("");
        Locale::ALL
            .into_iter()
            .find(|locale| primary.eq_ignore_ascii_case(locale.tag()))
    }

    /// The best of ours for an `Accept-Language` header (RFC 9110 §12.5.4): the highest `q`,
    /// the first listed on a tie; `*` and anything unknown or malformed mean Spanish.
    pub fn negotiate(accept_language: Option<&str>) -> Locale {
        let mut best: Option<(f32, Locale)> = None;
        for range in accept_language.unwrap_or("").split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim();
            // A malformed `q` counts as 0: that range is not taken.
            let quality = parts
                .filter_map(|param| param.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, value)| value.trim().parse::<f32>().unwrap_or(0.0));
            if !(quality > 0.0 && quality <= 1.0) {
                continue;
            }
            let locale = if tag == "*" {
                Some(Locale::default())
            } else {
                Locale::parse(tag)
            };
            if let Some(locale) = locale
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, locale));
            }
        }
        best.map(|(_, locale)| locale).unwrap_or_default()
    }

    /// The reader's language: the cookie set by the switch, else `Accept-Language`, else Spanish.
    pub fn choose(cookie: Option<&str>, accept_language: Option<&str>) -> Locale {
        cookie
            .and_then(Locale::parse)
            .unwrap_or_else(|| Locale::negotiate(accept_language))
    }

    fn index(self) -> usize {
        match self {
            Locale::Es => 0,
            Locale::En => 1,
        }
    }
}

/// The message files, in the order of [`Locale::index`].
const SOURCES: [(&str, &str); 2] = [
    ("es", include_str!("../locales/es.ftl")),
    ("en", include_str!("../locales/en.ftl")),
];

/// Read once. A message this reader cannot read is left out (a unit test checks every message
/// of both files against Fluent's own formatter).
static MESSAGES: LazyLock<[Messages; 2]> =
    LazyLock::new(|| SOURCES.map(|(tag, source)| Messages::parse(tag, source)));

fn messages(locale: Locale) -> &'static Messages {
    &MESSAGES[locale.index()]
}

/// Whether `locale` has a message `key`.
pub fn has(locale: Locale, key: &str) -> bool {
    messages(locale).has(key)
}

/// The message `key` of `locale` with `args`, or `None` when that file lacks it. An argument that
/// is a whole number (as `to_string` writes it) selects a plural form.
pub fn lookup(locale: Locale, key: &str, args: &[(&str, String)]) -> Option<String> {
    messages(locale).format(key, args)
}

/// The text of message `key` in `locale`, with `args`. Never fails: a key missing in `locale`
/// falls back to Spanish, then to the key itself.
pub fn tr(locale: Locale, key: &str, args: &[(&str, String)]) -> String {
    lookup(locale, key, args)
        .or_else(|| lookup(Locale::default(), key, args))
        .unwrap_or_else(|| key.to_owned())
}

/// A message to be rendered later, in the reader's language: a key and its arguments. It
/// travels inside [`crate::error::AppError`], which is made deep in the server, far from the
/// request that says which language to answer in.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Message {
    /// The message's key; empty for a literal text (`args` then holds it as `text`).
    pub key: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
}

impl Message {
    pub fn new(key: &str) -> Message {
        Message {
            key: key.to_owned(),
            args: Vec::new(),
        }
    }

    /// Text that is not translated (what the caller gave when it had no key).
    pub fn literal(text: impl Into<String>) -> Message {
        Message {
            key: String::new(),
            args: vec![("text".to_owned(), text.into())],
        }
    }

    pub fn arg(mut self, name: &str, value: impl std::fmt::Display) -> Message {
        self.args.push((name.to_owned(), value.to_string()));
        self
    }

    /// The message of `prefix-<code>` for a domain error serialised as `{"code", ...fields}`,
    /// its fields as arguments (`word-too-long` with `max` and `len`).
    pub fn of_error<E: Serialize>(prefix: &str, error: &E) -> Message {
        let mut message = Message::new("");
        let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(error) else {
            return message;
        };
        for (name, value) in fields {
            let value = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            if name == "code" {
                message.key = format!("{prefix}-{}", value.replace('_', "-"));
            } else {
                message.args.push((name, value));
            }
        }
        message
    }

    /// Its text in `locale`; `None` when no message file has the key.
    pub fn render(&self, locale: Locale) -> Option<String> {
        if self.key.is_empty() {
            return self
                .args
                .iter()
                .find(|(name, _)| name == "text")
                .map(|(_, text)| text.clone());
        }
        let args: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()))
            .collect();
        lookup(locale, &self.key, &args).or_else(|| lookup(Locale::default(), &self.key, &args))
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::literal(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::literal(text)
    }
}

/// The page's language (components): what [`crate::app::App`] put in context.
pub fn use_locale() -> Locale {
    leptos::prelude::use_context::<Locale>().unwrap_or_default()
}

/// A room's title as a page shows it: the main room's built-in title in the reader's language
/// (it is stored in Spanish, and nobody hosts the main room to rename it); any other as written.
pub fn shown_room_title(locale: Locale, slug: &str, title: &str) -> String {
    if slug == "main" && title == crate::domain::MAIN_ROOM_TITLE {
        tr(locale, "main-room-title", &[])
    } else {
        title.to_owned()
    }
}

/// A message of the page's language, for a view: `{t("word-form-submit")}`.
pub fn t(key: &str) -> String {
    tr(use_locale(), key, &[])
}

/// The language the page is rendered in: on the server, the one the request negotiated (see
/// `server::http::locale`); in the browser, the one the server wrote into `<html lang>`, so
/// that hydration finds the very texts it rendered.
pub fn page_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        let parts = leptos::prelude::use_context::<http::request::Parts>();
        if let Some(parts) = parts {
            return parts
                .extensions
                .get::<Locale>()
                .copied()
                .unwrap_or_else(|| {
                    let header = |name| {
                        parts
                            .headers
                            .get(name)
                            .and_then(|value: &http::HeaderValue| value.to_str().ok())
                    };
                    Locale::choose(
                        cookie(header(http::header::COOKIE).unwrap_or(""), COOKIE),
                        header(http::header::ACCEPT_LANGUAGE),
                    )
                });
        }
    }
    #[cfg(feature = "hydrate")]
    {
        let lang = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
            .and_then(|html| html.get_attribute("lang"));
        if let Some(locale) = lang.as_deref().and_then(Locale::parse) {
            return locale;
        }
    }
    Locale::default()
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_of_ours_and_spanish_when_in_doubt() {
        let cases = [
            (None, Locale::Es),
            (Some(""), Locale::Es),
            (Some("en"), Locale::En),
            (Some("en-GB"), Locale::En),
            (Some("EN-us,en;q=0.9"), Locale::En),
            (Some("es"), Locale::Es),
            (Some("es-MX, en;q=0.5"), Locale::Es),
            (Some("fr, en;q=0.8, es;q=0.9"), Locale::Es),
            (Some("fr, en;q=0.8, es;q=0.7"), Locale::En),
            (Some("de, fr"), Locale::Es),
            (Some("en;q=0"), Locale::Es),
            (Some("en;q=abc"), Locale::Es),
            (Some("*"), Locale::Es),
            (Some("en;q=0.5, es;q=0.5"), Locale::En),
            (Some("zh-Hant-TW;q=1, en-US;q=0.3"), Locale::En),
            (Some(",,;;==;q="), Locale::Es),
        ];
        for (header, expected) in cases {
            assert_eq!(Locale::negotiate(header), expected, "{header:?}");
        }
    }

    #[test]
    fn the_cookie_wins_over_the_header() {
        assert_eq!(Locale::choose(Some("es"), Some("en")), Locale::Es);
        assert_eq!(Locale::choose(Some("en"), None), Locale::En);
        assert_eq!(Locale::choose(Some("xx"), Some("en")), Locale::En);
        assert_eq!(Locale::choose(None, None), Locale::Es);
        assert_eq!(cookie("a=1; frase_lang=en; b=2", COOKIE), Some("en"));
        assert_eq!(cookie("frase_langx=en", COOKIE), None);
    }

    /// Every message of both files formats as Fluent's own formatter formats it, with each
    /// argument it names given as a word, as numbers of every plural form, or missing.
    #[test]
    fn every_message_reads_and_formats_as_fluent_formats_it() {
        use fluent_bundle::{FluentArgs, FluentBundle, FluentResource};
        use fluent_syntax::ast;

        fn arguments(pattern: &ast::Pattern<&str>, names: &mut Vec<String>) {
            for element in &pattern.elements {
                let ast::PatternElement::Placeable { expression } = element else {
                    continue;
                };
                let (ast::Expression::Select { selector, .. } | ast::Expression::Inline(selector)) =
                    expression;
                if let ast::InlineExpression::VariableReference { id } = selector {
                    names.push(id.name.to_owned());
                }
                if let ast::Expression::Select { variants, .. } = expression {
                    for variant in variants {
                        arguments(&variant.value, names);
                    }
                }
            }
        }

        let mut checked = 0;
        for (tag, source) in SOURCES {
            let resource = FluentResource::try_new(source.to_owned()).expect("the file parses");
            let mut bundle = FluentBundle::new(vec![tag.parse().expect("a language tag")]);
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).expect("no message twice");
            let ours = Messages::parse(tag, source);
            for entry in fluent_syntax::parser::parse(source)
                .expect("the file parses")
                .body
            {
                let ast::Entry::Message(message) = entry else {
                    continue;
                };
                let key = message.id.name;
                assert!(message.attributes.is_empty(), "{tag}: {key} has attributes");
                let value = message.value.as_ref().expect("every message has a text");
                let mut names = Vec::new();
                arguments(value, &mut names);
                let mut cases: Vec<Vec<(&str, String)>> = vec![vec![]];
                for sample in [
                    "x y", "0", "1", "2", "5", "21", "1000000", "007", "one", "-1",
                ] {
                    cases.push(
                        names
                            .iter()
                            .map(|name| (name.as_str(), sample.to_owned()))
                            .collect(),
                    );
                }
                for args in cases {
                    let mut fluent_args = FluentArgs::new();
                    for (name, value) in &args {
                        match value.parse::<i64>() {
                            Ok(number) if number.to_string() == *value => {
                                fluent_args.set(*name, number)
                            }
                            _ => fluent_args.set(*name, value.clone()),
                        }
                    }
                    let pattern = bundle
                        .get_message(key)
                        .and_then(|m| m.value())
                        .expect("in the bundle");
                    let mut errors = Vec::new();
                    let expected = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
                    assert_eq!(
                        ours.format(key, &args).as_deref(),
                        Some(expected.as_ref()),
                        "{tag}: {key} with {args:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 2 * 11 * 200, "{checked} formattings checked");
    }

    fn keys(source: &str) -> Vec<String> {
        let resource = fluent_bundle::FluentResource::try_new(source.to_owned())
            .unwrap_or_else(|(_, errors)| panic!("the message file does not parse: {errors:?}"));
        let mut keys = Vec::new();
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(message) = entry {
                keys.push(message.id.name.to_owned());
                for attribute in &message.attributes {
                    keys.push(format!("{}.{}", message.id.name, attribute.id.name));
                }
            }
        }
        keys
    }

    #[test]
    fn both_files_parse_and_have_the_same_messages() {
        let (es, en) = (keys(SOURCES[0].1), keys(SOURCES[1].1));
        assert!(es.len() > 50, "{} messages", es.len());
        let missing_in_en: Vec<_> = es.iter().filter(|key| !en.contains(key)).collect();
        let missing_in_es: Vec<_> = en.iter().filter(|key| !es.contains(key)).collect();
        assert!(missing_in_en.is_empty(), "not in en.ftl: {missing_in_en:?}");
        assert!(missing_in_es.is_empty(), "not in es.ftl: {missing_in_es:?}");
    }

    #[test]
    fn lookups_fall_back_and_never_fail() {
        assert_eq!(tr(Locale::En, "no-such-key", &[]), "no-such-key");
        assert_eq!(tr(Locale::Es, "language-switch", &[]), "Idioma");
        assert_eq!(tr(Locale::En, "language-switch", &[]), "Language");
        let text = tr(
            Locale::En,
            "problem-word-too-long",
            &[("len", "40".into()), ("max", "32".into())],
        );
        assert!(text.contains("40") && text.contains("32"), "{text}");
        assert!(!text.contains('\u{2068}'), "no isolation marks: {text:?}");
        let words =
            |locale, count: &str| tr(locale, "story-page-words", &[("count", count.into())]);
        assert_eq!(words(Locale::Es, "1"), "palabra");
        assert_eq!(words(Locale::Es, "12"), "palabras");
        assert_eq!(words(Locale::En, "1"), "word");
        assert_eq!(words(Locale::En, "0"), "words");
        let room = tr(
            Locale::En,
            "problem-room-not-found",
            &[("room", "007".into())],
        );
        assert_eq!(room, "There is no room `007`.");
    }

    #[test]
    fn messages_of_domain_errors_carry_their_fields() {
        let error = crate::domain::WordError::TooLong { max: 5, len: 9 };
        let message = Message::of_error("problem-word", &error);
        assert_eq!(message.key, "problem-word-too-long");
        let text = message.render(Locale::Es).unwrap();
        assert!(text.contains('5') && text.contains('9'), "{text}");
        assert_eq!(
            Message::literal("x").render(Locale::En).as_deref(),
            Some("x")
        );
        assert_eq!(Message::new("nope").render(Locale::En), None);
    }
}
