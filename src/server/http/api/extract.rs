//! Extractors that turn raw request parts into our types, rejecting bad input as problem+json.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::StatusCode;
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::domain::RoomSlug;
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::session::Session;

/// A JSON request body: 415 without a JSON content type, 413 when too large, 400 when it is not
/// JSON or not of the expected shape.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<serde_json::Value>::from_request(request, state).await {
            // Serde would also read a struct from an array of its fields: only an object is one.
            Ok(axum::Json(value)) if !value.is_object() => Err(AppError::bad_request(
                "malformed-body",
                Message::new("problem-body-not-object"),
            )),
            Ok(axum::Json(value)) => serde_json::from_value(value)
                .map(JsonBody)
                .map_err(|error| {
                    AppError::bad_request(
                        "malformed-body",
                        Message::new("problem-body-fields").arg("reason", error),
                    )
                }),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::unsupported_media_type(
                Message::new("problem-unsupported-media-type"),
            )),
            Err(JsonRejection::JsonSyntaxError(error)) => Err(AppError::bad_request(
                "malformed-json",
                Message::new("problem-malformed-json").arg("reason", error.body_text()),
            )),
            Err(JsonRejection::JsonDataError(error)) => Err(AppError::bad_request(
                "malformed-body",
                Message::new("problem-body-fields").arg("reason", error.body_text()),
            )),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(
                AppError::content_too_large(Message::new("problem-body-too-large")),
            ),
            Err(rejection) => Err(AppError::bad_request(
                "malformed-body",
                Message::new("problem-malformed-body").arg("reason", rejection.body_text()),
            )),
        }
    }
}

/// A query string of the expected shape, or 400.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(QueryParams(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(error)) => {
                Err(AppError::bad_request(
                    "bad-query",
                    Message::new("problem-bad-query").arg("reason", error.body_text()),
                ))
            }
            Err(rejection) => Err(AppError::bad_request(
                "bad-query",
                Message::new("problem-bad-query").arg("reason", rejection.body_text()),
            )),
        }
    }
}

/// The caller's session, put there by the session middleware.
pub struct Caller(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| {
                tracing::error!("no session: the session middleware is not installed");
                AppError::internal()
            })
    }
}

/// A room slug from the path; a malformed one names no room, hence 404.
pub fn room_slug(raw: &str) -> Result<RoomSlug, AppError> {
    RoomSlug::parse(raw).map_err(|_| {
        AppError::not_found(
            "room-not-found",
            Message::new("problem-room-not-found").arg("room", raw),
        )
    })
}

/// The room a request is about: `{slug}` in its path, parsed (a malformed code names no room:
/// 404). Documented as the operation's `slug` parameter.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RoomPath {
    /// `^[a-z0-9][a-z0-9-]{0,31}$`, e.g. `main`.
    #[param(value_type = String, pattern = "^[a-z0-9][a-z0-9-]{0,31}$")]
    pub slug: RoomSlug,
}

/// A word of a room: `{slug}` and `{id}` in the path (an id that is not a number names no word:
/// 404). Documented as the operation's `slug` and `id` parameters.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct WordPath {
    /// `^[a-z0-9][a-z0-9-]{0,31}$`, e.g. `main`.
    #[param(value_type = String, pattern = "^[a-z0-9][a-z0-9-]{0,31}$")]
    pub slug: RoomSlug,
    pub id: i64,
}

/// The value of each path parameter of `names`, in that order (the router put them there: one
/// missing is our bug).
async fn path_params<S: Send + Sync, const N: usize>(
    parts: &mut Parts,
    state: &S,
    names: [&str; N],
) -> Result<[String; N], AppError> {
    let params = axum::extract::RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|rejection| {
            tracing::error!(%rejection, "no path parameters");
            AppError::internal()
        })?;
    let mut values: [String; N] = std::array::from_fn(|_| String::new());
    for (value, name) in values.iter_mut().zip(names) {
        *value = params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, found)| found.to_owned())
            .ok_or_else(|| {
                tracing::error!(name, "no such path parameter");
                AppError::internal()
            })?;
    }
    Ok(values)
}

impl<S: Send + Sync> FromRequestParts<S> for RoomPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<RoomPath, AppError> {
        let [slug] = path_params(parts, state, ["slug"]).await?;
        Ok(RoomPath {
            slug: room_slug(&slug)?,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WordPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<WordPath, AppError> {
        let [slug, id] = path_params(parts, state, ["slug", "id"]).await?;
        let slug = room_slug(&slug)?;
        let id = id.parse().map_err(|_| {
            AppError::not_found(
                "word-not-found",
                Message::new("problem-word-not-found").arg("id", &id),
            )
        })?;
        Ok(WordPath { slug, id })
    }
}

/// The request's `If-None-Match` lines alone, for a conditional `GET` (the `HeaderMap`
/// extractor would copy every header of the request, on the busiest route there is).
pub struct IfNoneMatch(pub http::HeaderMap);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<IfNoneMatch, std::convert::Infallible> {
        let mut only = http::HeaderMap::new();
        for value in parts.headers.get_all(http::header::IF_NONE_MATCH) {
            only.append(http::header::IF_NONE_MATCH, value.clone());
        }
        Ok(IfNoneMatch(only))
    }
}

/// `If-Match`, as the room versions it names: `None` when absent or `*` (no condition), else
/// the versions of its strong tags (none that are ours: the change fails with 412).
/// Documented as the operation's `If-Match` header.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IfMatch {
    /// `*` or the room's `ETag`s: the change is made only if the room is still at one of those
    /// versions, else 412 (also for a value that names no version of ours).
    #[param(rename = "If-Match", value_type = String, required = false)]
    pub versions: Option<Vec<i64>>,
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<IfMatch, std::convert::Infallible> {
        Ok(IfMatch {
            versions: crate::server::http::conditional::if_match_versions(&parts.headers),
        })
    }
}
