//! The caller in the JSON API (CONTRACT §4): who they are, and their display name.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde::Deserialize;
use utoipa::ToSchema;

use super::extract::{Caller, JsonBody};
use crate::domain::DisplayName;
use crate::error::AppError;
use crate::model::Me;
use crate::server::http::problem::{AnyProblem, MalformedBody, Problem};
use crate::server::rooms::Rooms;

/// A new display name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameBody {
    #[schema(min_length = 1, max_length = 40)]
    pub name: String,
}

/// `GET /api/me`.
#[utoipa::path(get, path = "/api/me", tag = "users",
    responses(
        (status = 200, description = "The caller (a session cookie is set for a new one)", body = Me),
        AnyProblem,
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
        MalformedBody,
        (status = 422, description = "Not a valid name", body = Problem, content_type = "application/problem+json"),
        AnyProblem,
    ))]
pub async fn patch_me(
    State(rooms): State<Rooms>,
    Caller(session): Caller,
    JsonBody(body): JsonBody<RenameBody>,
) -> Result<Response, AppError> {
    let name = DisplayName::parse(&body.name)?;
    Ok(Json(rooms.rename(&session.user, &name).await?).into_response())
}
