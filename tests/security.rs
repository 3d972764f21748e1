//! Secure by default: host-only actions, rate limits, stream limits, slow clients, HTTPS and
//! session keys, against the real server.

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, free_settings, get_json, html, user, version_of};
use frase::server::config::{Limits, TlsSource};
use frase::server::limits::{Rate, RateLimit};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Acceptance 4: every host-only route refuses anyone else with 403 and changes nothing; the
/// host is served.
#[tokio::test]
async fn host_only_routes_refuse_everyone_but_the_host() {
    let app = TestApp::spawn().await;
    let (host, guest) = (user(), user());
    let room = app
        .post_room(&host, json!({ "settings": { "no_double_turn": false } }))
        .await;
    let slug = room["slug"].as_str().unwrap().to_owned();
    let add = |client: &reqwest::Client, text: &str| {
        client
            .post(app.url(&format!("/api/rooms/{slug}/words")))
            .json(&json!({ "text": text }))
            .send()
    };
    // Words by someone else, so that the guest is neither host nor author.
    let author = user();
    let first: Value = add(&author, "uno").await.unwrap().json().await.unwrap();
    let second: Value = add(&author, "dos").await.unwrap().json().await.unwrap();
    let room_url = format!("/api/rooms/{slug}");
    let word = |value: &Value| format!("/api/rooms/{slug}/words/{}", value["id"]);
    // (method, path, body) of each host-only action, in an order the host can carry out.
    let actions: Vec<(&str, String, Option<Value>)> = vec![
        (
            "PATCH",
            room_url.clone(),
            Some(json!({ "title": "Renamed" })),
        ),
        (
            "PUT",
            room_url.clone(),
            Some(json!({ "title": "Replaced", "settings": { "no_double_turn": false } })),
        ),
        ("PATCH", word(&first), Some(json!({ "text": "one" }))),
        ("DELETE", word(&second), None),
        (
            "POST",
            format!("/api/rooms/{slug}/sentence/end"),
            Some(json!({})),
        ),
        ("DELETE", room_url.clone(), None),
    ];
    let send = |client: &reqwest::Client, method: &str, path: &str, body: &Option<Value>| {
        let mut request = client.request(method.parse().unwrap(), app.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send()
    };
    for (method, path, body) in &actions {
        let before = version_of(&host, &app, &slug).await;
        let refused = send(&guest, method, path, body).await.unwrap();
        assert_eq!(refused.status(), 403, "{method} {path} as a guest");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        assert_eq!(
            version_of(&host, &app, &slug).await,
            before,
            "{method} {path} refused changes nothing"
        );
        let served = send(&host, method, path, body).await.unwrap();
        assert!(
            served.status().is_success(),
            "{method} {path} as the host: {}",
            served.status()
        );
    }
    assert_eq!(
        host.get(app.url(&room_url)).send().await.unwrap().status(),
        404,
        "the host deleted the room"
    );
}

/// Acceptance 4, for the server functions of the host console.
#[tokio::test]
async fn host_only_server_functions_refuse_everyone_but_the_host() {
    let app = TestApp::spawn().await;
    let (host, guest, author) = (user(), user(), user());
    let room = app.post_room(&host, json!({})).await;
    let slug = room["slug"].as_str().unwrap().to_owned();
    let word: Value = author
        .post(app.url(&format!("/api/rooms/{slug}/words")))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = word["id"].to_string();
    let call = |client: &reqwest::Client, name: &str, form: Vec<(&str, &str)>| {
        client
            .post(app.url(&format!("/api/fn/{name}")))
            .header("accept", "application/json")
            .form(&form)
            .send()
    };
    let actions: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "configure_room",
            vec![
                ("room", &slug),
                ("title", "Nueva"),
                ("max_word_length", "20"),
                ("max_sentence_words", "30"),
                ("no_double_turn", "on"),
            ],
        ),
        ("lock_room", vec![("room", &slug), ("locked", "true")]),
        ("lock_room", vec![("room", &slug), ("locked", "false")]),
        ("remove_word", vec![("room", &slug), ("id", &id)]),
        ("end_sentence", vec![("room", &slug)]),
        ("delete_room", vec![("room", &slug)]),
    ];
    // A second word, so that a sentence is left to end once the first is removed.
    let second = guest
        .post(app.url(&format!("/api/rooms/{slug}/words")))
        .json(&json!({ "text": "otra" }))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 201);
    for (name, form) in actions {
        let before = version_of(&host, &app, &slug).await;
        let refused = call(&guest, name, form.clone()).await.unwrap();
        assert_eq!(refused.status(), 403, "{name} as a guest");
        let error: Value = refused.json().await.unwrap();
        // `not-host`, or for a word `not-allowed` (neither its author nor the host).
        assert!(
            error["code"] == "not-host" || error["code"] == "not-allowed",
            "{name}: {error}"
        );
        assert_eq!(
            version_of(&host, &app, &slug).await,
            before,
            "{name} changed nothing"
        );
        let served = call(&host, name, form).await.unwrap();
        assert!(
            served.status().is_success(),
            "{name} as the host: {}",
            served.status()
        );
    }
    let gone = host
        .get(app.url(&format!("/api/rooms/{slug}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
}

/// Acceptance 6: 200 rapid posts from one user: the excess get 429 with `Retry-After`, and
/// meanwhile other users' posts succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rapid_posts_from_one_user_are_limited_and_others_go_on() {
    let app = TestApp::spawn_with(|settings| settings.limits = Limits::default()).await;
    app.create_room("clase", free_settings()).await;
    let url = app.url("/api/rooms/clase/words");
    let flooder = user();
    // A session first, so that the 200 posts are one user's.
    flooder.get(app.url("/api/me")).send().await.unwrap();
    // The flooder's 200 posts and, at the same time, five other users' posts.
    let flood = futures::future::join_all((0..200).map(|n| {
        let (client, url) = (flooder.clone(), url.clone());
        async move {
            client
                .post(url)
                .json(&json!({ "text": format!("w{n}") }))
                .send()
                .await
                .unwrap()
        }
    }));
    let others = futures::future::join_all((0..5).map(|n| {
        let url = url.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20 * n)).await;
            user()
                .post(url)
                .json(&json!({ "text": format!("otro{n}") }))
                .send()
                .await
                .unwrap()
                .status()
        }
    }));
    let (flood, others) = tokio::join!(flood, others);

    let accepted = flood.iter().filter(|r| r.status() == 201).count();
    let limited: Vec<_> = flood.iter().filter(|r| r.status() == 429).collect();
    assert_eq!(
        accepted + limited.len(),
        200,
        "every post is accepted or limited"
    );
    // The default, 30 a minute, allows a burst of 30 (a little more if the clock moved on).
    assert!(
        (30..=32).contains(&accepted),
        "{accepted} of the flood accepted"
    );
    for response in &limited {
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert_eq!(others, vec![reqwest::StatusCode::CREATED; 5]);

    // The server function is held to the same limit.
    let through_fn = flooder
        .post(app.url("/api/fn/add_word"))
        .header("accept", "application/json")
        .form(&[("room", "clase"), ("text", "más")])
        .send()
        .await
        .unwrap();
    assert_eq!(through_fn.status(), 429);
    assert!(through_fn.headers().contains_key("retry-after"));
    let error: Value = through_fn.json().await.unwrap();
    assert_eq!(error["code"], "rate-limited");
    assert_eq!(
        version_of(&flooder, &app, "clase").await,
        (accepted + 5) as i64,
        "limited posts stored nothing"
    );
}

