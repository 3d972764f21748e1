//! Server functions: what the WebAssembly client calls, at stable names under `/api/fn/`.
//!
//! Each one is thin: it finds the caller and the rooms service in the request's context and
//! makes the same call as the JSON API, so the rules and errors are the same.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Me, RoomPage, RoomState, StoryPage, StorySentence, WordView};

/// Everything the room page shows.
#[server(prefix = "/api/fn", endpoint = "load_room")]
pub async fn load_room(room: String) -> Result<RoomPage, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let mut page = rooms.room_page(&slug, &session.user).await?;
    page.csrf = backend::csrf_token(&session)?;
    page.join = backend::join_link(&slug)?;
    Ok(page)
}

/// Everything the story page shows, with the contributions chart drawn.
#[server(prefix = "/api/fn", endpoint = "load_story")]
pub async fn load_story(room: String) -> Result<StoryPage, AppError> {
    let (rooms, _) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let mut page = rooms.story_page(&slug).await?;
    page.chart_svg = crate::server::chart::contributions_svg(
        &page.contributors,
        &crate::i18n::tr(crate::i18n::page_locale(), "chart-title", &[]),
        &crate::i18n::tr(crate::i18n::page_locale(), "chart-others", &[]),
    );
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

/// The caller's CSRF token, for forms rendered outside a room (the lobby's).
#[server(prefix = "/api/fn", endpoint = "form_token")]
pub async fn form_token() -> Result<String, AppError> {
    let (_, session) = backend::context().await?;
    backend::csrf_token(&session)
}

/// Creates a room with a generated code; the caller becomes its host. Answers the code; a form
/// posted without JavaScript is sent on to the new room.
#[server(prefix = "/api/fn", endpoint = "create_room")]
pub async fn create_room(title: String) -> Result<String, AppError> {
    let (rooms, session) = backend::context().await?;
    let title = match title.trim() {
        "" => None,
        title => Some(backend::title(title)?),
    };
    let state = rooms
        .create_room_with_code(
            title.as_ref(),
            &session.user,
            &crate::domain::RoomSettings::default(),
        )
        .await?;
    backend::go_to(&format!("/r/{}", state.slug));
    Ok(state.slug)
}

/// The host locks a room (no new words) or opens it again.
#[server(prefix = "/api/fn", endpoint = "lock_room")]
pub async fn lock_room(room: String, locked: bool) -> Result<RoomState, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let patch = crate::model::RoomSettingsPatch {
        locked: Some(locked),
        ..Default::default()
    };
    Ok(rooms
        .patch_room(&slug, None, &patch, &session.user, None)
        .await?)
}

/// The host renames the room and sets its rules. `no_double_turn` comes from a checkbox: present
/// (any value) means on, absent means off. `mode` and `turn_seconds` left out keep their value.
#[server(prefix = "/api/fn", endpoint = "configure_room")]
pub async fn configure_room(
    room: String,
    title: String,
    max_word_length: u32,
    max_sentence_words: u32,
    no_double_turn: Option<String>,
    mode: Option<crate::model::Mode>,
    turn_seconds: Option<u32>,
) -> Result<RoomState, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    let title = backend::title(title.trim())?;
    let patch = crate::model::RoomSettingsPatch {
        max_word_length: Some(max_word_length),
        max_sentence_words: Some(max_sentence_words),
        no_double_turn: Some(no_double_turn.is_some()),
        mode,
        turn_seconds,
        ..Default::default()
    };
    Ok(rooms
        .patch_room(&slug, Some(&title), &patch, &session.user, None)
        .await?)
}

/// The host ends the open sentence where it stands.
#[server(prefix = "/api/fn", endpoint = "end_sentence")]
pub async fn end_sentence(room: String) -> Result<StorySentence, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    Ok(rooms.end_sentence(&slug, &session.user, None).await?)
}

/// The host clears the open sentence: its words go, and it starts again empty.
#[server(prefix = "/api/fn", endpoint = "clear_sentence")]
pub async fn clear_sentence(room: String) -> Result<RoomState, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    Ok(rooms.clear_sentence(&slug, &session.user, None).await?)
}

