use leptos::prelude::*;

use crate::i18n::{tr, use_locale};
use crate::live_state::LiveRoom;

/// How many players have the room open, with its plural: "1 persona conectada", "3 personas
/// conectadas". A projector is not counted (it follows the room as a viewer).
#[component]
pub fn OnlineCount(live: LiveRoom) -> impl IntoView {
    let locale = use_locale();
    view! {
        <span class="online">
            <span id="online">{move || live.online.get()}</span>
            " "
            {move || tr(locale, "online-people", &[("count", live.online.get().to_string())])}
        </span>
    }
}