/// One address's writes have a generous limit of their own, and `off` lifts both.
#[tokio::test]
async fn an_address_is_limited_too_unless_limits_are_off() {
    let app = TestApp::spawn_with(|settings| {
        // 2 words an hour per user, so 100 writes an hour per address: no refill during the
        // test.
        settings.limits = Limits::new(
            RateLimit::Every(Rate {
                count: 2,
                period: Duration::from_secs(3600),
            }),
            0,
            Duration::from_secs(10),
        );
    })
    .await;
    // Each write by another user (with a session cookie, so not held to the cookieless
    // budget), so only the address limit applies.
    let renames = async |app: &TestApp, count: usize| {
        let mut statuses = Vec::new();
        for _ in 0..count {
            let client = user();
            client.get(app.url("/api/me")).send().await.unwrap();
            let response = client
                .patch(app.url("/api/me"))
                .json(&json!({ "name": "Ana" }))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        statuses
    };
    let statuses = renames(&app, 101).await;
    assert!(statuses[..100].iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(statuses[100], 429);

    let unlimited = TestApp::spawn().await;
    assert!(renames(&unlimited, 150).await.iter().all(|s| *s == 200));
}

#[tokio::test]
async fn event_streams_per_address_are_limited() {
    let app = TestApp::spawn_with(|settings| {
        settings.limits = Limits::new(RateLimit::Off, 2, Duration::from_secs(10));
    })
    .await;
    let url = app.url("/api/rooms/main/events");
    let client = user();
    let first = client.get(&url).send().await.unwrap();
    let second = client.get(&url).send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = client.get(&url).send().await.unwrap();
    assert_eq!(third.status(), 429);
    assert!(third.headers().contains_key("retry-after"));
    drop(first);
    common::eventually(
        Duration::from_secs(5),
        "a closed stream frees its place",
        || {
            let (client, url) = (client.clone(), url.clone());
            async move { client.get(&url).send().await.unwrap().status() == 200 }
        },
    )
    .await;
}

/// Acceptance 7: 50 connections sending their headers a byte a second do not stop a normal
/// client from being served within a second, and are closed once the header timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_do_not_hold_the_server() {
    let header_timeout = Duration::from_secs(2);
    let app = TestApp::spawn_with(|settings| {
        settings.limits = Limits::new(RateLimit::Off, 0, header_timeout);
    })
    .await;
    let request = format!("GET / HTTP/1.1\r\nHost: {}\r\n\r\n", app.addr);
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        let bytes = request.clone().into_bytes();
        slow.push(tokio::spawn(async move {
            let started = Instant::now();
            // One byte a second; the server should hang up before the request is complete.
            for byte in bytes {
                if stream.write_all(&[byte]).await.is_err() {
                    return started.elapsed();
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                // Anything but "nothing yet" (end of stream, an error, or an answer to a
                // request it never finished) means the server let go.
                let mut probe = [0u8; 64];
                if tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe))
                    .await
                    .is_ok()
                {
                    return started.elapsed();
                }
            }
            panic!("a slow client sent its whole request");
        }));
    }
    // Silent connections (no byte at all) are held to the same limit.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    for _ in 0..3 {
        let started = Instant::now();
        let response = reqwest::Client::new()
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a normal request took {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for task in slow {
        let closed_after = task.await.unwrap();
        // Dropped by the header timeout: not before it, and not long after.
        assert!(
            closed_after >= header_timeout - Duration::from_millis(200)
                && closed_after < header_timeout + Duration::from_secs(3),
            "a slow client was held {closed_after:?}"
        );
    }
    let mut byte = [0u8; 1];
    let silent_read = tokio::time::timeout(Duration::from_secs(5), silent.read(&mut byte)).await;
    assert!(
        matches!(silent_read, Ok(Ok(0) | Err(_))),
        "a silent connection is closed: {silent_read:?}"
    );
}

