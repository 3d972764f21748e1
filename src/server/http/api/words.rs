//! The words of a room in the JSON API (CONTRACT §4): add, list, read, fix and remove.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Caller, IfMatch, JsonBody, QueryParams, RoomPath, WordPath};
use super::idempotency::IdempotencyKey;
use crate::error::AppError;
use crate::i18n::Message;
use crate::model::WordView;
use crate::server::http::conditional::revalidated_json;
use crate::server::http::problem::{
    AnyProblem, InvalidWord, MalformedBody, NoSuchRoom, NoSuchWord, Problem, RoomLocked,
    StaleIfMatch,
};
use crate::server::rooms::{MAX_WORDS_PAGE, Rooms};

/// A list of words.
#[derive(Debug, Serialize, ToSchema)]
pub struct WordList {
    pub words: Vec<WordView>,
}

/// A word to add.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AddWordBody {
    /// One word: NFC-normalised and trimmed, 1 to the room's `max_word_length` characters.
    #[schema(min_length = 1)]
    pub text: String,
}

/// A word's new text.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EditWordBody {
    #[schema(min_length = 1)]
    pub text: String,
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

/// `POST /api/rooms/{slug}/words`: adds a word; 201 with its `Location`.
#[utoipa::path(post, path = "/api/rooms/{slug}/words", tag = "words", params(RoomPath, IfMatch, IdempotencyKey),
    request_body = AddWordBody,
    responses(
        (status = 201, description = "Added", body = WordView, headers(("Location" = String))),
        MalformedBody,
        NoSuchRoom,
        (status = 409, description = "Turn rule: not two words in a row", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The room is no longer at the `If-Match` version", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 16 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        InvalidWord,
        RoomLocked,
        (status = 429, description = "Too many words too fast (`FRASE_RATE_LIMIT`)", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until one more is allowed"))),
        AnyProblem,
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
        NoSuchRoom,
        AnyProblem,
    ))]
pub async fn list_words(
    State(rooms): State<Rooms>,
    RoomPath { slug }: RoomPath,
    QueryParams(query): QueryParams<WordsQuery>,
    headers: HeaderMap,
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
    Ok(revalidated_json(&headers, json_body(&WordList { words })?))
}

/// `GET /api/rooms/{slug}/words/{id}`.
#[utoipa::path(get, path = "/api/rooms/{slug}/words/{id}", tag = "words", params(WordPath),
    responses(
        (status = 200, description = "The word", body = WordView),
        NoSuchWord,
        AnyProblem,
    ))]
pub async fn get_word(
    State(rooms): State<Rooms>,
    WordPath { slug, id }: WordPath,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    Ok(revalidated_json(
        &headers,
        json_body(&rooms.word(&slug, id).await?)?,
    ))
}

/// `PATCH /api/rooms/{slug}/words/{id}`: fixes a word.
#[utoipa::path(patch, path = "/api/rooms/{slug}/words/{id}", tag = "words", params(WordPath, IfMatch),
    request_body = EditWordBody,
    responses(
        (status = 200, description = "Fixed", body = WordView),
        MalformedBody,
        (status = 403, description = "Not its author within 30 s, nor the host", body = Problem, content_type = "application/problem+json"),
        NoSuchWord,
        StaleIfMatch,
        InvalidWord,
        AnyProblem,
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
        NoSuchWord,
        StaleIfMatch,
        AnyProblem,
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

/// A body as JSON.
fn json_body(value: &impl Serialize) -> Result<Vec<u8>, AppError> {
    serde_json::to_vec(value).map_err(|error| {
        tracing::error!(%error, "a response could not be encoded");
        AppError::internal()
    })
}
