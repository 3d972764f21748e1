//! The language switch at the foot of every page; it posts to `server_fns::set_language`.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::i18n::{Locale, t, use_locale};
use crate::server_fns::{SetLanguage, form_token};

/// "Español | English": a plain form, with or without JavaScript. Its post sets the
/// `frase_lang` cookie and comes back to the page (a 303), which reloads in that language.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let current = use_locale();
    let token = Resource::new(|| (), |_| form_token());
    let buttons = Locale::ALL
        .into_iter()
        .map(|locale| {
            view! {
                <button type="submit" name="lang" value=locale.tag() lang=locale.tag()
                    aria-pressed=(locale == current).to_string()>
                    {t(&format!("language-{}", locale.tag()))}
                </button>
            }
        })
        .collect_view();
    view! {
        <footer class="site-footer">
            <form id="language-form" class="language-switch" method="post"
                action=SetLanguage::PATH aria-label=t("language-switch")>
                <Suspense>
                    {move || Suspend::new(async move {
                        let csrf = token.await.unwrap_or_default();
                        view! { <input type="hidden" name="csrf" value=csrf/> }
                    })}
                </Suspense>
                {buttons}
            </form>
        </footer>
    }
}