/// The development certificate the server generated in its data dir, as a trust root.
fn generated_certificate(app: &TestApp) -> reqwest::Certificate {
    let pem = std::fs::read(app.data_dir.path().join("tls/self-signed.crt")).unwrap();
    reqwest::Certificate::from_pem(&pem).unwrap()
}

fn https_client(app: &TestApp) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(generated_certificate(app))
        .https_only(true)
}

/// A TLS ClientHello that offers nothing newer than `version` (0x0301 = TLS 1.0, 0x0302 =
/// TLS 1.1) and one cipher suite those versions had; no extensions.
fn legacy_client_hello(version: u16) -> Vec<u8> {
    let [major, minor] = version.to_be_bytes();
    let mut body = vec![major, minor];
    body.extend([7u8; 32]); // random
    body.push(0); // no session id
    body.extend([0, 4, 0x00, 0x2f, 0x00, 0x35]); // TLS_RSA_WITH_AES_{128,256}_CBC_SHA
    body.extend([1, 0]); // null compression
    let mut handshake = vec![1]; // ClientHello
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

/// Acceptance 5: `--self-signed` serves HTTPS (HTTP/2 by ALPN) with HSTS and a `Secure`
/// cookie, to a client that trusts the generated certificate; TLS 1.0 and 1.1 are refused.
#[tokio::test]
async fn self_signed_https_with_hsts_and_secure_cookies() {
    let app = TestApp::spawn_with(|settings| settings.tls = Some(TlsSource::SelfSigned)).await;
    assert!(app.base.starts_with("https://"));

    let client = https_client(&app).build().unwrap();
    let page = client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.version(), reqwest::Version::HTTP_2, "HTTP/2 over TLS");
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("frase_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let api = client.get(app.url("/api/rooms/main")).send().await.unwrap();
    assert_eq!(api.status(), 200);
    assert!(api.headers().contains_key("strict-transport-security"));

    // TLS 1.2 and 1.3 are served ...
    for version in [
        reqwest::tls::Version::TLS_1_2,
        reqwest::tls::Version::TLS_1_3,
    ] {
        let pinned = https_client(&app)
            .min_tls_version(version)
            .max_tls_version(version)
            .build()
            .unwrap();
        let response = pinned.get(app.url("/healthz")).send().await;
        assert_eq!(
            response.map(|r| r.status().as_u16()).ok(),
            Some(200),
            "{version:?}"
        );
    }
    // ... TLS 1.0 and 1.1 are not: a fatal alert, never a ServerHello.
    for version in [0x0301, 0x0302] {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream
            .write_all(&legacy_client_hello(version))
            .await
            .unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        assert!(!answer.is_empty(), "TLS {version:#06x}: no answer at all");
        assert_eq!(
            answer[0], 0x15,
            "TLS {version:#06x}: an alert record, got {answer:02x?}"
        );
        assert_eq!(answer.get(5), Some(&2), "a fatal alert: {answer:02x?}");
    }

    // Plain HTTP to the HTTPS port gets nothing useful.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/", app.addr))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}

/// The session key changes (a new `FRASE_SECRET_KEY`): an old cookie is simply a new anonymous
/// session, never an error.
#[tokio::test]
async fn a_new_secret_key_starts_new_sessions_cleanly() {
    let old_key = "k".repeat(40);
    let first = TestApp::spawn_with(|settings| settings.secret_key = Some(old_key.clone())).await;
    let response = reqwest::Client::new()
        .get(first.url("/api/me"))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me: Value = response.json().await.unwrap();
    // The same key: the same user.
    let again: Value = reqwest::Client::new()
        .get(first.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], me["id"]);

    let rotated = TestApp::spawn_with(|settings| settings.secret_key = Some("n".repeat(40))).await;
    let response = reqwest::Client::new()
        .get(rotated.url("/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().contains_key("set-cookie"),
        "a new session is issued"
    );
    let new_me: Value = response.json().await.unwrap();
    assert_ne!(new_me["id"], me["id"]);
}

/// A form posted without JavaScript needs the caller's CSRF token from the page; without it,
/// or with someone else's, it goes back to the page with a message and stores nothing.
#[tokio::test]
async fn form_posts_need_the_callers_csrf_token() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (user(), user());
    let ana_token = common::page_csrf_token(&ana, &app, "main").await;
    let bea_token = common::page_csrf_token(&bea, &app, "main").await;
    assert_ne!(ana_token, bea_token);
    for token in [None, Some(bea_token.as_str()), Some("x")] {
        let refused = common::submit_word_form(&ana, &app, "main", "hola", token).await;
        assert_eq!(refused.status(), 303, "token {token:?}");
        assert_eq!(
            refused.headers()["location"],
            "/r/main?error=bad-csrf-token"
        );
    }
    assert_eq!(version_of(&ana, &app, "main").await, 0, "nothing stored");
    let html = common::text_of(&ana, &app.url("/r/main?error=bad-csrf-token")).await;
    assert!(html.contains("La página caducó"), "a readable message");

    let accepted = common::submit_word_form(&ana, &app, "main", "hola", Some(&ana_token)).await;
    assert_eq!(accepted.status(), 303);
    assert_eq!(accepted.headers()["location"], "/r/main");
    assert_eq!(version_of(&ana, &app, "main").await, 1);
}

/// Issue 22: every form the pages render that posts (the lobby, a room as its host sees it with
/// a word of their own, its story and its projector view) needs the caller's token: posted with
/// none, another user's or a made-up one, each goes back to its page with `bad-csrf-token` and
/// changes nothing; with the caller's own, the token is not what stops it.
#[tokio::test]
async fn every_form_the_pages_render_needs_the_callers_csrf_token() {
    let app = TestApp::spawn().await;
    let (ana, bea) = (user(), user());
    let room = app
        .post_room(
            &ana,
            json!({ "title": "Formularios", "settings": { "no_double_turn": false } }),
        )
        .await;
    let slug = room["slug"].as_str().unwrap().to_owned();
    assert_eq!(
        common::add_word(&ana, &app, &slug, "hola").await.status(),
        201
    );
    let pages = [
        "/".to_owned(),
        format!("/r/{slug}"),
        format!("/r/{slug}/story"),
        format!("/r/{slug}/present"),
    ];
    let mut forms = Vec::new();
    for page in &pages {
        let html = common::text_of(&ana, &app.url(page)).await;
        for form in html::post_forms(&html) {
            forms.push((page.clone(), form));
        }
    }
    let mut actions: Vec<&str> = forms.iter().map(|(_, form)| form.action.as_str()).collect();
    actions.sort_unstable();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "/api/fn/add_word",
            "/api/fn/clear_sentence",
            "/api/fn/configure_room",
            "/api/fn/create_room",
            "/api/fn/delete_room",
            "/api/fn/end_sentence",
            "/api/fn/fix_word",
            "/api/fn/lock_room",
            "/api/fn/remove_word",
            "/api/fn/set_language",
            "/api/fn/set_name",
            "/api/fn/start_round",
        ],
        "the forms the pages render"
    );
    let ana_token = common::page_csrf_token(&ana, &app, &slug).await;
    let bea_token = common::page_csrf_token(&bea, &app, &slug).await;
    // What each form would change, if it went through.
    let filled = |form: &html::PostForm, token: Option<&str>| {
        let mut fields: Vec<(String, String)> = form
            .fields
            .iter()
            .filter(|(name, _)| name != "csrf")
            .map(|(name, value)| {
                let value = match name.as_str() {
                    "text" => "colada".to_owned(),
                    "name" | "title" => "Intrusa".to_owned(),
                    _ => value.clone(),
                };
                (name.clone(), value)
            })
            .collect();
        assert!(
            form.fields.iter().any(|(name, _)| name == "csrf"),
            "#{} of {} carries a token",
            form.id,
            form.action
        );
        if let Some(token) = token {
            fields.push(("csrf".to_owned(), token.to_owned()));
        }
        fields
    };
    let submit = |page: &str, form: &html::PostForm, token: Option<&str>| {
        ana.post(app.url(&form.action))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", app.url(page))
            .form(&filled(form, token))
            .send()
    };
    let before = (
        get_json(&ana, &app.url(&format!("/api/rooms/{slug}"))).await,
        get_json(&ana, &app.url("/api/me")).await,
    );
    let rooms_before = room_count(&app).await;
    for (page, form) in &forms {
        for token in [None, Some(bea_token.as_str()), Some("x")] {
            let refused = submit(page, form, token).await.unwrap();
            assert_eq!(
                (
                    refused.status().as_u16(),
                    refused.headers().get("location").cloned()
                ),
                (
                    303,
                    Some(format!("{page}?error=bad-csrf-token").parse().unwrap())
                ),
                "#{} ({}) on {page} with token {token:?}",
                form.id,
                form.action
            );
            assert!(
                !refused.headers().contains_key("set-cookie"),
                "#{} ({}) set a cookie",
                form.id,
                form.action
            );
        }
    }
    let after = (
        get_json(&ana, &app.url(&format!("/api/rooms/{slug}"))).await,
        get_json(&ana, &app.url("/api/me")).await,
    );
    assert_eq!(after, before, "the room and the user are as they were");
    assert_eq!(room_count(&app).await, rooms_before, "no room was made");
    let lobby = common::text_of(&ana, &app.url("/")).await;
    assert!(
        lobby.contains(r#"<html lang="es""#),
        "the language is as it was"
    );

    // With the caller's own token, each goes past the check (the room's delete last).
    forms.sort_by_key(|(_, form)| form.action == "/api/fn/delete_room");
    for (page, form) in &forms {
        let passed = submit(page, form, Some(&ana_token)).await.unwrap();
        let location = passed.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            !location.contains("bad-csrf-token"),
            "#{} ({}) with the caller's token: {location}",
            form.id,
            form.action
        );
    }
    assert_eq!(
        ana.get(app.url(&format!("/api/rooms/{slug}")))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "the delete form went through"
    );
}

