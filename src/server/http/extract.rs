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
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(
                415,
                "unsupported-media-type",
                "unsupported-media-type",
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
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::new(
                    413,
                    "body-too-large",
                    "content-too-large",
                    Message::new("problem-body-too-large"),
                ))
            }
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
