//! The HTML document around the app: its head (styles, the client's script and module, the
//! page's Content-Security-Policy with this response's nonce) and its body, [`App`].

use std::sync::Arc;

use leptos::prelude::*;
use leptos_meta::MetaTags;

use super::assets::AssetManifest;
use super::guards::security::{development_page_policy, page_policy};
use crate::app::App;

/// The whole HTML document, rendered on the server around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let assets = use_context::<Arc<AssetManifest>>().unwrap_or_default();
    let nonce = leptos::nonce::use_nonce();
    // The page's Content-Security-Policy names this response's nonce, which its inline scripts
    // (the boot script below and Leptos' own) carry.
    // In development (`make dev`), Leptos' live-reload script too, and its WebSocket.
    let live_reload = assets.live_reload_port;
    if let Some(nonce) = &nonce
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        let policy = match live_reload {
            Some(port) => {
                let request = use_context::<http::request::Parts>();
                let host = request
                    .as_ref()
                    .and_then(|request| request.headers.get(http::header::HOST))
                    .and_then(|host| host.to_str().ok());
                development_page_policy(nonce, host, port)
            }
            None => page_policy(nonce),
        };
        if let Ok(policy) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    // Loads the WebAssembly client, then hydrates the page's islands (its live parts, see
    // `leptos-island` elements) the way Leptos' own island script does, and marks the body
    // `data-hydrated` for tests and scripts. A page without islands (the lobby, a story) has
    // nothing for the client to do: it never fetches the `.wasm` and is marked at once.
    // The `.wasm` is not preloaded: on a slow line it does not compete with the page's own bytes
    // (the glue is `modulepreload`ed: it is small, and it is what starts the `.wasm`'s download).
    let live_page = use_context::<http::request::Parts>()
        .is_some_and(|request| may_have_islands(request.uri.path()));
    let boot = match (&assets.js, &assets.wasm) {
        (Some(js), Some(wasm)) => Some(format!(
            "const b=document.body,i=b.querySelectorAll('leptos-island');\
             if(!i.length)b.dataset.hydrated='';\
             else import('{js}').then(m=>m.default({{module_or_path:'{wasm}'}}).then(()=>{{\
             m.hydrate();for(const e of i)m[e.dataset.component](e);b.dataset.hydrated=''}}));"
        )),
        _ => None,
    };
    view! {
        <!DOCTYPE html>
        <html lang=crate::i18n::page_locale().tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                {assets.css.clone().map(|href| view! { <link rel="stylesheet" href=href/> })}
                {assets.js.clone().filter(|_| live_page).map(|href| view! { <link rel="modulepreload" href=href/> })}
                {live_reload.map(|_| view! { <AutoReload options=options.clone()/> })}
                {boot.map(|boot| view! { <script type="module" nonce=nonce>{boot}</script> })}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Whether the page at `path` may have islands: a room's page or its projector view (the pages
/// that follow a room live). Only those preload the client's glue.
fn may_have_islands(path: &str) -> bool {
    let mut segments = path.trim_end_matches('/').split('/').skip(1);
    matches!(
        (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next()
        ),
        (Some("r"), Some(_), None | Some("present"), None)
    )
}

#[cfg(test)]
mod tests {
    use super::may_have_islands;

    #[test]
    fn only_a_room_and_its_projector_view_preload_the_client() {
        for path in ["/r/main", "/r/main/", "/r/abc123/present"] {
            assert!(may_have_islands(path), "{path}");
        }
        for path in [
            "/",
            "/r/main/story",
            "/r",
            "/r/",
            "/api/rooms/main",
            "/r/a/present/x",
        ] {
            assert!(!may_have_islands(path), "{path}");
        }
    }
}
