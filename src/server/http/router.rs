//! The application's routes and layers, built in one place that `serve` and the tests share.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::{HeaderMap, Method, StatusCode};
use leptos_axum::{LeptosRoutes, generate_route_list_with_exclusions};
use serde::Deserialize;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::api::extract::QueryParams;
use super::api::server_fns::app_context;
use super::api::{events, idempotency, openapi, ops, rooms, server_fns, story, users, words};
use super::around::{AroundLayer, Nested};
use super::guards::where_needed::WhereNeededLayer;
use super::guards::{abuse, csrf, methods, origin, security};
use super::problem::BODY_LIMIT;
use super::shell::shell;
use super::transport::compression;
use super::{assets, locale, metrics, panics, problem, render_watchdog, validators};
use crate::app::App;
use crate::domain::RoomSlug;
use crate::error::AppError;
use crate::i18n::Message;
use crate::server::session::Sessions;
use crate::server::state::AppState;

pub fn router(state: AppState) -> Router {
    // Server functions are served by our own handler (`server_fns::handle`), which gives errors
    // their status and answers plain form posts with a 303; keep Leptos from mounting its own.
    let server_fn_paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _method)| path.to_owned())
        .collect();
    let routes = generate_route_list_with_exclusions(App, Some(server_fn_paths.clone()));
    let context = app_context(&state);
    let page_state = state.clone();

    let api = Router::new()
        .route("/api/rooms", post(rooms::create_room))
        .route(
            "/api/rooms/{slug}",
            get(rooms::get_room)
                .put(rooms::put_room)
                .patch(rooms::patch_room)
                .delete(rooms::delete_room),
        )
        .route(
            "/api/rooms/{slug}/words",
            get(words::list_words).post(words::add_word),
        )
        .route(
            "/api/rooms/{slug}/words/{id}",
            get(words::get_word)
                .patch(words::edit_word)
                .delete(words::delete_word),
        )
        .route("/api/rooms/{slug}/sentence/end", post(rooms::end_sentence))
        .route("/api/rooms/{slug}/round/start", post(rooms::start_round))
        .route("/api/rooms/{slug}/story", get(story::story))
        .route("/api/rooms/{slug}/events", get(events::events))
        .route("/api/me", get(users::get_me).patch(users::patch_me))
        .route("/api/openapi.json", get(openapi::openapi_json));
    // Each server function at its own path, `POST` only (every one takes its arguments as a
    // form): another method is a 405 with `Allow`, an unknown name a 404 like any other.
    let api = server_fn_paths
        .iter()
        .fold(api, |api, path| api.route(path, post(server_fns::handle)))
        .route("/api/{*rest}", axum::routing::any(api_not_found));

    Router::new()
        .merge(api)
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .route("/join", get(join))
        .route("/pkg/{*path}", get(assets::pkg))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        // A known path with a method it does not take: 405 (the router adds the path's `Allow`),
        // rather than the page fallback below.
        .method_not_allowed_fallback(|| async { StatusCode::METHOD_NOT_ALLOWED })
        .fallback(move |request: Request| fallback(page_state.clone(), request))
        // One layer stack, applied to each route once: every `from_fn` layer clones what is
        // below it on each request, and separate `Router::layer`s put a boxed route (a
        // clone is an allocation) under each of them. Middleware that only looks at the request
        // and changes the response is an `Around` (nothing cloned or boxed). Outermost first.
        .layer(
            tower::ServiceBuilder::new()
                // One log line per request, at `info`: method, path, status and latency.
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(AroundLayer(Nested(
                    security::SecurityHeaders(state.transport),
                    validators::EncodingEtags,
                )))
                .layer(compression::CompressUnlessStream)
                .layer(AroundLayer(Sessions(state.session.clone())))
                .layer(AroundLayer(metrics::CountResponses(state.metrics.clone())))
                // Answers CORS preflights (before the method rules, which would answer any
                // OPTIONS).
                .layer(tower::util::option_layer(state.cors.layer()))
                // Outside every layer that answers with a problem, which it renders in the
                // reader's language.
                .layer(AroundLayer(locale::Negotiate))
                .layer(middleware::from_fn_with_state(
                    Arc::new(methods::AllowTable::new()),
                    methods::method_semantics,
                ))
                // Inside the counter (its 500 is counted) and the locale (its problem is
                // translated).
                .layer(panics::catch_panics(state.metrics.clone()))
                .layer(AroundLayer(problem::ProblemResponses))
                .layer(DefaultBodyLimit::max(BODY_LIMIT))
                // Before writes and pages only: a `GET` of the API goes past them.
                .layer(WhereNeededLayer::new(
                    tower::ServiceBuilder::new()
                        .layer(middleware::from_fn_with_state(
                            state.clone(),
                            origin::refuse_cross_site,
                        ))
                        .layer(middleware::from_fn_with_state(
                            state.clone(),
                            csrf::check_form_tokens,
                        ))
                        .layer(middleware::from_fn(validators::page_validators))
                        .layer(middleware::from_fn(render_watchdog::retry_stalled_pages))
                        .layer(middleware::from_fn_with_state(
                            state.clone(),
                            idempotency::idempotent_posts,
                        ))
                        .layer(middleware::from_fn_with_state(
                            state.clone(),
                            abuse::limit_writes_per_address,
                        )),
                )),
        )
        .with_state(state)
}

async fn api_not_found(request: Request) -> AppError {
    AppError::not_found(
        "not-found",
        Message::new("problem-not-found").arg("path", request.uri().path()),
    )
}

#[derive(Debug, Deserialize)]
struct JoinQuery {
    code: Option<String>,
}

/// `GET /join?code=...`: the lobby's "enter a room code" form, which works without JavaScript.
async fn join(QueryParams(query): QueryParams<JoinQuery>) -> Response {
    let code = query.code.unwrap_or_default().trim().to_lowercase();
    match RoomSlug::parse(&code) {
        Ok(slug) => Redirect::to(&format!("/r/{slug}")).into_response(),
        Err(_) => {
            Redirect::to(&format!("/?error={}", crate::error::codes::BAD_ROOM_CODE)).into_response()
        }
    }
}

/// Anything no route took: a file of `public/`, or the app's own "not found" page.
async fn fallback(state: AppState, request: Request) -> Response {
    // The router also sends here the methods a route does not take; it adds that route's
    // `Allow` itself, and `methods::method_semantics` completes it (or, for a path with no route,
    // lists what documents allow).
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let headers: &HeaderMap = request.headers();
    if let Some(response) = assets::public_file(request.uri().path(), headers) {
        return response;
    }
    let render = leptos_axum::render_app_to_stream_with_context(app_context(&state), {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    });
    render(request).await.into_response()
}
