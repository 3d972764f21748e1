//! Spanish and English (issue 12, acceptance 6): with `Accept-Language: en` the pages and the
//! API's errors are English; with `es`, or nothing, Spanish; the page's switch sets a session
//! cookie that wins over `Accept-Language`.

mod common;

use common::{TestApp, add_word, csrf_token, free_settings, user};
use frase::domain::{DisplayName, NameLanguage, UserId};
use serde_json::{Value, json};

async fn page(client: &reqwest::Client, app: &TestApp, path: &str, lang: Option<&str>) -> String {
    let mut request = client.get(app.url(path));
    if let Some(lang) = lang {
        request = request.header("accept-language", lang);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    let vary = response
        .headers()
        .get_all("vary")
        .iter()
        .map(|value| value.to_str().unwrap().to_lowercase())
        .collect::<Vec<_>>()
        .join(", ");
    assert!(vary.contains("accept-language"), "Vary: {vary}");
    response.text().await.unwrap()
}

fn assert_spanish(html: &str, what: &str) {
    assert!(
        html.contains(r#"<html lang="es""#),
        "{what}: <html lang=\"es\">"
    );
    assert!(!html.contains(r#"<html lang="en""#), "{what}");
}

fn assert_english(html: &str, what: &str) {
    assert!(
        html.contains(r#"<html lang="en""#),
        "{what}: <html lang=\"en\">"
    );
}

#[tokio::test]
async fn the_lobby_speaks_the_language_the_browser_asks_for() {
    let app = TestApp::spawn().await;
    let client = user();
    let english = page(&client, &app, "/", Some("en-GB,en;q=0.9")).await;
    assert_english(&english, "lobby, en");
    assert!(english.contains("Join the main room"), "lobby, en");
    assert!(english.contains("Create room"), "lobby, en");
    assert!(
        !english.contains("Entrar en la sala principal"),
        "lobby, en"
    );

    for lang in [
        Some("es"),
        None,
        Some("fr, de;q=0.5"),
        Some("es-AR, en;q=0.8"),
    ] {
        let spanish = page(&client, &app, "/", lang).await;
        assert_spanish(&spanish, &format!("lobby, {lang:?}"));
        assert!(spanish.contains("Entrar en la sala principal"), "{lang:?}");
        assert!(spanish.contains("Crear sala"), "{lang:?}");
        assert!(!spanish.contains("Join the main room"), "{lang:?}");
    }
    // The switch is on every page, with both languages.
    assert!(english.contains(r#"id="language-form""#));
    assert!(english.contains("Español") && english.contains("English"));
}

#[tokio::test]
async fn the_room_and_its_projector_view_speak_it_too() {
    let app = TestApp::spawn().await;
    app.create_room("aula", free_settings()).await;
    let client = user();

    let english = page(&client, &app, "/r/aula", Some("en")).await;
    assert_english(&english, "room, en");
    for text in [
        "Your word",
        "The story",
        "Your name",
        "Join from your phone",
        ">Add<",
    ] {
        assert!(english.contains(text), "room, en: {text}");
    }
    assert!(!english.contains("Tu palabra"), "room, en");
    // The stable hooks stay whatever the language.
    for hook in [
        r#"id="sentence""#,
        r#"id="word-form""#,
        r#"id="story""#,
        r#"id="online""#,
        r#"id="join-qr""#,
    ] {
        assert!(english.contains(hook), "{hook}");
    }

    for lang in [Some("es"), None] {
        let spanish = page(&client, &app, "/r/aula", lang).await;
        assert_spanish(&spanish, &format!("room, {lang:?}"));
        for text in ["Tu palabra", "La historia", "Tu nombre", ">Añadir<"] {
            assert!(spanish.contains(text), "room, {lang:?}: {text}");
        }
        assert!(!spanish.contains("Your word"), "room, {lang:?}");
    }

    let projector = page(&client, &app, "/r/aula/present", Some("en-US")).await;
    assert_english(&projector, "projector, en");
    assert!(projector.contains("Join from your phone"));
    let projector = page(&client, &app, "/r/aula/present", None).await;
    assert_spanish(&projector, "projector");
    assert!(projector.contains("Únete desde tu móvil"));
}

#[tokio::test]
async fn a_page_error_is_shown_in_the_page_language() {
    let app = TestApp::spawn().await;
    let client = user();
    let english = page(&client, &app, "/?error=bad-room-code", Some("en")).await;
    assert!(
        english.contains("That room code is not valid"),
        "lobby error, en"
    );
    let spanish = page(&client, &app, "/?error=bad-room-code", None).await;
    assert!(
        spanish.contains("Ese código de sala no es válido"),
        "lobby error, es"
    );

    let missing = client
        .get(app.url("/r/no-such-room"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let html = missing.text().await.unwrap();
    assert!(html.contains("This room does not exist"), "{html}");
}

async fn problem(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn api_errors_are_in_the_language_asked_for() {
    let app = TestApp::spawn().await;
    app.create_room("aula", free_settings()).await;
    let client = user();
    let add = |lang: Option<&'static str>| {
        let mut request = client
            .post(app.url("/api/rooms/aula/words"))
            .json(&json!({ "text": "dos palabras" }));
        if let Some(lang) = lang {
            request = request.header("accept-language", lang);
        }
        request.send()
    };

    let english = problem(add(Some("en")).await.unwrap(), 422).await;
    assert_eq!(english["type"], "urn:frase:problem:word-multiple-tokens");
    assert_eq!(english["code"], "word-multiple-tokens");
    assert_eq!(english["title"], "Invalid word");
    assert_eq!(
        english["detail"],
        "A word must be a single token without spaces."
    );
    for lang in [Some("es"), None, Some("de")] {
        let spanish = problem(add(lang).await.unwrap(), 422).await;
        assert_eq!(spanish["type"], english["type"], "the type does not change");
        assert_eq!(spanish["title"], "Palabra no válida", "{lang:?}");
        assert_eq!(
            spanish["detail"], "Una palabra debe ser un solo término, sin espacios.",
            "{lang:?}"
        );
    }

    // An error with arguments, from the rooms service.
    let unknown = |lang: &'static str| {
        client
            .get(app.url("/api/rooms/nadie"))
            .header("accept-language", lang)
            .send()
    };
    let english = problem(unknown("en").await.unwrap(), 404).await;
    assert_eq!(english["type"], "urn:frase:problem:room-not-found");
    assert_eq!(english["detail"], "There is no room `nadie`.");
    assert_eq!(english["title"], "Not found");
    let spanish = problem(unknown("es").await.unwrap(), 404).await;
    assert_eq!(spanish["type"], "urn:frase:problem:room-not-found");
    assert_eq!(spanish["detail"], "No hay ninguna sala «nadie».");
    assert_eq!(spanish["title"], "No encontrado");

    // A problem made from a bare status by the router (an unknown API path).
    let english = problem(
        client
            .get(app.url("/api/nothing/here"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(english["detail"], "Nothing is at /api/nothing/here.");
    let spanish = problem(
        client
            .get(app.url("/api/nothing/here"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(spanish["detail"], "No hay nada en /api/nothing/here.");

    // A server function called by the page's client answers in its language too.
    let refused = client
        .post(app.url("/api/fn/add_word"))
        .header("accept", "application/json")
        .header("accept-language", "en")
        .form(&[("room", "aula"), ("text", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "word-empty");
    assert_eq!(body["detail"], "The word is empty.");
}

/// What a browser sends when a button of the language switch is pressed (JavaScript or not).
async fn switch_language(
    client: &reqwest::Client,
    app: &TestApp,
    from: &str,
    lang: &str,
    csrf: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/fn/set_language"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(from))
        .form(&[("csrf", csrf), ("lang", lang)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_switch_remembers_the_choice_for_the_session() {
    let app = TestApp::spawn().await;
    app.create_room("aula", free_settings()).await;
    let client = user();
    let room = page(&client, &app, "/r/aula", Some("en")).await;
    assert_english(&room, "before the switch");
    let form = &room[room.find(r#"id="language-form""#).expect("the switch")..];
    assert!(form.contains(r#"action="/api/fn/set_language""#), "{form}");
    let csrf = csrf_token(form);

    let switched = switch_language(&client, &app, "/r/aula", "es", &csrf).await;
    assert_eq!(switched.status(), 303, "back to the page");
    assert_eq!(switched.headers()["location"], "/r/aula");
    let cookie = switched
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|value| value.starts_with("frase_lang="))
        .expect("the language cookie");
    assert!(cookie.starts_with("frase_lang=es"), "{cookie}");
    for attribute in ["Path=/", "SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.to_lowercase().contains("max-age") && !cookie.to_lowercase().contains("expires"),
        "a session cookie: {cookie}"
    );

    // The browser still says it prefers English; the choice wins, on every page and the API.
    let room = page(&client, &app, "/r/aula", Some("en")).await;
    assert_spanish(&room, "after switching to Spanish");
    assert!(room.contains("Tu palabra"));
    let lobby = page(&client, &app, "/", Some("en")).await;
    assert_spanish(&lobby, "the lobby after switching to Spanish");
    let error = problem(
        client
            .get(app.url("/api/rooms/nadie"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    assert_eq!(error["detail"], "No hay ninguna sala «nadie».");

    // And back to English, against a Spanish browser.
    let switched = switch_language(&client, &app, "/", "en", &csrf).await;
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()["location"], "/");
    let lobby = page(&client, &app, "/", Some("es")).await;
    assert_english(&lobby, "after switching to English");
    assert!(lobby.contains("Join the main room"));
    let room = page(&client, &app, "/r/aula", None).await;
    assert_english(&room, "the room after switching to English");
}

fn sets_language(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|value| value.to_str().unwrap().starts_with("frase_lang="))
}

#[tokio::test]
async fn the_switch_refuses_what_it_does_not_know() {
    let app = TestApp::spawn().await;
    let client = user();
    let lobby = page(&client, &app, "/", None).await;
    let csrf = csrf_token(&lobby);
    // Without its token a form post is sent back, changing nothing.
    let forged = switch_language(&client, &app, "/", "en", "0".repeat(32).as_str()).await;
    assert_eq!(forged.status(), 303);
    assert!(!sets_language(&forged));
    assert!(
        forged.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=bad-csrf-token")
    );
    // An unknown language: back with an error, no cookie.
    let unknown = switch_language(&client, &app, "/", "fr", &csrf).await;
    assert_eq!(unknown.status(), 303);
    assert!(!sets_language(&unknown));
    assert_spanish(&page(&client, &app, "/", None).await, "nothing changed");
}

async fn me(client: &reqwest::Client, app: &TestApp, lang: Option<&str>) -> Value {
    let mut request = client.get(app.url("/api/me"));
    if let Some(lang) = lang {
        request = request.header("accept-language", lang);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// Whether `me`'s generated name is an English one: its id says so, and the name is the one
/// generated for that id in that language (`Swift Owl 42`, not `Búho Veloz 42`).
fn is_english_name(me: &Value) -> bool {
    let id = UserId::parse(me["id"].as_str().unwrap()).unwrap();
    let seed = id.as_str().as_bytes();
    let english = DisplayName::generated(seed, NameLanguage::English);
    let spanish = DisplayName::generated(seed, NameLanguage::Spanish);
    assert_ne!(english, spanish);
    match id.name_language() {
        NameLanguage::English => assert_eq!(me["name"], english.as_str(), "{me}"),
        NameLanguage::Spanish => assert_eq!(me["name"], spanish.as_str(), "{me}"),
    }
    id.name_language() == NameLanguage::English
}

#[tokio::test]
async fn a_new_players_name_is_generated_in_the_language_of_the_page_that_first_saw_them() {
    let app = TestApp::spawn().await;
    for (lang, english) in [
        (Some("en-GB,en;q=0.9"), true),
        (Some("es-ES,es;q=0.9"), false),
        (None, false),
    ] {
        for _ in 0..12 {
            let client = user();
            let first = me(&client, &app, lang).await;
            assert_eq!(is_english_name(&first), english, "{lang:?}: {first}");
            // The name is the player's, not the reader's: it stays in another language.
            let other = if english { "es" } else { "en" };
            assert_eq!(me(&client, &app, Some(other)).await, first, "{lang:?}");
        }
    }

    // The language switch's cookie counts as the page's language.
    let client = user();
    let switched = client
        .get(app.url("/api/me"))
        .header("accept-language", "es")
        .header("cookie", "frase_lang=en")
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(is_english_name(&switched), "{switched}");

    // Everyone sees an English player by the English name, the Spanish readers too.
    let ana = user();
    let her = me(&ana, &app, Some("en")).await;
    assert_eq!(add_word(&ana, &app, "main", "hello").await.status(), 201);
    let words: Value = user()
        .get(app.url("/api/rooms/main/words"))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = words["words"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["author"],
        json!({ "id": her["id"], "name": her["name"] })
    );
}
