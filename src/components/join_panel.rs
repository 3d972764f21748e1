use leptos::prelude::*;

use crate::i18n::{t, tr, use_locale};
use crate::model::JoinLink;

/// How to join: the link, and its QR code (an SVG the server generated from that link); on the
/// projector (`code`) the room's code too, large.
#[component]
pub fn JoinPanel(
    join: JoinLink,
    #[prop(optional)] large: bool,
    #[prop(optional)] code: Option<String>,
) -> impl IntoView {
    let url = join.url.clone();
    view! {
        <section class="join-panel" class:large=large aria-labelledby="join-heading">
            <h2 id="join-heading">{t("join-heading")}</h2>
            {code.map(|code| view! {
                <p class="join-code">
                    <span class="label">{t("room-code")}</span>
                    <strong id="join-code">{code}</strong>
                </p>
            })}
            <div
                id="join-qr"
                class="qr"
                role="img"
                aria-label=tr(use_locale(), "join-qr-label", &[("url", url)])
                inner_html=join.qr_svg
            ></div>
            <p class="join-url">
                <a id="join-url" href=join.url.clone()>{join.url.clone()}</a>
            </p>
        </section>
    }
}
