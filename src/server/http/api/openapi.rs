//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON API, generated with utoipa
//! from the very types that parse requests and shape responses, and from the handlers' own
//! annotations.

use axum::response::Response;

use crate::server::http::conditional::revalidated_json;
use utoipa::OpenApi;

use super::events::{self, LastEventId};
use super::extract::RoomPath;
use super::ops::{self, Health};
use super::server_fn_forms;
use super::words::{self, WordList};
use super::{rooms, story, users};
use crate::domain::{Mode, RoomSettings};
use crate::error::AppError;
use crate::model::{
    AuthoredSentence, Contributor, DeletedWord, JoinLink, Me, Presence, RoomPage,
    RoomSettingsPatch, RoomState, SentenceView, StoryPage, StorySentence, TurnEvent, TurnView,
    UserRef, WordView,
};
use crate::server::export::StoryJson;
use crate::server::http::problem::{AnyProblem, NoSuchRoom, Problem};

/// `GET /api/rooms/{slug}/events` (described here: its body is a stream, not a JSON value).
#[utoipa::path(get, path = "/api/rooms/{slug}/events", tag = "live", operation_id = "events",
    params(RoomPath, LastEventId, ("last_event_id" = Option<i64>, Query, minimum = 0, description = "Same as Last-Event-ID; the header wins"),
        ("viewer" = Option<bool>, Query, description = "`true`: a viewer (a projector) that does not count as a player online")),
    responses(
        (status = 200, description = "Server-Sent Events: `retry:`, then a `snapshot` (or the changes after Last-Event-ID), then `word`, `edit`, `delete`, `sentence`, `room`, `turn` events with the room version as id, `presence` events, and `: ping` comments",
            content_type = "text/event-stream", body = String,
            headers(("Cache-Control" = String), ("X-Accel-Buffering" = String))),
        (status = 400, description = "Last-Event-ID is not a version", body = Problem, content_type = "application/problem+json"),
        NoSuchRoom,
        AnyProblem,
    ))]
#[allow(dead_code)]
fn events_doc() {}

/// `GET /metrics` (Prometheus text).
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
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
        rooms::create_room,
        rooms::get_room,
        rooms::put_room,
        rooms::patch_room,
        rooms::delete_room,
        words::list_words,
        words::add_word,
        words::get_word,
        words::edit_word,
        words::delete_word,
        rooms::end_sentence,
        rooms::start_round,
        story::story,
        events_doc,
        users::get_me,
        users::patch_me,
        ops::healthz,
        metrics_doc,
    ),
    components(schemas(
        Problem, Health, WordList, StoryJson, RoomState, RoomSettings, RoomSettingsPatch, Mode,
        SentenceView, TurnView, WordView, UserRef, StorySentence, Me, TurnEvent, DeletedWord,
        Presence, RoomPage, JoinLink, StoryPage, AuthoredSentence, Contributor, AppError,
        words::AddWordBody, rooms::CreateRoomBody, rooms::PutRoomBody,
        rooms::PatchRoomBody, words::EditWordBody, users::RenameBody,
    )),
    tags(
        (name = "rooms", description = "Rooms, their settings and their story"),
        (name = "words", description = "The words of a room"),
        (name = "live", description = "Server-Sent Events"),
        (name = "users", description = "The caller"),
        (name = "operations", description = "Health and metrics"),
        (name = "server functions", description = "What the WebAssembly client calls (CONTRACT §3): each takes a form and answers JSON, or a 303 when a plain HTML form posts it"),
    )
)]
pub struct ApiDoc;

/// The whole document: what utoipa derives from the handlers and types, with what it cannot
/// say written in: one event of the stream (`text/event-stream`'s schema) and the server
/// functions.
pub fn document() -> serde_json::Value {
    let mut document = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let stream = &mut document["paths"]["/api/rooms/{slug}/events"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"];
    *stream = serde_json::json!({ "schema": events::event_schema() });
    if let Some(paths) = document["paths"].as_object_mut() {
        paths.extend(server_fn_forms::paths());
    }
    document
}

/// `GET /api/openapi.json`, encoded once.
pub async fn openapi_json(headers: http::HeaderMap) -> Response {
    static ENCODED: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
    let body = ENCODED.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default().into());
    // It changes with a new version of frase only; caches ask again, cheaply, rather than guess.
    revalidated_json(&headers, body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_and_covers_the_api() {
        let document = document();
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
        // The error sets: each status with its problem+json body.
        let put = &room["put"]["responses"];
        for status in ["200", "201", "400", "403", "404", "412", "422", "default"] {
            assert!(put.get(status).is_some(), "PUT answers {status}");
        }
        // (inlined: the very schema of `Problem`)
        assert_eq!(
            put["412"]["content"]["application/problem+json"]["schema"]["properties"],
            document["components"]["schemas"]["Problem"]["properties"]
        );
        assert_eq!(put["default"]["description"], "An error");
        // One event of the stream: a kind per event, its data the type that kind carries.
        let event = &paths["/api/rooms/{slug}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
            ["schema"];
        let kinds: Vec<&str> = event["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kind| kind["properties"]["event"]["const"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "snapshot", "word", "edit", "delete", "sentence", "room", "turn", "presence"
            ]
        );
        assert_eq!(
            event["oneOf"][1]["properties"]["data"]["contentSchema"]["$ref"],
            "#/components/schemas/WordView"
        );
        for name in ["/api/fn/add_word", "/api/fn/set_language"] {
            let post = &paths[name]["post"];
            assert!(
                post["requestBody"]["content"]["application/x-www-form-urlencoded"].is_object(),
                "{name} takes a form"
            );
            assert!(
                post["responses"]["303"].is_object(),
                "{name} answers forms with a 303"
            );
        }
        // Every schema a `$ref` names is in the document.
        let text = document.to_string();
        for reference in text.split("\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(
                document["components"]["schemas"].get(name).is_some(),
                "{name} is defined"
            );
        }
        let settings = &document["components"]["schemas"]["RoomSettings"]["properties"];
        assert_eq!(settings["max_word_length"]["maximum"], 64);
    }

    /// The limits the document states for settings, in a room and in a `PATCH`, are the ones
    /// the domain enforces.
    #[test]
    fn settings_limits_are_the_domains() {
        use crate::domain::{MAX_SENTENCE_WORDS_RANGE, MAX_WORD_LENGTH_RANGE, TURN_SECONDS_RANGE};
        let document = document();
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

    /// The lengths and page sizes the document states are the ones the domain and the service
    /// enforce (utoipa's attributes take literals only, so this keeps them from drifting).
    #[test]
    fn text_limits_are_the_domains() {
        use crate::domain::{DISPLAY_NAME_MAX_CHARS, ROOM_TITLE_MAX_CHARS};
        use crate::server::rooms::MAX_WORDS_PAGE;
        let document = document();
        let schemas = &document["components"]["schemas"];
        for schema in ["CreateRoomBody", "PutRoomBody", "PatchRoomBody"] {
            assert_eq!(
                schemas[schema]["properties"]["title"]["maxLength"], ROOM_TITLE_MAX_CHARS,
                "{schema}.title"
            );
        }
        assert_eq!(
            schemas["RenameBody"]["properties"]["name"]["maxLength"],
            DISPLAY_NAME_MAX_CHARS
        );
        let list = &document["paths"]["/api/rooms/{slug}/words"]["get"]["parameters"];
        let limit = list
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == "limit")
            .unwrap();
        assert_eq!(limit["schema"]["maximum"], MAX_WORDS_PAGE);
    }
}
