//! The JSON API for scripts (CONTRACT §4): thin handlers that parse, call the rooms service and
//! shape the response.

use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::conditional::{
    content_etag, last_modified, none_match_hits, not_modified_since, room_etag,
};
use super::extract::{Caller, IfMatch, JsonBody, QueryParams, RoomPath, WordPath};
use super::openapi::{Health, IdempotencyKey, Problem, StoryJson, WordList};
use crate::domain::{DisplayName, RoomSettings, RoomTitle};
use crate::error::AppError;
use crate::i18n::Message;
use crate::model::{Me, RoomSettingsPatch, RoomState, StorySentence, WordView};
use crate::server::export::{self, StoryFormat};
use crate::server::rooms::{MAX_WORDS_PAGE, Put, Rooms};

/// A word to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddWordBody {
    /// One word: NFC-normalised and trimmed, 1 to the room's `max_word_length` characters.
    #[schema(min_length = 1)]
    pub text: String,
}

/// A new room; both fields are optional.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRoomBody {
    /// Defaults to the room's code.
    #[schema(min_length = 1, max_length = 80)]
    pub title: Option<String>,
    pub settings: Option<RoomSettings>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WordsQuery {
    /// Only words with a version above this one (default 0).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many words (default and cap 500).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// A new display name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameBody {
    #[schema(min_length = 1, max_length = 40)]
    pub name: String,
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
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_room(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // Encoded once per version of the room, not per request.
    let (version, json) = rooms.room_json(&slug, &session.user).await?;
    let etag = room_etag(version, &json);
    let mut response = if none_match_hits(&headers, &etag) {
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
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid title or settings", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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

/// `POST /api/rooms/{slug}/words`: adds a word; 201 with its `Location`.
#[utoipa::path(post, path = "/api/rooms/{slug}/words", tag = "words", params(RoomPath, IfMatch, IdempotencyKey),
    request_body = AddWordBody,
    responses(
        (status = 201, description = "Added", body = WordView, headers(("Location" = String))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Turn rule: not two words in a row", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The room is no longer at the `If-Match` version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid word", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The room is locked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many words too fast (`FRASE_RATE_LIMIT`)", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until one more is allowed"))),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_word(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    IfMatch { versions: expected }: IfMatch,
    JsonBody(body): JsonBody<AddWordBody>,
) -> Result<Response, AppError> {
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
#[utoipa::path(get, path = "/api/rooms/{slug}/words", tag = "words", params(RoomPath, WordsQuery),
    responses(
        (status = 200, description = "Words in version order", body = WordList),
        (status = 400, description = "Bad query", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_words(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    QueryParams(query): QueryParams<WordsQuery>,
) -> Result<Response, AppError> {
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(MAX_WORDS_PAGE);
    if after < 0 || !(1..=MAX_WORDS_PAGE).contains(&limit) {
        return Err(AppError::bad_request(
            "bad-query",
            Message::new("problem-bad-page").arg("max", MAX_WORDS_PAGE),
        ));
    }
    let words = rooms.words_after(&slug, after, limit).await?;
    Ok(Json(serde_json::json!({ "words": words })).into_response())
}

/// `GET /api/rooms/{slug}/words/{id}`.
#[utoipa::path(get, path = "/api/rooms/{slug}/words/{id}", tag = "words", params(WordPath),
    responses(
        (status = 200, description = "The word", body = WordView),
        (status = 404, description = "No such room or word", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_word(
    State(rooms): State<Rooms>,
    WordPath { slug, id }: WordPath,
) -> Result<Response, AppError> {
    Ok(Json(rooms.word(&slug, id).await?).into_response())
}

/// `GET /api/me`.
#[utoipa::path(get, path = "/api/me", tag = "users",
    responses(
        (status = 200, description = "The caller (a session cookie is set for a new one)", body = Me),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
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
#[utoipa::path(patch, path = "/api/me", tag = "users", request_body = RenameBody,
    responses(
        (status = 200, description = "Renamed", body = Me),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid name", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch_me(
    State(rooms): State<Rooms>,
    Caller(session): Caller,
    JsonBody(body): JsonBody<RenameBody>,
) -> Result<Response, AppError> {
    let name = DisplayName::parse(&body.name)?;
    Ok(Json(rooms.rename(&session.user, &name).await?).into_response())
}

/// `GET /healthz`: 200 when the database answers, else 503.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn healthz(State(rooms): State<Rooms>) -> Result<Response, AppError> {
    if rooms.healthy().await {
        let mut response = Json(serde_json::json!({ "status": "ok" })).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        Ok(response)
    } else {
        Err(AppError::unavailable(Message::new(
            "problem-database-unavailable",
        )))
    }
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

/// A word's new text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditWordBody {
    #[schema(min_length = 1)]
    pub text: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoryQuery {
    /// `json`, `txt` (or `text`) or `md` (or `markdown`); wins over `Accept`.
    #[param(value_type = String, required = false, pattern = "^(json|txt|text|md|markdown)$")]
    pub format: Option<String>,
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
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a room code", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid title or settings", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid title or settings", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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

/// `PATCH /api/rooms/{slug}/words/{id}`: fixes a word.
#[utoipa::path(patch, path = "/api/rooms/{slug}/words/{id}", tag = "words", params(WordPath, IfMatch),
    request_body = EditWordBody,
    responses(
        (status = 200, description = "Fixed", body = WordView),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not its author within 30 s, nor the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room or word", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a valid word", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn edit_word(
    State(rooms): State<Rooms>,
    WordPath { slug, id }: WordPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
    JsonBody(body): JsonBody<EditWordBody>,
) -> Result<Response, AppError> {
    let word = rooms
        .edit_word(
            &slug,
            id,
            &session.user,
            &body.text,
            precondition.as_deref(),
        )
        .await?;
    Ok(Json(word).into_response())
}

/// `DELETE /api/rooms/{slug}/words/{id}`: removes a word.
#[utoipa::path(delete, path = "/api/rooms/{slug}/words/{id}", tag = "words", params(WordPath, IfMatch),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not its author while it is the last word, nor the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room or word", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_word(
    State(rooms): State<Rooms>,
    WordPath { slug, id }: WordPath,
    Caller(session): Caller,
    IfMatch {
        versions: precondition,
    }: IfMatch,
) -> Result<Response, AppError> {
    rooms
        .delete_word(&slug, id, &session.user, precondition.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/rooms/{slug}/sentence/end`: the host ends the sentence.
#[utoipa::path(post, path = "/api/rooms/{slug}/sentence/end", tag = "rooms", params(RoomPath, IfMatch, IdempotencyKey),
    responses(
        (status = 200, description = "The finished sentence", body = StorySentence),
        (status = 403, description = "Not the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The sentence has no words", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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
        (status = 403, description = "Not the host", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The room is not in `turns` mode", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match`", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "The room is locked", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
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

/// `GET /api/rooms/{slug}/story`: the finished sentences, as JSON, plain text or Markdown
/// (`?format=` wins over `Accept`; 406 when nothing acceptable). Finished sentences only change
/// when the host fixes or removes a word in them, so the story is cacheable for a short while and
/// revalidated with its `ETag` and `Last-Modified`.
#[utoipa::path(get, path = "/api/rooms/{slug}/story", tag = "rooms", params(RoomPath, StoryQuery),
    responses(
        (status = 200, description = "The finished sentences", headers(
            ("ETag" = String), ("Last-Modified" = String), ("Cache-Control" = String)),
            content(
                (StoryJson = "application/json"),
                (String = "text/plain"),
                (String = "text/markdown"),
            )),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 400, description = "Unknown `format`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "No acceptable format", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn story(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    QueryParams(query): QueryParams<StoryQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let format = match query.format.as_deref() {
        Some(name) => StoryFormat::from_name(name).ok_or_else(|| {
            AppError::bad_request(
                "bad-format",
                Message::new("problem-bad-format").arg("format", name),
            )
        })?,
        None => StoryFormat::negotiate(
            headers
                .get(header::ACCEPT)
                .and_then(|value| value.to_str().ok()),
        )
        .ok_or_else(|| AppError::not_acceptable(Message::new("problem-not-acceptable")))?,
    };
    let story = rooms.story_document(&slug).await?;
    let body = export::render(format, slug.as_str(), &story.title, &story.sentences);
    let etag = content_etag(body.as_bytes());
    let mut response =
        if none_match_hits(&headers, &etag) || not_modified_since(&headers, &story.updated_at) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mut response = body.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.media_type()),
            );
            response
        };
    let response_headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, etag);
    }
    if let Some(modified) = last_modified(&story.updated_at, SystemTime::now())
        && let Ok(value) = HeaderValue::from_str(&modified)
    {
        response_headers.insert(header::LAST_MODIFIED, value);
    }
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=5, must-revalidate"),
    );
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}
