//! The rooms of the JSON API (CONTRACT §4): create, read, replace, change and delete a room;
//! end its sentence; start a round.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Caller, IfMatch, IfNoneMatch, JsonBody, RoomPath};
use super::idempotency::IdempotencyKey;
use crate::domain::{RoomSettings, RoomTitle};
use crate::error::AppError;
use crate::model::{RoomSettingsPatch, RoomState, StorySentence};
use crate::server::http::conditional::{none_match_hits, room_etag};
use crate::server::http::problem::{
    AnyProblem, InvalidRoom, MalformedBody, NoSuchRoom, NotHost, Problem, RoomLocked, StaleIfMatch,
};
use crate::server::rooms::{Put, Rooms};

/// A new room; both fields are optional.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomBody {
    /// Defaults to the room's code.
    #[schema(min_length = 1, max_length = 80)]
    pub title: Option<String>,
    pub settings: Option<RoomSettings>,
}

/// A room's whole configuration: omitted settings take their defaults.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PutRoomBody {
    #[schema(min_length = 1, max_length = 80)]
    pub title: String,
    pub settings: Option<RoomSettings>,
}

/// Some of a room's configuration: omitted fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchRoomBody {
    #[schema(min_length = 1, max_length = 80)]
    pub title: Option<String>,
    #[serde(default)]
    pub settings: RoomSettingsPatch,
}

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// `GET /api/rooms/{slug}`: the room state, with a strong `ETag`; 304 when `If-None-Match` hits.
#[utoipa::path(get, path = "/api/rooms/{slug}", tag = "rooms", params(RoomPath),
    responses(
        (status = 200, description = "The room state", body = RoomState, headers(
            ("ETag" = String, description = "Strong tag: the room version, then a digest of this body"),
            ("Cache-Control" = String, description = "`no-cache`"))),
        (status = 304, description = "Unchanged since the `If-None-Match` tag", headers(
            ("ETag" = String), ("Cache-Control" = String))),
        NoSuchRoom,
        AnyProblem,
    ))]
pub async fn get_room(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfNoneMatch(conditions): IfNoneMatch,
) -> Result<Response, AppError> {
    // Encoded once per version of the room, not per request.
    let (version, json) = rooms.room_json(&slug, &session.user).await?;
    let etag = room_etag(version, &json);
    let mut response = if none_match_hits(&conditions, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, JSON)], json).into_response()
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
#[utoipa::path(post, path = "/api/rooms", tag = "rooms", request_body = CreateRoomBody,
    params(IdempotencyKey),
    responses(
        (status = 201, description = "Created; the caller is its host", body = RoomState, headers(
            ("Location" = String), ("ETag" = String))),
        MalformedBody,
        InvalidRoom,
        AnyProblem,
    ))]
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
        .map_err(|error| AppError::invalid_title(&error))?;
    let state = rooms
        .create_room_with_code(title.as_ref(), &session.user, &settings)
        .await?;
    let location = format!("/api/rooms/{}", state.slug);
    let mut response = room_response(StatusCode::CREATED, state)?;
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn parse_title(raw: &str) -> Result<RoomTitle, AppError> {
    RoomTitle::parse(raw).map_err(|error| AppError::invalid_title(&error))
}

/// A room state response with its validators.
fn room_response(status: StatusCode, state: RoomState) -> Result<Response, AppError> {
    let json = serde_json::to_vec(&state).map_err(|error| {
        tracing::error!(%error, "a room state could not be encoded");
        AppError::internal()
    })?;
    let etag = room_etag(state.version, &json);
    let mut response = (status, [(header::CONTENT_TYPE, JSON)], json).into_response();
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, NO_CACHE);
    headers.insert(header::VARY, HeaderValue::from_static("Cookie"));
    Ok(response)
}

