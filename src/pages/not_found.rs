use leptos::prelude::*;
use leptos_meta::Title;

/// Any path that is not a page.
#[component]
pub fn NotFound() -> impl IntoView {
    super::set_status(404);
    view! {
        <Title text="No encontrado · frase"/>
        <main class="page narrow">
            <h1>"No encontrado"</h1>
            <p>"Aquí no hay nada. "<a href="/">"Volver al inicio"</a></p>
        </main>
    }
}
