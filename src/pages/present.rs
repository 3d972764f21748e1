use super::LiveTitle;
use leptos::prelude::*;

use crate::i18n::t;

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
    with_room_from_url(|data| view! { <Present data/> })
}

#[component]
fn Present(data: RoomData) -> impl IntoView {
    let live = LiveRoom::new(&data);
    let lens = Lens::new();
    provide_context(lens);
    #[cfg(feature = "hydrate")]
    crate::live_client::follow(live, lens, crate::live_client::Audience::Viewer);
    let title = live.title;
    let suffix = t("present-title-suffix");
    let last_sentence = move || {
        live.story
            .with(|story| story.last().map(|sentence| sentence.text.clone()))
    };
    view! {
        <LiveTitle title suffix format=|title, suffix| format!("{title} · {suffix} · frase")/>
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
