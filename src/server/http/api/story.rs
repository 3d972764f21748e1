//! A room's story in the JSON API (CONTRACT §4): its finished sentences, in the format asked for.

use std::time::SystemTime;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{QueryParams, RoomPath};
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::export::{self, StoryFormat, StoryJson};
use crate::server::http::conditional::{
    content_etag, last_modified, none_match_hits, not_modified_since,
};
use crate::server::http::problem::{AnyProblem, NoSuchRoom, Problem};
use crate::server::rooms::Rooms;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoryQuery {
    /// `json`, `txt` (or `text`) or `md` (or `markdown`); wins over `Accept`.
    #[param(value_type = String, required = false, pattern = "^(json|txt|text|md|markdown)$")]
    pub format: Option<String>,
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
        NoSuchRoom,
        (status = 406, description = "No acceptable format", body = Problem, content_type = "application/problem+json"),
        AnyProblem,
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
        HeaderValue::from_static("max-age=5, must-revalidate"),
    );
    response_headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}
