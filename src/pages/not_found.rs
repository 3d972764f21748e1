use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    super::set_status(404);
    view! {
        <Title text=format!("{} · frase", t("not-found-heading"))/>
        <main class="page narrow">
            <h1>{t("not-found-heading")}</h1>
            <p>{t("not-found-text")}" "<a href="/">{t("back-home")}</a></p>
        </main>
    }
}
