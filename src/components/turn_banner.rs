use leptos::prelude::*;

use crate::i18n::{tr, use_locale};
use crate::live_state::LiveRoom;
use crate::model::Mode;

/// In `turns` mode, on every screen: whose turn it is and the time they have left. The server
/// owns the clock (it sends the deadline, and ends the turn when it passes); this only counts
/// down to it.
#[component]
pub fn TurnBanner(live: LiveRoom, me: String) -> impl IntoView {
    let now = RwSignal::new(clock::now_ms());
    #[cfg(feature = "hydrate")]
    if let Ok(ticking) = set_interval_with_handle(
        move || now.set(clock::now_ms()),
        std::time::Duration::from_millis(250),
    ) {
        on_cleanup(move || ticking.clear());
    }
    let turns = move || live.settings.with(|settings| settings.mode == Mode::Turns);
    let player_id = move || {
        live.turn
            .with(|turn| turn.as_ref().map(|turn| turn.user.id.clone()))
            .unwrap_or_default()
    };
    let seconds_left = move || {
        let deadline = live.turn.with(|turn| {
            turn.as_ref()
                .and_then(|turn| clock::parse_ms(&turn.deadline))
        })?;
        Some(((deadline - now.get()).max(0) + 999) / 1000)
    };
    let is_me = {
        let me = me.clone();
        move |id: &str| id == me
    };
    let locale = use_locale();
    let text = move |key: &str| tr(locale, key, &[]);
    let player = move || match live.turn.get() {
        None => view! { {text("turn-waiting")} }.into_any(),
        Some(turn) if is_me(&turn.user.id) => {
            view! { <strong>{text("turn-yours")}</strong>" "{text("turn-add-word")} }.into_any()
        }
        Some(turn) => view! { {text("turn-of")}" "<strong>{turn.user.name}</strong> }.into_any(),
    };
    view! {
        <section id="turn" class="turn" class:hidden=move || !turns() data-user=player_id
            class:mine=move || live.turn.with(|turn| turn.as_ref().is_some_and(|t| t.user.id == me))>
            <p id="turn-player" role="status">{player}</p>
            <p class="turn-clock" class:hidden=move || seconds_left().is_none()>
                <span id="turn-seconds" role="timer">{move || seconds_left().unwrap_or(0)}</span>
                " s"
            </p>
        </section>
    }
}

/// The time on this side: the browser's clock in the client, the system's on the server.
mod clock {
    #[cfg(feature = "hydrate")]
    pub fn now_ms() -> i64 {
        js_sys::Date::now() as i64
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as i64)
    }

    /// An RFC 3339 time in milliseconds since the Unix epoch.
    #[cfg(feature = "hydrate")]
    pub fn parse_ms(rfc3339: &str) -> Option<i64> {
        let ms = js_sys::Date::parse(rfc3339);
        ms.is_finite().then_some(ms as i64)
    }

    #[cfg(all(feature = "ssr", not(feature = "hydrate")))]
    pub fn parse_ms(rfc3339: &str) -> Option<i64> {
        let time =
            time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
                .ok()?;
        i64::try_from(time.unix_timestamp_nanos() / 1_000_000).ok()
    }

    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    pub fn parse_ms(_rfc3339: &str) -> Option<i64> {
        None
    }
}
