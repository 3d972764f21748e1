//! A room's story as text, Markdown or JSON: what `GET /api/rooms/{slug}/story` negotiates and
//! what `frase export` prints. Words are data, never markup: Markdown escapes them.

use serde::Serialize;
use utoipa::ToSchema;

use crate::model::StorySentence;

/// A story as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoryJson<'a> {
    pub room: &'a str,
    pub title: &'a str,
    pub sentences: &'a [StorySentence],
}

/// The formats a story comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoryFormat {
    Json,
    Text,
    Markdown,
}

impl StoryFormat {
    /// The media type of the format, as sent in `Content-Type`.
    pub fn media_type(self) -> &'static str {
        match self {
            StoryFormat::Json => "application/json",
            StoryFormat::Text => "text/plain; charset=utf-8",
            StoryFormat::Markdown => "text/markdown; charset=utf-8",
        }
    }

    /// The format a `?format=` value names.
    pub fn from_name(name: &str) -> Option<StoryFormat> {
        match name {
            "json" => Some(StoryFormat::Json),
            "txt" | "text" => Some(StoryFormat::Text),
            "md" | "markdown" => Some(StoryFormat::Markdown),
            _ => None,
        }
    }

    /// The best format for an `Accept` header (RFC 9110 §12.5.1): the highest quality, the most
    /// specific range on ties, JSON first among equals. `None` when nothing is acceptable.
    pub fn negotiate(accept: Option<&str>) -> Option<StoryFormat> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Some(StoryFormat::Json);
        };
        let ranges: Vec<(String, f32)> = accept
            .split(',')
            .filter_map(|item| {
                let mut parts = item.split(';');
                let range = parts.next()?.trim().to_ascii_lowercase();
                let mut quality = 1.0;
                for parameter in parts {
                    if let Some(q) = parameter.trim().strip_prefix("q=") {
                        quality = q.trim().parse().unwrap_or(0.0);
                    }
                }
                Some((range, quality))
            })
            .collect();
        let quality_of = |media: &str| -> f32 {
            let (kind, _) = media.split_once('/').unwrap_or((media, ""));
            let mut best: Option<(u8, f32)> = None;
            for (range, quality) in &ranges {
                let specificity = if range == media {
                    3
                } else if range.strip_suffix("/*") == Some(kind) {
                    2
                } else if range == "*/*" {
                    1
                } else {
                    continue;
                };
                if best.is_none_or(|(s, _)| specificity > s) {
                    best = Some((specificity, *quality));
                }
            }
            best.map_or(0.0, |(_, quality)| quality)
        };
        [
            (StoryFormat::Json, "application/json"),
            (StoryFormat::Text, "text/plain"),
            (StoryFormat::Markdown, "text/markdown"),
        ]
        .into_iter()
        .map(|(format, media)| (format, quality_of(media)))
        .filter(|(_, quality)| *quality > 0.0)
        .fold(
            None,
            |best: Option<(StoryFormat, f32)>, (format, quality)| match best {
                Some((_, best_quality)) if best_quality >= quality => best,
                _ => Some((format, quality)),
            },
        )
        .map(|(format, _)| format)
    }
}

/// Renders a story.
pub fn render(format: StoryFormat, slug: &str, title: &str, story: &[StorySentence]) -> String {
    match format {
        StoryFormat::Json => {
            let document = StoryJson {
                room: slug,
                title,
                sentences: story,
            };
            serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
        }
        StoryFormat::Text => story.iter().map(|s| format!("{}\n", s.text)).collect(),
        StoryFormat::Markdown => {
            let mut out = format!("# {}\n\n", markdown_escape(title));
            for sentence in story {
                out.push_str(&markdown_escape(&sentence.text));
                out.push_str("\n\n");
            }
            out
        }
    }
}

/// Escapes the characters Markdown would read as syntax (CommonMark's ASCII punctuation that
/// can start or end markup), so that a word is shown as typed and never becomes a link, an
/// emphasis or HTML.
pub fn markdown_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(
            ch,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '+'
                | '-'
                | '.'
                | '!'
                | '<'
                | '>'
                | '|'
                | '~'
                | '&'
                | '"'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Vec<StorySentence> {
        vec![StorySentence {
            sentence_id: 1,
            text: "Hola *mundo* [x](y).".into(),
            version: 3,
        }]
    }

    #[test]
    fn accept_picks_the_best_format() {
        use StoryFormat::*;
        assert_eq!(StoryFormat::negotiate(None), Some(Json));
        assert_eq!(StoryFormat::negotiate(Some("*/*")), Some(Json));
        assert_eq!(StoryFormat::negotiate(Some("text/plain")), Some(Text));
        assert_eq!(StoryFormat::negotiate(Some("text/*")), Some(Text));
        assert_eq!(
            StoryFormat::negotiate(Some("text/markdown, text/plain;q=0.5")),
            Some(Markdown)
        );
        assert_eq!(
            StoryFormat::negotiate(Some("application/json;q=0.1, text/*;q=0.9")),
            Some(Text)
        );
        assert_eq!(
            StoryFormat::negotiate(Some("*/*;q=0.1, text/markdown")),
            Some(Markdown)
        );
        assert_eq!(StoryFormat::negotiate(Some("image/png")), None);
        assert_eq!(
            StoryFormat::negotiate(Some("text/plain;q=0, application/json;q=0")),
            None
        );
    }

    #[test]
    fn markdown_shows_words_as_typed() {
        let md = render(StoryFormat::Markdown, "main", "Clase", &story());
        assert_eq!(md, "# Clase\n\nHola \\*mundo\\* \\[x\\]\\(y\\)\\.\n\n");
        let text = render(StoryFormat::Text, "main", "Clase", &story());
        assert_eq!(text, "Hola *mundo* [x](y).\n");
        let json: serde_json::Value =
            serde_json::from_str(&render(StoryFormat::Json, "main", "Clase", &story())).unwrap();
        assert_eq!(json["sentences"][0]["text"], "Hola *mundo* [x](y).");
    }
}