/// The host starts a `turns` round with the players present, in a random order.
#[server(prefix = "/api/fn", endpoint = "start_round")]
pub async fn start_round(room: String) -> Result<RoomState, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    Ok(rooms.start_round(&slug, &session.user, None).await?)
}

/// Removes a word of the open sentence: the host any word, an author their own last word.
#[server(prefix = "/api/fn", endpoint = "remove_word")]
pub async fn remove_word(room: String, id: i64) -> Result<(), AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    Ok(rooms.delete_word(&slug, id, &session.user, None).await?)
}

/// Fixes a word: its author within 30 s of adding it, or the host any time.
#[server(prefix = "/api/fn", endpoint = "fix_word")]
pub async fn fix_word(room: String, id: i64, text: String) -> Result<WordView, AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    Ok(rooms
        .edit_word(&slug, id, &session.user, &text, None)
        .await?)
}

/// The host deletes the room; a form posted without JavaScript is sent to the lobby.
#[server(prefix = "/api/fn", endpoint = "delete_room")]
pub async fn delete_room(room: String) -> Result<(), AppError> {
    let (rooms, session) = backend::context().await?;
    let slug = backend::slug(&room)?;
    rooms.delete_room(&slug, &session.user, None).await?;
    backend::go_to("/");
    Ok(())
}

/// Chooses the language of the caller's pages (and API errors) for the rest of the browser
/// session: `lang` is `es` or `en`.
#[server(prefix = "/api/fn", endpoint = "set_language")]
pub async fn set_language(lang: String) -> Result<(), AppError> {
    let locale = crate::i18n::Locale::parse(&lang).ok_or_else(|| {
        AppError::unprocessable(
            "bad-language",
            crate::i18n::Message::new("problem-bad-language").arg("lang", &lang),
        )
    })?;
    backend::set_language_cookie(locale)
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
        Ok((state.rooms.clone(), session))
    }

    /// The caller's CSRF token for the page's forms.
    pub fn csrf_token(session: &Session) -> Result<String, AppError> {
        let state = use_context::<AppState>().ok_or_else(AppError::internal)?;
        Ok(crate::server::http::guards::csrf::token(
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
        crate::server::http::api::extract::room_slug(raw)
    }

    pub fn title(raw: &str) -> Result<crate::domain::RoomTitle, AppError> {
        crate::domain::RoomTitle::parse(raw).map_err(|error| AppError::invalid_title(&error))
    }

    /// The link to `slug` for others on the network, from the host this page was opened with.
    pub fn join_link(slug: &RoomSlug) -> Result<crate::model::JoinLink, AppError> {
        use crate::server::http::guards::security::Transport;
        let state = use_context::<AppState>().ok_or_else(AppError::internal)?;
        let request = use_context::<http::request::Parts>();
        // `Host` in HTTP/1.1, the URI's authority in HTTP/2.
        let host = request.as_ref().and_then(|request| {
            request
                .headers
                .get(http::header::HOST)
                .and_then(|value| value.to_str().ok())
                .or_else(|| request.uri.authority().map(|authority| authority.as_str()))
        });
        let scheme = match state.transport {
            Transport::Http => "http",
            Transport::Https => "https",
        };
        let url = crate::server::join::join_url(
            scheme,
            host,
            state.leptos_options.site_addr,
            slug.as_str(),
        );
        let qr_svg = crate::server::join::qr_svg(&url).unwrap_or_default();
        Ok(crate::model::JoinLink { url, qr_svg })
    }

    /// Sends the cookie that keeps `locale` for the pages to come.
    pub fn set_language_cookie(locale: crate::i18n::Locale) -> Result<(), AppError> {
        use crate::server::http::guards::security::Transport;
        use crate::server::http::locale::language_cookie;
        let state = use_context::<AppState>().ok_or_else(AppError::internal)?;
        let secure = state.transport == Transport::Https;
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(cookie) = http::HeaderValue::from_str(&language_cookie(locale, secure))
        {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
        Ok(())
    }

    /// Where a form posted without JavaScript goes next, instead of back to its page.
    pub fn go_to(path: &str) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(path) = http::HeaderValue::from_str(path)
        {
            response.insert_header(crate::server::http::api::server_fns::NEXT_PAGE, path);
        }
    }
}