/// `PUT /api/rooms/{slug}`: creates the room (201) or, for its host, replaces it (200).
#[utoipa::path(put, path = "/api/rooms/{slug}", tag = "rooms", params(RoomPath, IfMatch), request_body = PutRoomBody,
    responses(
        (status = 200, description = "Replaced (host only)", body = RoomState, headers(("ETag" = String))),
        (status = 201, description = "Created; the caller is its host", body = RoomState, headers(("Location" = String), ("ETag" = String))),
        MalformedBody,
        NotHost,
        (status = 404, description = "Not a room code", body = Problem, content_type = "application/problem+json"),
        StaleIfMatch,
        InvalidRoom,
        AnyProblem,
    ))]
pub async fn put_room(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
    JsonBody(body): JsonBody<PutRoomBody>,
) -> Result<Response, AppError> {
    let title = parse_title(&body.title)?;
    let settings = body.settings.unwrap_or_default();
    let (put, state) = rooms
        .put_room(
            &slug,
            &title,
            &settings,
            &session.user,
            precondition.as_deref(),
        )
        .await?;
    Ok(match put {
        Put::Created => {
            let mut response = room_response(StatusCode::CREATED, state)?;
            if let Ok(location) = HeaderValue::from_str(&format!("/api/rooms/{slug}")) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Put::Replaced => room_response(StatusCode::OK, state)?,
    })
}

/// `PATCH /api/rooms/{slug}`: the host changes some of the title and settings.
#[utoipa::path(patch, path = "/api/rooms/{slug}", tag = "rooms", params(RoomPath, IfMatch), request_body = PatchRoomBody,
    responses(
        (status = 200, description = "Changed", body = RoomState, headers(("ETag" = String))),
        MalformedBody,
        NotHost,
        NoSuchRoom,
        StaleIfMatch,
        InvalidRoom,
        AnyProblem,
    ))]
pub async fn patch_room(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
    JsonBody(body): JsonBody<PatchRoomBody>,
) -> Result<Response, AppError> {
    let title = body.title.as_deref().map(parse_title).transpose()?;
    let state = rooms
        .patch_room(
            &slug,
            title.as_ref(),
            &body.settings,
            &session.user,
            precondition.as_deref(),
        )
        .await?;
    room_response(StatusCode::OK, state)
}

/// `DELETE /api/rooms/{slug}`: the host deletes the room and its story.
#[utoipa::path(delete, path = "/api/rooms/{slug}", tag = "rooms", params(RoomPath, IfMatch),
    responses(
        (status = 204, description = "Deleted with its story"),
        (status = 403, description = "Not the host, or room `main`", body = Problem, content_type = "application/problem+json"),
        NoSuchRoom,
        StaleIfMatch,
        AnyProblem,
    ))]
pub async fn delete_room(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
) -> Result<Response, AppError> {
    rooms
        .delete_room(&slug, &session.user, precondition.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/rooms/{slug}/sentence/end`: the host ends the sentence.
#[utoipa::path(post, path = "/api/rooms/{slug}/sentence/end", tag = "rooms", params(RoomPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "The finished sentence", body = StorySentence),
        NotHost,
        NoSuchRoom,
        (status = 409, description = "The sentence has no words", body = Problem, content_type = "application/problem+json"),
        StaleIfMatch,
        AnyProblem,
    ))]
pub async fn end_sentence(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
) -> Result<Response, AppError> {
    let finished = rooms
        .end_sentence(&slug, &session.user, precondition.as_deref())
        .await?;
    Ok(Json(finished).into_response())
}

/// `POST /api/rooms/{slug}/round/start`: the host starts a `turns` round with the players present
/// (everyone with the room open, and the host), in a random order.
#[utoipa::path(post, path = "/api/rooms/{slug}/round/start", tag = "rooms", params(RoomPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "The room, its `turn` naming the first player", body = RoomState, headers(("ETag" = String))),
        NotHost,
        NoSuchRoom,
        (status = 409, description = "The room is not in `turns` mode", body = Problem, content_type = "application/problem+json"),
        StaleIfMatch,
        RoomLocked,
        AnyProblem,
    ))]
pub async fn start_round(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
) -> Result<Response, AppError> {
    let state = rooms
        .start_round(&slug, &session.user, precondition.as_deref())
        .await?;
    room_response(StatusCode::OK, state)
}
