//! `GET /api/rooms/{slug}/events`: the live Server-Sent Events of a room (CONTRACT §5).

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;
use utoipa::IntoParams;

use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::extract::{Caller, QueryParams, RoomPath};
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::http::guards::abuse::ClientAddress;
use crate::server::http::transport::stream_connections::DirectBody;
use crate::server::live::seat::Seat;
use crate::server::live::stream::{Snapshot, StreamStart, event_stream, until_ok};
use crate::server::state::AppState;

/// Where a stream resumes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventId {
    /// The last room version received; the stream sends every change after it.
    #[serde(rename = "Last-Event-ID")]
    #[param(value_type = i64, required = false, minimum = 0)]
    pub last_event_id: Option<i64>,
}

/// How long a browser waits before reconnecting a dropped stream.
const RETRY: Duration = Duration::from_millis(1000);

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    pub last_event_id: Option<String>,
    /// A viewer (a projector) follows the room without counting as one of its players.
    #[serde(default)]
    pub viewer: bool,
}

/// The version to resume after: the `Last-Event-ID` header (what a browser sends when it
/// reconnects) wins over `?last_event_id=` (what a page passes on its first connection). Either
/// one that is not a version (empty included: a browser sends none rather than an empty one) is
/// a 400, even when the other would do.
fn last_event_id(headers: &HeaderMap, query: &EventsQuery) -> Result<Option<i64>, AppError> {
    let header = headers
        .get("last-event-id")
        .map(|value| parse_version(value.to_str().unwrap_or("")))
        .transpose()?;
    let query = query
        .last_event_id
        .as_deref()
        .map(parse_version)
        .transpose()?;
    Ok(header.or(query))
}

/// A room version as a client gives it back.
fn parse_version(raw: &str) -> Result<i64, AppError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|v| *v >= 0)
        .ok_or_else(|| {
            AppError::bad_request(
                "bad-last-event-id",
                Message::new("problem-bad-last-event-id").arg("value", raw),
            )
        })
}

pub async fn events(
    State(state): State<AppState>,
    RoomPath { slug }: RoomPath,
    Caller(session): Caller,
    QueryParams(query): QueryParams<EventsQuery>,
    ClientAddress(address): ClientAddress,
    seat: Option<Extension<Arc<Seat>>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let last_event_id = last_event_id(&headers, &query)?;
    // A busy pool or a locked database is waited out (the client sees its stream open late),
    // never a 500: only a room that is not there ends the request.
    let never = CancellationToken::new();
    let Some(exists) = until_ok("event stream open", [&state.shutdown, &never], || {
        state.rooms.exists(&slug)
    })
    .await
    else {
        return Err(AppError::unavailable(Message::new("problem-shutting-down")));
    };
    if !exists {
        return Err(AppError::not_found(
            "room-not-found",
            Message::new("problem-room-not-found").arg("room", &slug),
        ));
    }
    // Held for as long as the stream is open: its place is given back when the body is dropped.
    let slot = match address {
        Some(address) => Some(state.streams.open(address).ok_or_else(|| {
            AppError::rate_limited(Message::new("problem-rate-limited-streams"), RETRY)
        })?),
        None => None,
    };
    let rooms = state.rooms.clone();
    let user = session.user.clone();
    let snapshot_slug = slug.clone();
    let snapshot: Snapshot = Box::new(move || {
        let (rooms, user, slug) = (rooms.clone(), user.clone(), snapshot_slug.clone());
        Box::pin(async move {
            let (version, json) = rooms
                .room_json(&slug, &user)
                .await
                .map_err(|error| error.to_string())?;
            Ok((version, json))
        })
    });
    let stream = event_stream(
        state.rooms.hub().clone(),
        state.rooms.store().clone(),
        StreamStart {
            slug: slug.to_string(),
            // A stream without a session cookie is nobody's; a viewer's (a projector's) is not
            // a player's, and does not count as online either.
            user: (!session.fresh && !query.viewer).then(|| session.user.to_string()),
            counted: !query.viewer,
            last_event_id,
            retry: RETRY,
            // Offered by a connection that writes the stream's frames itself.
            seat: seat.map(|Extension(seat)| seat),
        },
        snapshot,
        state.shutdown.clone(),
    )
    .map(move |item| {
        let _open = &slot;
        item
    });
    let (frames, body) = DirectBody::new(stream);
    let mut response = Response::new(body);
    response.extensions_mut().insert(frames);
    let response_headers = response.headers_mut();
    response_headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response_headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The schema of one event of the stream, for the OpenAPI document (OpenAPI 3.1 has no
/// `itemSchema` yet: a `text/event-stream` body's `schema` describes one event, as
/// schemathesis reads it): `event`, `id`, `retry` and `data` as the fields of an event, its
/// `data` a JSON text of the type each kind carries (`contentSchema`). The match is exhaustive,
/// so a new kind of event cannot go undocumented.
pub fn event_schema() -> serde_json::Value {
    use crate::model::EventKind;
    let one_of: Vec<serde_json::Value> = EventKind::ALL
        .into_iter()
        .map(|kind| {
            let (data, description) = match kind {
                EventKind::Snapshot => ("RoomState", "The room's state, first on a fresh stream"),
                EventKind::Word => ("WordView", "A word was added"),
                EventKind::Edit => ("WordView", "A word was fixed"),
                EventKind::Delete => ("DeletedWord", "A word was removed"),
                EventKind::Sentence => ("StorySentence", "A sentence was finished"),
                EventKind::Room => ("RoomState", "The room's title or settings changed"),
                EventKind::Turn => ("TurnEvent", "Whose turn it is changed"),
                EventKind::Presence => ("Presence", "How many players have the room open"),
            };
            // A presence event has no id of its own, but a reader keeps the last one it saw.
            let required = match kind {
                EventKind::Presence => serde_json::json!(["event", "data"]),
                _ => serde_json::json!(["event", "id", "data"]),
            };
            serde_json::json!({
                "type": "object",
                "description": description,
                "required": required,
                "properties": {
                    "event": { "const": kind.as_str() },
                    "id": {
                        "type": "string",
                        "description": "The room version of the change: resume after it with Last-Event-ID",
                        "pattern": "^(0|[1-9][0-9]*)$",
                    },
                    "retry": {
                        "type": "integer",
                        "description": "Milliseconds a reader waits before reconnecting",
                    },
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": { "$ref": format!("#/components/schemas/{data}") },
                    },
                },
            })
        })
        .collect();
    serde_json::json!({ "oneOf": one_of })
}
