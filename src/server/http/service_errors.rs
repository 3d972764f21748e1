//! How the rooms service's errors are told to clients: each [`ServiceError`] as the one
//! [`AppError`] (status, code, message) the JSON API and the server functions both answer.

use crate::error::AppError;
use crate::i18n::Message;
use crate::server::rooms::{Refusal, ServiceError};

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> AppError {
        let message = |key: &str| Message::new(key);
        match error {
            ServiceError::RoomNotFound(room) => AppError::not_found(
                "room-not-found",
                message("problem-room-not-found").arg("room", room),
            ),
            ServiceError::WordNotFound { room, id } => AppError::not_found(
                "word-not-found",
                message("problem-word-not-found-in-room")
                    .arg("room", room)
                    .arg("id", id),
            ),
            ServiceError::RoomExists(room) => AppError::conflict(
                "room-exists",
                message("problem-room-exists").arg("room", room),
            ),
            ServiceError::Locked(room) => AppError::locked(
                "room-locked",
                message("problem-room-locked").arg("room", room),
            ),
            ServiceError::Stale { current } => {
                AppError::precondition_failed(message("problem-stale").arg("current", current))
            }
            ServiceError::NoCurrentRoom(room) => {
                AppError::precondition_failed(message("problem-stale-no-room").arg("room", room))
            }
            ServiceError::NotHost(room) => {
                AppError::forbidden("not-host", message("problem-not-host").arg("room", room))
            }
            ServiceError::NotAllowed(refusal) => {
                AppError::forbidden("not-allowed", message(refusal_message(refusal)))
            }
            ServiceError::MainIsPermanent => {
                AppError::forbidden("room-permanent", message("problem-room-permanent"))
            }
            ServiceError::EmptySentence => {
                AppError::conflict("sentence-empty", message("problem-sentence-empty"))
            }
            ServiceError::EditChangesSentenceEnd => AppError::unprocessable(
                "edit-changes-sentence-end",
                message("problem-edit-changes-sentence-end"),
            ),
            ServiceError::Settings(error) => error.into(),
            ServiceError::Title(error) => AppError::invalid_title(&error),
            ServiceError::Word(error) => error.into(),
            ServiceError::Turn(error) => error.into(),
            ServiceError::NotTurnsMode(room) => AppError::conflict(
                "not-turns-mode",
                message("problem-not-turns-mode").arg("room", room),
            ),
            ServiceError::TurnNotDue => {
                AppError::conflict("turn-not-due", message("problem-turn-not-due"))
            }
            ServiceError::RateLimited(wait) => AppError::rate_limited(
                message("problem-rate-limited-words").arg("seconds", wait.as_secs().max(1)),
                wait,
            ),
            ServiceError::Storage(error) => {
                tracing::error!(%error, "storage failure");
                AppError::internal()
            }
        }
    }
}

/// The message (`locales/*.ftl`) that explains a refusal.
fn refusal_message(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::FixNotAuthor => "problem-fix-not-author",
        Refusal::FixTooLate => "problem-fix-too-late",
        Refusal::RemoveNotAuthor => "problem-remove-not-author",
        Refusal::RemoveNotLast => "problem-remove-not-last",
    }
}
