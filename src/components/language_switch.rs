//! The language switch at the foot of every page, and the server function it posts to.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::i18n::{Locale, t, use_locale};
use crate::server_fns::form_token;

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

/// Chooses the language of the caller's pages (and API errors) for the rest of the browser
/// session: `lang` is `es` or `en`.
#[server(prefix = "/api/fn", endpoint = "set_language")]
pub async fn set_language(lang: String) -> Result<(), AppError> {
    use crate::server::http::locale::language_cookie;
    use crate::server::http::security::Transport;
    use crate::server::state::AppState;

    let locale = Locale::parse(&lang).ok_or_else(|| {
        AppError::unprocessable(
            "bad-language",
            crate::i18n::Message::new("problem-bad-language").arg("lang", &lang),
        )
    })?;
    let secure = use_context::<AppState>().is_some_and(|state| state.transport == Transport::Https);
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(cookie) = http::HeaderValue::from_str(&language_cookie(locale, secure))
    {
        response.append_header(http::header::SET_COOKIE, cookie);
    }
    Ok(())
}
