use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::host_console::HostConsole;
use crate::components::join_panel::JoinPanel;
use crate::components::my_word::MyWord;
use crate::components::name_form::NameForm;
use crate::components::online_count::OnlineCount;
use crate::components::sentence::Sentence;
use crate::components::story::Story;
use crate::components::turn_banner::TurnBanner;
use crate::components::word_form::WordForm;
use crate::error::AppError;
use crate::i18n::{shown_room_title, t, tr, use_locale};
use crate::lens::{HttpLens, Lens};
use crate::live_state::LiveRoom;
use crate::model::RoomPage as RoomData;
use crate::server_fns::load_room;

/// `/r/{slug}`: the room, rendered on the server with its state, then live in the browser.
#[component]
pub fn RoomPage() -> impl IntoView {
    with_room_from_url(|data| {
        // A form posted without JavaScript comes back here with `?error=<code>`.
        let returned_error = use_query_map().read_untracked().get("error");
        let title = shown_room_title(use_locale(), &data.state.slug, &data.state.title);
        view! {
            <Title text=room_title(&title)/>
            <Room data returned_error/>
        }
    })
}

/// The document title of a room's page.
fn room_title(title: &str) -> String {
    format!("{title} · frase")
}

/// Loads the room the URL names (`:slug`) and shows it with `render`, or says why it cannot.
pub(crate) fn with_room_from_url<V: IntoView + 'static>(
    render: fn(RoomData) -> V,
) -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let page = Resource::new(slug, load_room);
    view! {
        <Suspense fallback=|| view! { <p class="loading">{t("loading")}</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => render(data).into_any(),
                    Err(error) => view! { <RoomError error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RoomError(error: AppError) -> impl IntoView {
    super::set_status(error.status);
    let locale = use_locale();
    let message = if error.status == 404 {
        t("room-error-missing")
    } else {
        let reason = error.localized(locale).detail;
        tr(locale, "room-error-other", &[("reason", reason)])
    };
    view! {
        <Title text=format!("{} · frase", t("room-error-title"))/>
        <main class="page narrow">
            <h1>{t("room-error-heading")}</h1>
            <p class="error" role="alert">{message}</p>
            <p><a href="/">{t("back-home")}</a></p>
        </main>
    }
}

/// The room itself: an island, the part of the page the client hydrates and keeps live.
/// `returned_error` is the code a form posted without JavaScript came back with.
#[island]
fn Room(data: RoomData, returned_error: Option<String>) -> impl IntoView {
    // Islands are hydrated one by one, outside the app's context: each provides what it uses.
    provide_context(crate::i18n::page_locale());
    let live = LiveRoom::new(&data);
    let lens = Lens::new();
    provide_context(lens);
    #[cfg(feature = "hydrate")]
    crate::live_client::follow(live, lens, crate::live_client::Audience::Player);

    let slug = data.state.slug.clone();
    let slug_for_link = slug.clone();
    let title = live.title;
    super::follow_title(title, room_title);
    let (my_id, my_csrf) = (data.me.id.clone(), data.csrf.clone());
    view! {
        <main class="page room">
            <header class="room-header">
                <a class="brand" href="/">"frase"</a>
                <h1>{move || title.get()}</h1>
                <p class="room-meta">
                    <span class="code">{t("room-code")}" "<strong>{slug.clone()}</strong></span>
                    <OnlineCount live/>
                </p>
            </header>
            <TurnBanner live me=data.me.id.clone()/>
            <Sentence live>
                <MyWord live me=my_id csrf=my_csrf/>
            </Sentence>
            <p id="room-locked" class="notice" role="status"
                class:hidden=move || !live.settings.with(|settings| settings.locked)>
                {t("room-locked-notice")}
            </p>
            <WordForm live returned_error csrf=data.csrf.clone()/>
            {data.state.host.then(|| view! { <HostConsole live csrf=data.csrf.clone()/> })}
            <NameForm me=data.me.clone() csrf=data.csrf.clone()/>
            <Story live/>
            <JoinPanel join=data.join.clone()/>
            <p class="present-link">
                <a href=format!("/r/{slug_for_link}/present")>{t("room-present-link")}</a>
            </p>
            <HttpLens lens/>
        </main>
    }
}