/// How many rooms there are.
async fn room_count(app: &TestApp) -> i64 {
    let mut conn = app.app_state.rooms.store().read().await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM rooms")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
}

/// Issue 22: the `Origin` check covers every method that changes state, not only `POST`: a
/// `PUT`, `PATCH` or `DELETE` from another site is refused with 403 and changes nothing; the
/// very same requests from this site are served.
#[tokio::test]
async fn cross_site_puts_patches_and_deletes_are_refused() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let host = user();
    let renamed = host
        .patch(app.url("/api/me"))
        .json(&json!({ "name": "Profe" }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    let room = app.post_room(&host, json!({ "title": "Origen" })).await;
    let slug = room["slug"].as_str().unwrap().to_owned();
    let word: Value = common::add_word(&host, &app, &slug, "hola")
        .await
        .json()
        .await
        .unwrap();
    let id = word["id"].as_i64().unwrap();
    let requests = [
        (
            Method::PUT,
            format!("/api/rooms/{slug}"),
            Some(json!({ "title": "Tomada", "settings": { "locked": true } })),
        ),
        (
            Method::PATCH,
            format!("/api/rooms/{slug}"),
            Some(json!({ "title": "Tomada" })),
        ),
        (
            Method::PATCH,
            format!("/api/rooms/{slug}/words/{id}"),
            Some(json!({ "text": "adiós" })),
        ),
        (
            Method::PATCH,
            "/api/me".to_owned(),
            Some(json!({ "name": "Intruso" })),
        ),
        (
            Method::DELETE,
            format!("/api/rooms/{slug}/words/{id}"),
            None,
        ),
        (Method::DELETE, format!("/api/rooms/{slug}"), None),
    ];
    let send = |method: &Method, path: &str, body: &Option<Value>, origin: &str| {
        let request = host
            .request(method.clone(), app.url(path))
            .header("origin", origin);
        match body {
            Some(body) => request.json(body),
            None => request,
        }
        .send()
    };
    let state = || async {
        (
            get_json(&host, &app.url(&format!("/api/rooms/{slug}"))).await,
            get_json(&host, &app.url(&format!("/api/rooms/{slug}/words/{id}"))).await,
            get_json(&host, &app.url("/api/me")).await,
        )
    };
    let before = state().await;
    let own_origin = app.url("").trim_end_matches('/').to_owned();
    let other_scheme = own_origin.replacen("http://", "https://", 1);
    for origin in ["http://evil.example", "null", other_scheme.as_str()] {
        for (method, path, body) in &requests {
            let refused = send(method, path, body, origin).await.unwrap();
            assert_eq!(refused.status(), 403, "{method} {path} from {origin}");
            let problem: Value = refused.json().await.unwrap();
            assert_eq!(
                problem["type"], "urn:frase:problem:cross-site",
                "{method} {path} from {origin}"
            );
        }
    }
    assert_eq!(state().await, before, "nothing changed");
    for (method, path, body) in &requests {
        let served = send(method, path, body, &own_origin).await.unwrap();
        assert!(
            served.status().is_success(),
            "{method} {path} from {own_origin}: {}",
            served.status()
        );
    }
}

/// The token is checked whatever the body's declared type: a form can post `text/plain` (and
/// the server functions read that body too), in any letter case.
#[tokio::test]
async fn form_posts_of_any_content_type_need_the_token() {
    let app = TestApp::spawn().await;
    let ana = user();
    let token = common::page_csrf_token(&ana, &app, "main").await;
    for content_type in [
        "text/plain",
        "TEXT/PLAIN; charset=utf-8",
        "Application/X-WWW-Form-Urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let refused = ana
            .post(app.url("/api/fn/add_word"))
            .header("accept", "text/html")
            .header("content-type", content_type)
            .body("room=main&text=colada")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 303, "{content_type}");
        assert_eq!(
            refused.headers()["location"],
            "/?error=bad-csrf-token",
            "{content_type}"
        );
    }
    assert_eq!(version_of(&ana, &app, "main").await, 0, "nothing stored");
    let accepted = ana
        .post(app.url("/api/fn/add_word"))
        .header("accept", "text/html")
        .header("content-type", "text/plain")
        .body(format!("room=main&text=hola&csrf={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(version_of(&ana, &app, "main").await, 1);
}

/// A server function's body over the limit is a 413, like the JSON API's (not Leptos' 400).
#[tokio::test]
async fn an_oversized_server_function_body_is_413() {
    let app = TestApp::spawn().await;
    let response = user()
        .post(app.url("/api/fn/add_word"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("room=main&text={}", "a".repeat(20 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(version_of(&user(), &app, "main").await, 0);
}

/// Issue 17, acceptance 6: dropping the cookie does not buy a fresh word budget. 1,000 writes
/// without a cookie from one address add at most one user's budget of words, and so create no
/// more users than that.
#[tokio::test]
async fn cookieless_writes_share_their_address_budget() {
    let app = TestApp::spawn_with(|_| {}).await; // the default limits: 30 words a minute
    let started = std::time::Instant::now();
    let mut added: u32 = 0;
    let mut refused = 0;
    for i in 0..1000 {
        let response = reqwest::Client::new()
            .post(app.url("/api/rooms/main/words"))
            .json(&json!({ "text": format!("w{i}") }))
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            201 => added += 1,
            429 => {
                assert!(response.headers().contains_key("retry-after"));
                refused += 1;
            }
            status => panic!("write {i}: {status}"),
        }
    }
    // A full bucket of 30, and one more each 2 s the loop took.
    let refilled = started.elapsed().as_secs() / 2 + 1;
    assert!(
        u64::from(added) <= 30 + refilled,
        "{added} words added without a cookie in {:?}",
        started.elapsed()
    );
    assert_eq!(added + refused, 1000);
    let mut conn = app.app_state.rooms.store().read().await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert!(
        users <= i64::from(added),
        "{users} users created for {added} words"
    );
    // A client that keeps its cookie has its own budget, whatever the cookieless ones did.
    let ana = user();
    ana.get(app.url("/api/me")).send().await.unwrap();
    let response = ana
        .post(app.url("/api/rooms/main/words"))
        .json(&json!({ "text": "hola" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// CORS is off unless origins are configured; a configured origin gets its preflight answered,
/// `Access-Control-Allow-Origin` on responses and passes the cross-site check; others do not.
#[tokio::test]
async fn cors_is_opt_in_per_origin() {
    let friend = "http://app.example:8080";
    let post_from = async |app: &TestApp, origin: &str| {
        reqwest::Client::new()
            .post(app.url("/api/rooms/main/words"))
            .header("origin", origin)
            .json(&json!({ "text": "hola" }))
            .send()
            .await
            .unwrap()
    };
    let closed = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .get(closed.url("/api/rooms/main"))
        .header("origin", friend)
        .send()
        .await
        .unwrap();
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    assert_eq!(post_from(&closed, friend).await.status(), 403);

    let open =
        TestApp::spawn_with(|settings| settings.cors_origins = vec![friend.to_owned()]).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, open.url("/api/rooms/main/words"))
        .header("origin", friend)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,idempotency-key",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], friend);
    assert_eq!(
        preflight.headers()["access-control-allow-credentials"],
        "true"
    );
    let write = post_from(&open, friend).await;
    assert_eq!(write.status(), 201);
    assert_eq!(write.headers()["access-control-allow-origin"], friend);
    let stranger = post_from(&open, "http://evil.example").await;
    assert_eq!(stranger.status(), 403);
    assert!(
        !stranger
            .headers()
            .contains_key("access-control-allow-origin")
    );
}
