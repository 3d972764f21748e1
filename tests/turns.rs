//! `turns` mode: the host starts a round, the players present play in a drawn order, the server's
//! clock skips whoever lets their time run out, and every change is a live `turn` event.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{Event, EventReader, TestApp, add_word, named_user, user};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

const WAIT: Duration = Duration::from_secs(20);

struct Player {
    client: reqwest::Client,
    id: String,
    name: String,
}

/// A user with a session (cookie) and a name.
async fn player(app: &TestApp, name: &str) -> Player {
    let (client, id) = named_user(app, name).await;
    Player {
        client,
        id,
        name: name.to_owned(),
    }
}

async fn add(player: &Player, app: &TestApp, room: &str, text: &str) -> reqwest::Response {
    add_word(&player.client, app, room, text).await
}

async fn start_round(player: &Player, app: &TestApp, room: &str) -> reqwest::Response {
    player
        .client
        .post(app.url(&format!("/api/rooms/{room}/round/start")))
        .send()
        .await
        .unwrap()
}

/// The next event of `kind`, skipping the others (presence, words...).
async fn next_of(events: &mut EventReader, kind: &str) -> Event {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let event = events
            .next(left)
            .await
            .unwrap_or_else(|| panic!("no `{kind}` event within {WAIT:?}"));
        if event.event == kind {
            return event;
        }
    }
}

fn turn_of(event: &Event) -> Value {
    serde_json::from_str::<Value>(&event.data).unwrap()["turn"].clone()
}

/// How long after its time a turn may still be running: the server's clock is a task that
/// sleeps until the deadline, so a turn ends within moments of it; two seconds is slack for a
/// busy machine, and far less than a turn.
const LATE: Duration = Duration::from_secs(2);

/// Milliseconds since the epoch, by the clock the server's deadlines are on.
fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// A turn's deadline, in milliseconds since the epoch.
fn deadline_ms(turn: &Value) -> i64 {
    let deadline = turn["deadline"]
        .as_str()
        .expect("a running turn has a deadline");
    let at = time::OffsetDateTime::parse(deadline, &Rfc3339).unwrap();
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap()
}

/// The `turn` event that ends `turn` when its player lets the time run out, which must come
/// neither before the turn's deadline nor more than [`LATE`] after its `seconds` are up
/// (`began`: when the turn began, or later).
async fn runs_out(events: &mut EventReader, turn: &Value, seconds: u64, began: Instant) -> Event {
    let event = next_of(events, "turn").await;
    let (ended, waited) = (now_ms(), began.elapsed());
    let deadline = deadline_ms(turn);
    assert!(
        ended >= deadline,
        "the turn ran out {} ms before its deadline",
        deadline - ended
    );
    assert!(
        waited <= Duration::from_secs(seconds) + LATE,
        "a turn of {seconds} s ran out after {waited:?}"
    );
    event
}

