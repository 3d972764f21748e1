//! The JSON API for scripts (CONTRACT §4): thin handlers that parse, call the rooms service and
//! shape the response.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use super::conditional::{if_match_versions, none_match_hits, room_etag};
use super::extract::{Caller, JsonBody, QueryParams, room_slug};
use crate::domain::{DisplayName, RoomSettings, RoomTitle};
use crate::error::AppError;
use crate::server::rooms::{MAX_WORDS_PAGE, Rooms};

#[derive(Debug, Deserialize)]
pub struct AddWordBody {
    pub text: String,
}

#[derive(Debug, Deserialize)]
pub struct CreateRoomBody {
    pub title: Option<String>,
    pub settings: Option<RoomSettings>,
}

#[derive(Debug, Deserialize)]
pub struct WordsQuery {
    pub after: Option<i64>,
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct RenameBody {
    pub name: String,
}

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// `GET /api/rooms/{slug}`: the room state, with a strong `ETag`; 304 when `If-None-Match` hits.
pub async fn get_room(
    State(rooms): State<Rooms>,
    Path(slug): Path<String>,
    Caller(session): Caller,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let slug = room_slug(&slug)?;
    let state = rooms.room_state(&slug, &session.user).await?;
    let etag = room_etag(state.version, state.host);
    let mut response = if none_match_hits(&headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(state).into_response()
    };
    let response_headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, etag);
    }
    response_headers.insert(header::CACHE_CONTROL, NO_CACHE);
    // The body says whether the caller is the host, which the session cookie decides.
    response_headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
    Ok(response)
}

/// `POST /api/rooms`: creates a room under a generated code; the caller becomes its host.
pub async fn create_room(
    State(rooms): State<Rooms>,
    Caller(session): Caller,
    JsonBody(body): JsonBody<CreateRoomBody>,
) -> Result<Response, AppError> {
    let settings = body.settings.unwrap_or_default();
    settings.validate()?;
    let title = body
        .title
        .as_deref()
        .map(RoomTitle::parse)
        .transpose()
        .map_err(|error| AppError::new(422, "invalid-title", "Invalid title", error.to_string()))?;
    let state = rooms
        .create_room_with_code(title.as_ref(), &session.user, &settings)
        .await?;
    let location = format!("/api/rooms/{}", state.slug);
    let etag = room_etag(state.version, state.host);
    let mut response = (StatusCode::CREATED, Json(state)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// `POST /api/rooms/{slug}/words`: adds a word; 201 with its `Location`.
pub async fn add_word(
    State(rooms): State<Rooms>,
    Path(slug): Path<String>,
    Caller(session): Caller,
    headers: HeaderMap,
    JsonBody(body): JsonBody<AddWordBody>,
) -> Result<Response, AppError> {
    let slug = room_slug(&slug)?;
    let expected = if_match_versions(&headers);
    let word = rooms
        .add_word(&slug, &session.user, &body.text, expected.as_deref())
        .await?;
    let location = format!("/api/rooms/{slug}/words/{}", word.id);
    let mut response = (StatusCode::CREATED, Json(word)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `GET /api/rooms/{slug}/words?after=V&limit=N`.
pub async fn list_words(
    State(rooms): State<Rooms>,
    Path(slug): Path<String>,
    QueryParams(query): QueryParams<WordsQuery>,
) -> Result<Response, AppError> {
    let slug = room_slug(&slug)?;
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(MAX_WORDS_PAGE);
    if after < 0 || !(1..=MAX_WORDS_PAGE).contains(&limit) {
        return Err(AppError::bad_request(
            "bad-query",
            format!("`after` must be 0 or more and `limit` between 1 and {MAX_WORDS_PAGE}."),
        ));
    }
    let words = rooms.words_after(&slug, after, limit).await?;
    Ok(Json(serde_json::json!({ "words": words })).into_response())
}

/// `GET /api/rooms/{slug}/words/{id}`.
pub async fn get_word(
    State(rooms): State<Rooms>,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let slug = room_slug(&slug)?;
    let id: i64 = id
        .parse()
        .map_err(|_| AppError::not_found("word-not-found", format!("There is no word `{id}`.")))?;
    Ok(Json(rooms.word(&slug, id).await?).into_response())
}

/// `GET /api/me`.
pub async fn get_me(
    State(rooms): State<Rooms>,
    Caller(session): Caller,
) -> Result<Response, AppError> {
    let mut response = Json(rooms.me(&session.user).await?).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `PATCH /api/me`: changes the caller's display name.
pub async fn patch_me(
    State(rooms): State<Rooms>,
    Caller(session): Caller,
    JsonBody(body): JsonBody<RenameBody>,
) -> Result<Response, AppError> {
    let name = DisplayName::parse(&body.name)?;
    Ok(Json(rooms.rename(&session.user, &name).await?).into_response())
}

/// `GET /healthz`: 200 when the database answers, else 503.
pub async fn healthz(State(rooms): State<Rooms>) -> Result<Response, AppError> {
    if rooms.healthy().await {
        let mut response = Json(serde_json::json!({ "status": "ok" })).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    } else {
        Err(AppError::unavailable("The database does not answer."))
    }
}
