//! Pieces of the room page.

pub mod host_console;
pub mod join_panel;
pub mod my_word;
pub mod name_form;
pub mod sentence;
pub mod story;
pub mod turn_banner;
pub mod word_form;

/// The message a page shows for an error code (from a server function, or `?error=` after a
/// form posted without JavaScript).
pub fn error_message(code: &str, max_word_length: u32) -> String {
    match code {
        "word-empty" => "Escribe una palabra.".to_owned(),
        "word-multiple-tokens" => "Solo una palabra, sin espacios.".to_owned(),
        "word-too-long" => format!("Demasiado larga: como mucho {max_word_length} caracteres."),
        "word-control-character" => "La palabra tiene caracteres de control.".to_owned(),
        "word-markup" => "Los caracteres < > & y similares no se admiten.".to_owned(),
        "word-invalid-character" => "La palabra tiene un carácter no admitido.".to_owned(),
        "word-misplaced-punctuation" => "La puntuación está fuera de lugar.".to_owned(),
        "double-turn" => "Espera a que otra persona añada la siguiente palabra.".to_owned(),
        "not-your-turn" => "No es tu turno: espera a que te toque.".to_owned(),
        "time-up" => "Se acabó tu tiempo: el turno pasó a la siguiente persona.".to_owned(),
        "no-round" => "Aún no hay ronda: el anfitrión tiene que empezarla.".to_owned(),
        "not-turns-mode" => "Para jugar por turnos, elige el modo «por turnos» y guarda.".to_owned(),
        "room-locked" => "La sala está cerrada: no se admiten palabras nuevas.".to_owned(),
        "room-not-found" => "Esta sala no existe.".to_owned(),
        "not-host" => "Solo quien creó la sala puede hacer esto.".to_owned(),
        "room-permanent" => "La sala principal no se puede borrar.".to_owned(),
        "sentence-empty" => "La frase aún no tiene palabras.".to_owned(),
        "word-not-found" => "Esa palabra ya no está.".to_owned(),
        "not-allowed" => {
            "Ya no se puede: una palabra se corrige en sus primeros 30 s y se deshace mientras es la última."
                .to_owned()
        }
        "invalid-title" => {
            "Ese nombre de sala no es válido (1 a 80 caracteres, sin < > &).".to_owned()
        }
        "name-empty" | "name-too-long" | "name-control-character" | "name-markup" => {
            "Ese nombre no es válido (1 a 40 caracteres, sin < > &).".to_owned()
        }
        "rate-limited" => "Vas muy rápido: espera un momento y vuelve a intentarlo.".to_owned(),
        "cross-site" | "bad-csrf-token" => {
            "La página caducó: recárgala y vuelve a intentarlo.".to_owned()
        }
        "unavailable" => "No hay conexión con el servidor. Inténtalo de nuevo.".to_owned(),
        _ => "Algo salió mal; la palabra no se añadió.".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::error_message;
    use crate::domain::{NameError, WordError};
    use crate::error::AppError;

    const FALLBACK: &str = "Algo salió mal; la palabra no se añadió.";

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
        for error in word_errors {
            let code = AppError::from(error.clone()).code;
            assert_ne!(error_message(&code, 32), FALLBACK, "{error:?} ({code})");
        }
        for error in [
            NameError::Empty,
            NameError::ControlCharacter,
            NameError::Markup { ch: '<' },
        ] {
            let code = AppError::from(error.clone()).code;
            assert_ne!(error_message(&code, 32), FALLBACK, "{error:?} ({code})");
        }
        assert!(error_message("word-too-long", 20).contains("20"));
    }
}
