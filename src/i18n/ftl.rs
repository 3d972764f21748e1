//! The part of Fluent that frase's message files use, read and formatted without the Fluent
//! crates.
//!
//! Why: `fluent-bundle` carries a full Fluent parser, a type map and the CLDR plural rules of
//! every language; in the WebAssembly client that was ~90 KB of the download, for two files of
//! `key = text with { $argument }` lines and two plural selectors. The files stay Fluent
//! (translators' tools read them as such), and a unit test holds this reader to `fluent-bundle`:
//! every message of both files formats the same with every kind of argument. A construct this
//! reader does not know (a term, a string literal, an attribute, a multi-line text) leaves its
//! message out, which that test reports.

/// One message's text: literal pieces, arguments and selections, in order.
type Pattern = Vec<Piece>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(&'static str),
    /// `{ $name }`.
    Argument(&'static str),
    /// `{ $name -> [key] text *[key] text }`: the variant whose key is the argument's value (a
    /// number, or its plural category), else the one marked default.
    Select {
        argument: &'static str,
        variants: Vec<(&'static str, Pattern)>,
        default: usize,
    },
}

/// The messages of one file, sorted by key.
#[derive(Debug, Default)]
pub struct Messages {
    language: &'static str,
    entries: Vec<(&'static str, Pattern)>,
}

impl Messages {
    /// Reads `source`, a Fluent file in language `language` (`es`, `en`: its plural rules).
    pub fn parse(language: &'static str, source: &'static str) -> Messages {
        let mut entries = Vec::new();
        let mut lines = source.lines();
        while let Some(line) = lines.next() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                continue;
            }
            let value = value.trim();
            let pattern = match selector(value) {
                Some(argument) => select(argument, &mut lines),
                None => inline(value),
            };
            if let Some(pattern) = pattern {
                entries.push((key, pattern));
            }
        }
        entries.sort_by_key(|(key, _)| *key);
        Messages { language, entries }
    }

    /// Whether the file has message `key`.
    pub fn has(&self, key: &str) -> bool {
        self.pattern(key).is_some()
    }

    /// Message `key` with `args`; an argument it names but is not given shows as `{$name}`, as
    /// Fluent shows it.
    pub fn format(&self, key: &str, args: &[(&str, String)]) -> Option<String> {
        let mut text = String::new();
        self.write(self.pattern(key)?, args, &mut text);
        Some(text)
    }

    fn pattern(&self, key: &str) -> Option<&Pattern> {
        let index = self
            .entries
            .binary_search_by_key(&key, |(key, _)| key)
            .ok()?;
        self.entries.get(index).map(|(_, pattern)| pattern)
    }

    fn write(&self, pattern: &[Piece], args: &[(&str, String)], out: &mut String) {
        let value = |name: &str| {
            args.iter()
                .find(|(given, _)| *given == name)
                .map(|(_, value)| value.as_str())
        };
        for piece in pattern {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Argument(name) => match value(name) {
                    Some(value) => out.push_str(value),
                    None => {
                        out.push_str("{$");
                        out.push_str(name);
                        out.push('}');
                    }
                },
                Piece::Select {
                    argument,
                    variants,
                    default,
                } => {
                    let chosen = value(argument)
                        .and_then(|value| self.variant(variants, value))
                        .unwrap_or(*default);
                    if let Some((_, pattern)) = variants.get(chosen) {
                        self.write(pattern, args, out);
                    }
                }
            }
        }
    }

    /// The variant for `value`: as Fluent chooses, the first whose key is the number `value` is,
    /// or its plural category; for a value that is not a number, the key equal to it.
    fn variant(&self, variants: &[(&'static str, Pattern)], value: &str) -> Option<usize> {
        // A whole number as `to_string` writes it is a number (see `i18n::lookup`).
        let number = value
            .parse::<i64>()
            .ok()
            .filter(|number| number.to_string() == value);
        variants.iter().position(|(key, _)| match number {
            Some(number) => match key.parse::<i64>() {
                Ok(key) => key == number,
                Err(_) => *key == plural_category(self.language, number),
            },
            None => *key == value,
        })
    }
}

/// The CLDR plural category of a whole number in Spanish or English (of its absolute value, as
/// CLDR's operand `n` is).
fn plural_category(language: &str, number: i64) -> &'static str {
    match (language, number.unsigned_abs()) {
        (_, 1) => "one",
        ("es", n) if n != 0 && n % 1_000_000 == 0 => "many",
        _ => "other",
    }
}

/// The argument of a value that opens a selection: `{ $count ->`.
fn selector(value: &'static str) -> Option<&'static str> {
    let inner = value.strip_prefix('{')?.strip_suffix("->")?.trim();
    let name = inner.strip_prefix('$')?;
    is_identifier(name).then_some(name)
}

/// The variants of a selection, one a line, up to its closing `}`.
fn select(argument: &'static str, lines: &mut std::str::Lines<'static>) -> Option<Pattern> {
    let mut variants = Vec::new();
    let mut default = None;
    for line in lines.by_ref() {
        let line = line.trim();
        if line == "}" {
            return Some(vec![Piece::Select {
                argument,
                variants,
                default: default?,
            }]);
        }
        let (is_default, line) = match line.strip_prefix('*') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (key, text) = line.strip_prefix('[')?.split_once(']')?;
        if is_default {
            default = Some(variants.len());
        }
        variants.push((key.trim(), inline(text.trim())?));
    }
    None
}

/// A one-line text with `{ $name }` arguments.
fn inline(mut text: &'static str) -> Option<Pattern> {
    let mut pattern = Vec::new();
    while let Some(open) = text.find('{') {
        if open > 0 {
            pattern.push(Piece::Text(text.get(..open)?));
        }
        let rest = text.get(open + 1..)?;
        let close = rest.find('}')?;
        let name = rest.get(..close)?.trim().strip_prefix('$')?;
        if !is_identifier(name) {
            return None;
        }
        pattern.push(Piece::Argument(name));
        text = rest.get(close + 1..)?;
    }
    if !text.is_empty() {
        pattern.push(Piece::Text(text));
    }
    Some(pattern)
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
