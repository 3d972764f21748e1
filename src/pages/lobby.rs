use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::error_message;
use crate::domain::ROOM_TITLE_MAX_CHARS;
use crate::error::codes::BAD_ROOM_CODE;
use crate::i18n::{t, use_locale};
use crate::server_fns::{CreateRoom, form_token};

/// `/`: join the main room, create a room, or join one by its code. Plain forms, with no island:
/// the page needs no client (creating a room posts the form, and the server sends the browser on
/// to the new room).
#[component]
pub fn Lobby() -> impl IntoView {
    let query = use_query_map();
    let locale = use_locale();
    // A form posted without JavaScript that failed comes back here with `?error=<code>`: under
    // the join form when the code it sent was refused, under the create form otherwise (its
    // title, or a page left open past its token).
    let returned_error = query.read_untracked().get("error");
    let (join_error, create_error) = match returned_error.as_deref() {
        Some(BAD_ROOM_CODE) => (Some(error_message(locale, BAD_ROOM_CODE, 0)), None),
        Some(code) => (None, Some(error_message(locale, code, 0))),
        None => (None, None),
    };
    let token = Resource::new(|| (), |_| form_token());
    view! {
        <Title text="frase"/>
        <main class="page narrow lobby">
            <h1 class="brand">"frase"</h1>
            <p class="lead">{t("lobby-lead")}</p>
            <section class="how-to" aria-labelledby="how-to-heading">
                <h2 id="how-to-heading">{t("lobby-how-heading")}</h2>
                <ol>
                    <li>{t("lobby-how-1")}</li>
                    <li>{t("lobby-how-2")}</li>
                    <li>{t("lobby-how-3")}</li>
                </ol>
            </section>
            <a id="join-main" class="button primary" href="/r/main">{t("lobby-join-main")}</a>
            <form id="create-form" method="post" action=CreateRoom::PATH class="create">
                <Suspense>
                    {move || Suspend::new(async move {
                        let csrf = token.await.unwrap_or_default();
                        view! { <input type="hidden" name="csrf" value=csrf/> }
                    })}
                </Suspense>
                <label for="room-title">{t("lobby-create-label")}</label>
                <div class="row">
                    <input id="room-title" name="title" type="text" maxlength=ROOM_TITLE_MAX_CHARS.to_string() autocomplete="off"
                        placeholder=t("lobby-create-placeholder")/>
                    <button type="submit">{t("lobby-create-submit")}</button>
                </div>
                <p id="create-error" class="error" role="alert">{create_error}</p>
            </form>
            <form id="join-form" method="get" action="/join" class="join">
                <label for="room-code">{t("lobby-code-label")}</label>
                <div class="row">
                    <input id="room-code" name="code" type="text" required autocomplete="off"
                        autocapitalize="none" spellcheck="false" placeholder=t("lobby-code-placeholder")/>
                    <button type="submit">{t("lobby-code-submit")}</button>
                </div>
                <p id="join-error" class="error" role="alert">{join_error}</p>
            </form>
        </main>
    }
}
