//! The application: the router and the pages (the HTML document around them is the server's:
//! `server::http::shell`).

use leptos::prelude::*;
use leptos_meta::{Meta, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::language_switch::LanguageSwitch;
use crate::pages::{
    lobby::Lobby, not_found::NotFound, present::PresentPage, room::RoomPage, story::StoryPage,
};

/// The pages, shared by the server's rendering and the client's hydration, in the reader's
/// language (in context for every component: `i18n::t`).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(crate::i18n::page_locale());
    view! {
        <Title text="frase"/>
        <Meta name="description" content=crate::i18n::t("meta-description")/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=Lobby ssr=SsrMode::Async/>
                <Route path=path!("/r/:slug") view=RoomPage ssr=SsrMode::Async/>
                <Route path=path!("/r/:slug/present") view=PresentPage ssr=SsrMode::Async/>
                <Route path=path!("/r/:slug/story") view=StoryPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
        <LanguageSwitch/>
    }
}
