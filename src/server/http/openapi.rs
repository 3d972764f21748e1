//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON API, generated with utoipa
//! from the very types that parse requests and shape responses, and from the handlers' own
//! annotations.

use axum::Json;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::extract::RoomPath;
use super::json_api;
use crate::domain::{Mode, RoomSettings};
use crate::model::{
    Me, RoomSettingsPatch, RoomState, SentenceView, StorySentence, TurnView, UserRef, WordView,
};

/// An error (RFC 9457 problem details), sent as `application/problem+json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URN naming the kind of problem, `urn:frase:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The problem's stable code, e.g. `word-too-long`.
    pub code: String,
}

/// The answer of `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

/// A list of words.
#[derive(Debug, Serialize, ToSchema)]
pub struct WordList {
    pub words: Vec<WordView>,
}

/// A story as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoryJson {
    pub room: String,
    pub title: String,
    pub sentences: Vec<StorySentence>,
}

/// A safe retry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1 to 255 visible ASCII characters; the same key from the same user within 24 h returns
    /// the first response again (422 with another body, 409 while the first is running).
    #[serde(rename = "Idempotency-Key")]
    #[param(value_type = String, required = false)]
    #[param(pattern = "^[\\x21-\\x7e]{1,255}$")]
    pub idempotency_key: Option<String>,
}

/// Where a stream resumes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventId {
    /// The last room version received; the stream sends every change after it.
    #[serde(rename = "Last-Event-ID")]
    #[param(value_type = i64, required = false, minimum = 0)]
    pub last_event_id: Option<i64>,
}

/// `GET /api/rooms/{slug}/events` (described here: its body is a stream, not a JSON value).
#[utoipa::path(get, path = "/api/rooms/{slug}/events", tag = "live",
    params(RoomPath, LastEventId, ("last_event_id" = Option<i64>, Query, description = "Same as Last-Event-ID; the header wins")),
    responses(
        (status = 200, description = "Server-Sent Events: `retry:`, then a `snapshot` (or the changes after Last-Event-ID), then `word`, `edit`, `delete`, `sentence`, `room`, `turn` events with the room version as id, `presence` events, and `: ping` comments",
            content_type = "text/event-stream", body = String,
            headers(("Cache-Control" = String), ("X-Accel-Buffering" = String))),
        (status = 400, description = "Last-Event-ID is not a version", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such room", body = Problem, content_type = "application/problem+json"),
        (status = "default", description = "An error", body = Problem, content_type = "application/problem+json"),
    ))]
#[allow(dead_code)]
fn events_doc() {}

/// `GET /metrics` (Prometheus text).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String)))]
#[allow(dead_code)]
fn metrics_doc() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "frase",
        description = "A live word-by-word sentence game: rooms, words, the story, and live events.",
    ),
    paths(
        json_api::create_room,
        json_api::get_room,
        json_api::put_room,
        json_api::patch_room,
        json_api::delete_room,
        json_api::list_words,
        json_api::add_word,
        json_api::get_word,
        json_api::edit_word,
        json_api::delete_word,
        json_api::end_sentence,
        json_api::start_round,
        json_api::story,
        events_doc,
        json_api::get_me,
        json_api::patch_me,
        json_api::healthz,
        metrics_doc,
    ),
    components(schemas(
        Problem, Health, WordList, StoryJson, RoomState, RoomSettings, RoomSettingsPatch, Mode,
        SentenceView, TurnView, WordView, UserRef, StorySentence, Me,
        json_api::AddWordBody, json_api::CreateRoomBody, json_api::PutRoomBody,
        json_api::PatchRoomBody, json_api::EditWordBody, json_api::RenameBody,
    )),
    tags(
        (name = "rooms", description = "Rooms, their settings and their story"),
        (name = "words", description = "The words of a room"),
        (name = "live", description = "Server-Sent Events"),
        (name = "users", description = "The caller"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Response {
    Json(ApiDoc::openapi()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_covers_the_api() {
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
        let paths = document["paths"].as_object().unwrap();
        for path in [
            "/api/rooms",
            "/api/rooms/{slug}",
            "/api/rooms/{slug}/words",
            "/api/rooms/{slug}/words/{id}",
            "/api/rooms/{slug}/sentence/end",
            "/api/rooms/{slug}/round/start",
            "/api/rooms/{slug}/story",
            "/api/rooms/{slug}/events",
            "/api/me",
            "/healthz",
            "/metrics",
        ] {
            assert!(paths.contains_key(path), "{path} is documented");
        }
        let room = &paths["/api/rooms/{slug}"];
        for method in ["get", "put", "patch", "delete"] {
            assert!(room.get(method).is_some(), "{method} /api/rooms/{{slug}}");
        }
        let settings = &document["components"]["schemas"]["RoomSettings"]["properties"];
        assert_eq!(settings["max_word_length"]["maximum"], 64);
    }

    /// The limits the document states for settings, in a room and in a `PATCH`, are the ones
    /// the domain enforces.
    #[test]
    fn settings_limits_are_the_domains() {
        use crate::domain::{MAX_SENTENCE_WORDS_RANGE, MAX_WORD_LENGTH_RANGE, TURN_SECONDS_RANGE};
        let document = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let schemas = &document["components"]["schemas"];
        for schema in ["RoomSettings", "RoomSettingsPatch"] {
            let properties = &schemas[schema]["properties"];
            for (field, range) in [
                ("max_word_length", MAX_WORD_LENGTH_RANGE),
                ("max_sentence_words", MAX_SENTENCE_WORDS_RANGE),
                ("turn_seconds", TURN_SECONDS_RANGE),
            ] {
                assert_eq!(
                    properties[field]["minimum"],
                    *range.start(),
                    "{schema}.{field} minimum"
                );
                assert_eq!(
                    properties[field]["maximum"],
                    *range.end(),
                    "{schema}.{field} maximum"
                );
            }
        }
    }
}
