//! frase: a live word-by-word sentence game, as one Leptos crate compiled twice — to the server
//! (feature `ssr`: axum, tokio, sqlx) and to the WebAssembly client (feature `hydrate`) that takes
//! over the server-rendered page.

#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod domain;
pub mod error;
pub mod i18n;
pub mod lens;
pub mod live_state;
pub mod model;
pub mod pages;
pub mod server_fns;

#[cfg(feature = "hydrate")]
pub mod fetch;
#[cfg(feature = "hydrate")]
pub mod live_client;

#[cfg(feature = "ssr")]
pub mod server;

/// The WebAssembly client's entry point: sets up the reactive runtime for the page's islands
/// (`#[island]` components), which the boot script (`server::http::shell`) then hydrates one by
/// one.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
