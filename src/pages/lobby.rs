use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/`: join the main room, or a room by its code.
#[component]
pub fn Lobby() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query.read().get("error").map(|code| match code.as_str() {
            "bad-room-code" => {
                "Ese código de sala no es válido: usa letras minúsculas, números y guiones."
            }
            _ => "Algo salió mal.",
        })
    };
    view! {
        <Title text="frase"/>
        <main class="page narrow lobby">
            <h1 class="brand">"frase"</h1>
            <p class="lead">
                "Una frase entre todos: cada persona añade una palabra y todas las pantallas la ven al instante."
            </p>
            <a id="join-main" class="button primary" href="/r/main">"Entrar en la sala principal"</a>
            <form id="join-form" method="get" action="/join" class="join">
                <label for="room-code">"¿Tienes un código de sala?"</label>
                <div class="row">
                    <input id="room-code" name="code" type="text" required autocomplete="off"
                        autocapitalize="none" spellcheck="false" placeholder="p. ej. clase-3b"/>
                    <button type="submit">"Entrar"</button>
                </div>
                <p class="error" role="alert">{error}</p>
            </form>
        </main>
    }
}
