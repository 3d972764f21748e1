//! Pieces of the room page.

pub mod host_console;
pub mod join_panel;
pub mod language_switch;
pub mod my_word;
pub mod name_form;
pub mod online_count;
pub mod post_form;
pub mod sentence;
pub mod story;
pub mod turn_banner;
pub mod word_form;

use crate::i18n::{self, Locale};

/// The message a page shows for an error code (from a server function, or `?error=` after a
/// form posted without JavaScript), in `locale`: `error-<code>` of `locales/*.ftl`.
pub fn error_message(locale: Locale, code: &str, max_word_length: u32) -> String {
    let key = match code {
        "name-empty" | "name-too-long" | "name-control-character" | "name-markup" => {
            "error-invalid-name".to_owned()
        }
        "cross-site" | "bad-csrf-token" => "error-page-expired".to_owned(),
        code => format!("error-{code}"),
    };
    let key = if i18n::has(Locale::default(), &key) {
        key
    } else {
        "error-unknown".to_owned()
    };
    i18n::tr(locale, &key, &[("max", max_word_length.to_string())])
}

#[cfg(test)]
mod tests {
    use super::error_message;
    use crate::domain::{NameError, WordError};
    use crate::error::AppError;
    use crate::i18n::{Locale, tr};

    #[test]
    fn every_word_and_name_error_has_its_own_message() {
        let word_errors = [
            WordError::Empty,
            WordError::MultipleTokens,
            WordError::TooLong { max: 32, len: 33 },
            WordError::ControlCharacter,
            WordError::Markup { ch: '<' },
            WordError::InvalidCharacter { ch: '%' },
            WordError::MisplacedPunctuation,
        ];
        for locale in Locale::ALL {
            let fallback = tr(locale, "error-unknown", &[]);
            for error in &word_errors {
                let code = AppError::from(error.clone()).code;
                assert_ne!(
                    error_message(locale, &code, 32),
                    fallback,
                    "{error:?} ({code})"
                );
            }
        }
        let fallback = tr(Locale::Es, "error-unknown", &[]);
        for error in [
            NameError::Empty,
            NameError::ControlCharacter,
            NameError::Markup { ch: '<' },
        ] {
            let code = AppError::from(error.clone()).code;
            assert_ne!(
                error_message(Locale::Es, &code, 32),
                fallback,
                "{error:?} ({code})"
            );
        }
        assert!(error_message(Locale::En, "word-too-long", 20).contains("20"));
        assert_eq!(error_message(Locale::Es, "no-such-code", 0), fallback);
        assert_eq!(
            error_message(Locale::En, "bad-csrf-token", 0),
            tr(Locale::En, "error-page-expired", &[])
        );
    }
}
