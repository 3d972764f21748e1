use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::error_message;
use crate::domain::DisplayName;
use crate::error::AppError;
use crate::i18n::{t, use_locale};
use crate::model::Me;
use crate::server_fns::SetName;

/// The caller's display name, shown with their words; works with and without JavaScript (with
/// it, the name is prechecked, then sent with [`fetch::call`](crate::fetch::call)).
#[component]
pub fn NameForm(me: Me, csrf: String) -> impl IntoView {
    let name = RwSignal::new(me.name.clone());
    let input = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let locale = use_locale();
    let lens = use_context::<crate::lens::Lens>();

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some(element) = input.get_untracked() else {
            return;
        };
        let typed = element.value();
        match DisplayName::precheck(&typed) {
            Err(invalid) => error.set(Some(error_message(
                locale,
                &AppError::from(invalid).code,
                0,
            ))),
            Ok(()) => {
                error.set(None);
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(async move {
                    let fields = [("name", typed.as_str())];
                    match crate::fetch::call::<Me>(SetName::PATH, &fields, lens).await {
                        Ok(me) => name.set(me.name),
                        Err(refused) => error.set(Some(error_message(locale, &refused.code, 0))),
                    }
                });
                #[cfg(not(feature = "hydrate"))]
                let _ = lens;
            }
        }
    };

    view! {
        <form id="name-form" class="name-form" method="post" action=SetName::PATH on:submit=on_submit>
            <input type="hidden" name="csrf" value=csrf/>
            <label for="name-input">{t("name-label")}</label>
            <div class="row">
                <input id="name-input" name="name" type="text" required maxlength=crate::domain::DISPLAY_NAME_MAX_CHARS.to_string()
                    autocomplete="nickname" value=me.name node_ref=input/>
                <button type="submit">{t("name-submit")}</button>
            </div>
            <p class="hint">{t("name-shown-as")}" "<strong id="my-name">{move || name.get()}</strong></p>
            <p class="error" role="alert">{move || error.get()}</p>
        </form>
    }
}
