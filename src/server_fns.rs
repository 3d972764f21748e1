//! Server functions: what the WebAssembly client calls, at stable names under `/api/fn/`.
//!
//! Each one is thin: it finds the caller and the rooms service in the request's context and
//! makes the same call as the JSON API, so the rules and errors are the same.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Me, RoomPage, WordView};

/// Everything the room page shows.
#[server(prefix = "/api/fn", endpoint = "load_room")]
pub async fn load_room(room: String) -> Result<RoomPage, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let mut page = rooms.room_page(&slug, &session.user).await?;
    page.csrf = backend::csrf_token(&session)?;
    Ok(page)
}

/// Adds a word to a room's sentence (`room` and `text`, form-encoded).
#[server(prefix = "/api/fn", endpoint = "add_word")]
pub async fn add_word(room: String, text: String) -> Result<WordView, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let word = rooms.add_word(&slug, &session.user, &text, None).await?;
    backend::created(&format!("/api/rooms/{slug}/words/{}", word.id));
    Ok(word)
}

/// Changes the caller's display name.
#[server(prefix = "/api/fn", endpoint = "set_name")]
pub async fn set_name(name: String) -> Result<Me, AppError> {
    let (rooms, session) = backend::context().await?;
    let name = crate::domain::DisplayName::parse(&name)?;
    Ok(rooms.rename(&session.user, &name).await?)
}

#[cfg(feature = "ssr")]
mod backend {
    use axum::Extension;
    use leptos::prelude::use_context;

    use crate::domain::RoomSlug;
    use crate::error::AppError;
    use crate::server::rooms::Rooms;
    use crate::server::session::Session;
    use crate::server::state::AppState;

    /// The rooms service and the caller, from the request's context.
    pub async fn context() -> Result<(Rooms, Session), AppError> {
        let state = use_context::<AppState>().ok_or_else(|| {
            tracing::error!("server function called without the application state in context");
            AppError::internal()
        })?;
        let Extension(session) =
            leptos_axum::extract::<Extension<Session>>()
                .await
                .map_err(|error| {
                    tracing::error!(%error, "server function called without a session");
                    AppError::internal()
                })?;
        Ok((state.rooms, session))
    }

    /// The caller's CSRF token for the page's forms.
    pub fn csrf_token(session: &Session) -> Result<String, AppError> {
        let state = use_context::<AppState>().ok_or_else(AppError::internal)?;
        Ok(crate::server::http::csrf::token(
            &state.session.key,
            &session.user,
        ))
    }

    /// Answers 201 Created, with the new resource's `Location`.
    pub fn created(location: &str) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::CREATED);
            if let Ok(location) = http::HeaderValue::from_str(location) {
                response.insert_header(http::header::LOCATION, location);
            }
        }
    }

    pub fn slug(raw: &str) -> Result<RoomSlug, AppError> {
        crate::server::http::extract::room_slug(raw)
    }
}