fn by_id<'a>(players: &'a [&'a Player], id: &Value) -> &'a Player {
    players
        .iter()
        .find(|player| player.id == id.as_str().unwrap())
        .unwrap_or_else(|| panic!("{id} is one of the players"))
}

#[tokio::test]
async fn a_round_goes_round_the_players_present_once_in_a_drawn_order() {
    let app = TestApp::spawn().await;
    let host = player(&app, "Profe").await;
    let ana = player(&app, "Ana").await;
    let luis = player(&app, "Luis").await;
    let state = app
        .post_room(
            &host.client,
            json!({ "title": "Turnos", "settings": { "mode": "turns", "turn_seconds": 30 } }),
        )
        .await;
    let room = state["slug"].as_str().unwrap().to_owned();
    assert_eq!(state["turn"], Value::Null);
    let events_url = app.url(&format!("/api/rooms/{room}/events"));

    // Before a round, nobody plays.
    let refused = add(&ana, &app, &room, "hola").await;
    assert_eq!(refused.status(), 409);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "urn:frase:problem:no-round");

    // The three have the room open; the host's stream watches the turns.
    let mut watching = EventReader::open(&host.client, &events_url, None).await;
    let _ana_open = EventReader::open(&ana.client, &events_url, None).await;
    let _luis_open = EventReader::open(&luis.client, &events_url, None).await;
    // A stream without a session is nobody's: not a player.
    let _anonymous = EventReader::open(&user(), &events_url, None).await;
    next_of(&mut watching, "snapshot").await;

    // Only the host starts a round.
    assert_eq!(start_round(&ana, &app, &room).await.status(), 403);
    let started = start_round(&host, &app, &room).await;
    assert_eq!(started.status(), 200);
    let state: Value = started.json().await.unwrap();
    let players = [&host, &ana, &luis];
    let first = by_id(&players, &state["turn"]["user"]["id"]);
    assert_eq!(state["turn"]["user"]["name"], first.name.as_str());
    assert!(state["turn"]["deadline"].as_str().unwrap().ends_with('Z'));
    let event = next_of(&mut watching, "turn").await;
    assert_eq!(turn_of(&event), state["turn"]);
    assert_eq!(event.id, state["version"].as_i64());

    // Each plays once, in the order drawn; whoever is not up is refused, told whose turn it is.
    let mut played = HashSet::new();
    let mut current = first;
    for (index, text) in ["érase", "una", "vez"].into_iter().enumerate() {
        for other in players.iter().filter(|p| p.id != current.id) {
            let refused = add(other, &app, &room, "no").await;
            assert_eq!(refused.status(), 409, "{} out of turn", other.name);
            let problem: Value = refused.json().await.unwrap();
            assert_eq!(problem["type"], "urn:frase:problem:not-your-turn");
            assert!(
                problem["detail"].as_str().unwrap().contains(&current.name),
                "the refusal names {}: {problem}",
                current.name
            );
        }
        let accepted = add(current, &app, &room, text).await;
        assert_eq!(accepted.status(), 201, "{} plays in turn", current.name);
        let word: Value = accepted.json().await.unwrap();
        played.insert(current.id.clone());
        let word_event = next_of(&mut watching, "word").await;
        let turn_event = next_of(&mut watching, "turn").await;
        assert_eq!(word_event.id, word["version"].as_i64());
        assert_eq!(
            turn_event.id,
            word_event.id.map(|v| v + 1),
            "the turn passes next"
        );
        let turn = turn_of(&turn_event);
        if index < 2 {
            current = by_id(&players, &turn["user"]["id"]);
            assert!(
                !played.contains(&current.id),
                "nobody plays twice in a round"
            );
        } else {
            assert_eq!(turn, Value::Null, "everyone has played: the round is over");
        }
    }
    assert_eq!(played.len(), 3);
    assert_eq!(add(&ana, &app, &room, "más").await.status(), 409);

    // Back to open play: the words are taken again.
    let patched = host
        .client
        .patch(app.url(&format!("/api/rooms/{room}")))
        .json(&json!({ "settings": { "mode": "open" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    // The round's first player did not write its last word: the double-turn rule lets them in.
    assert_eq!(add(first, &app, &room, "fin.").await.status(), 201);
    assert_eq!(
        start_round(&host, &app, &room).await.status(),
        409,
        "no round in open mode"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_player_who_lets_the_time_run_out_is_skipped() {
    let app = TestApp::spawn().await;
    let host = player(&app, "Profe").await;
    let ana = player(&app, "Ana").await;
    let state = app
        .post_room(
            &host.client,
            json!({ "settings": { "mode": "turns", "turn_seconds": 5 } }),
        )
        .await;
    let room = state["slug"].as_str().unwrap().to_owned();
    let events_url = app.url(&format!("/api/rooms/{room}/events"));
    let mut watching = EventReader::open(&host.client, &events_url, None).await;
    let _ana_open = EventReader::open(&ana.client, &events_url, None).await;
    next_of(&mut watching, "snapshot").await;

    let (started, started_ms) = (Instant::now(), now_ms());
    let state: Value = start_round(&host, &app, &room).await.json().await.unwrap();
    let players = [&host, &ana];
    let first_turn = &state["turn"];
    let first = by_id(&players, &first_turn["user"]["id"]);
    let second = players.iter().find(|p| p.id != first.id).unwrap();
    // The first player has their whole 5 s from when the round started.
    let deadline = deadline_ms(first_turn);
    assert!(
        (started_ms + 5_000..=now_ms() + 5_000).contains(&deadline),
        "a turn of 5 s from the start, not {} ms",
        deadline - started_ms
    );
    next_of(&mut watching, "turn").await;

    // Nobody plays: once the 5 s are up the server passes the turn on by itself, at once.
    let turn = turn_of(&runs_out(&mut watching, first_turn, 5, started).await);
    assert_eq!(turn["user"]["id"], second.id.as_str());
    let refused = add(first, &app, &room, "tarde").await;
    assert_eq!(refused.status(), 409, "the skipped player's time is over");
    assert_eq!(add(second, &app, &room, "hola").await.status(), 201);
    let over = next_of(&mut watching, "turn").await;
    assert_eq!(turn_of(&over), Value::Null);

    // A round left to run out ends by itself too, each turn on time, and the room state says so.
    let mut began = Instant::now();
    start_round(&host, &app, &room).await;
    let mut turn = turn_of(&next_of(&mut watching, "turn").await);
    let mut ran_out = Vec::new();
    while !turn.is_null() {
        let event = runs_out(&mut watching, &turn, 5, began).await;
        let next = turn_of(&event);
        if !next.is_null() {
            assert_eq!(
                deadline_ms(&next),
                deadline_ms(&turn) + 5_000,
                "the next turn has its whole 5 s"
            );
        }
        (began, turn) = (Instant::now(), next);
        ran_out.push(event);
    }
    assert_eq!(ran_out.len(), 2, "both players' turns ran out");
    let last = ran_out.pop().unwrap();
    let state: Value = host
        .client
        .get(app.url(&format!("/api/rooms/{room}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["turn"], Value::Null);
    assert_eq!(state["version"].as_i64(), last.id);
    app.stop().await;
}

/// Issue 17, acceptance 6: a player who closes the page is skipped within a second, not after
/// their whole turn (a room of puppets that left would otherwise stretch a round to an hour).
/// The host keeps a whole turn even without a page open: they may play from the API.
#[tokio::test]
async fn a_player_who_leaves_is_skipped_at_once() {
    let app = TestApp::spawn().await;
    let host = player(&app, "Profe").await;
    let ana = player(&app, "Ana").await;
    let luis = player(&app, "Luis").await;
    let state = app
        .post_room(
            &host.client,
            json!({ "settings": { "mode": "turns", "turn_seconds": 60 } }),
        )
        .await;
    let room = state["slug"].as_str().unwrap().to_owned();
    let events_url = app.url(&format!("/api/rooms/{room}/events"));
    let mut watching = EventReader::open(&user(), &events_url, None).await;
    let mut streams = std::collections::HashMap::new();
    for player in [&ana, &luis] {
        let stream = EventReader::open(&player.client, &events_url, None).await;
        streams.insert(player.id.clone(), stream);
    }
    next_of(&mut watching, "snapshot").await;
    let players = [&host, &ana, &luis];
    start_round(&host, &app, &room).await;
    let mut turn = turn_of(&next_of(&mut watching, "turn").await);
    let mut left = HashSet::new();
    while !turn.is_null() {
        let current = by_id(&players, &turn["user"]["id"]);
        if current.id == host.id {
            // The host plays; nobody waits for them to leave.
            assert_eq!(add(&host, &app, &room, "hola").await.status(), 201);
        } else {
            drop(streams.remove(&current.id));
            left.insert(current.id.clone());
        }
        let since = Instant::now();
        turn = turn_of(&next_of(&mut watching, "turn").await);
        if current.id != host.id {
            let waited = since.elapsed();
            assert!(
                waited < Duration::from_millis(1_500),
                "{} left, and was skipped after {waited:?}",
                current.name
            );
        }
    }
    assert_eq!(left.len(), 2, "both players left and were skipped");
    app.stop().await;
}
