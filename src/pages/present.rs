use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::{shown_room_title, t, use_locale};

use super::room::with_room_from_url;
use crate::components::join_panel::JoinPanel;
use crate::components::online_count::OnlineCount;
use crate::components::sentence::Sentence;
use crate::components::turn_banner::TurnBanner;
use crate::lens::Lens;
use crate::live_state::LiveRoom;
use crate::model::RoomPage as RoomData;

/// `/r/{slug}/present`: the room for a projector: the sentence large, how to join, who is here;
/// live, with nothing to click.
#[component]
pub fn PresentPage() -> impl IntoView {
    with_room_from_url(|data| {
        let title = shown_room_title(use_locale(), &data.state.slug, &data.state.title);
        view! {
            <Title text=present_title(&title, &t("present-title-suffix"))/>
            <Present data/>
        }
    })
}

/// The document title of a room's projector view.
fn present_title(title: &str, suffix: &str) -> String {
    format!("{title} · {suffix} · frase")
}

/// The projector view itself: an island, hydrated and kept live by the client.
#[island]
fn Present(data: RoomData) -> impl IntoView {
    // Islands are hydrated one by one, outside the app's context: each provides what it uses.
    provide_context(crate::i18n::page_locale());
    let live = LiveRoom::new(&data);
    let lens = Lens::new();
    provide_context(lens);
    #[cfg(feature = "hydrate")]
    crate::live_client::follow(live, lens, crate::live_client::Audience::Viewer);
    let title = live.title;
    let suffix = t("present-title-suffix");
    super::follow_title(title, move |title| present_title(title, &suffix));
    let last_sentence = move || {
        live.story
            .with(|story| story.last().map(|sentence| sentence.text.clone()))
    };
    view! {
        <main class="present">
            <header class="present-header">
                <h1>{move || title.get()}</h1>
                <p class="present-online"><OnlineCount live/></p>
            </header>
            <TurnBanner live me=data.me.id.clone()/>
            <Sentence live/>
            <p class="present-last" class:hidden=move || last_sentence().is_none()>
                {t("present-last-sentence")}" "<q>{last_sentence}</q>
            </p>
            <JoinPanel join=data.join.clone() large=true code=data.state.slug.clone()/>
        </main>
    }
}
