//! The forms the server functions take: each one's fields, which the handler enforces (a field
//! it does not know, or one given twice, is a 400) and the OpenAPI document states, with what it
//! answers a `fetch` (JSON) and a plain HTML form (a 303), and the errors it can give.
//!
//! Leptos generates their argument types, which cannot carry utoipa's derive, so they are
//! described here from a table; the tests below hold the table to the real argument types (every
//! field named, none invented) and to the functions the router mounts.

use serde_json::{Value, json};

use crate::domain::{
    DISPLAY_NAME_MAX_CHARS, MAX_SENTENCE_WORDS_RANGE, MAX_WORD_LENGTH_RANGE, ROOM_TITLE_MAX_CHARS,
    SLUG_MAX_LEN, TURN_SECONDS_RANGE,
};

/// What a form field holds.
#[derive(Debug, Clone, Copy)]
enum Field {
    /// A room's code.
    Room,
    /// A word.
    Word,
    /// A word's id.
    WordId,
    /// A room's title; `empty` when the field may be left empty.
    Title { empty: bool },
    /// A display name.
    Name,
    /// `true` or `false`.
    Flag,
    /// Present (any value) means on, absent means off: an HTML checkbox.
    Checkbox,
    /// A whole number within a domain range.
    Count { min: u32, max: u32 },
    /// How players take turns (`Mode`).
    Mode,
    /// `es` or `en`.
    Language,
}

impl Field {
    fn schema(self) -> Value {
        match self {
            Field::Room => json!({
                "type": "string",
                "pattern": format!("^[a-z0-9][a-z0-9-]{{0,{}}}$", SLUG_MAX_LEN - 1),
                "description": "The room's code",
            }),
            Field::Word => json!({ "type": "string", "minLength": 1, "description": "One word" }),
            Field::WordId => {
                json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX })
            }
            Field::Title { empty } => json!({
                "type": "string",
                "minLength": if empty { 0 } else { 1 },
                "maxLength": ROOM_TITLE_MAX_CHARS,
            }),
            Field::Name => json!({
                "type": "string",
                "minLength": 1,
                "maxLength": DISPLAY_NAME_MAX_CHARS,
            }),
            Field::Flag => json!({ "type": "boolean" }),
            Field::Checkbox => json!({ "type": "string", "description": "Present means on" }),
            Field::Count { min, max } => {
                json!({ "type": "integer", "minimum": min, "maximum": max })
            }
            Field::Mode => json!({ "$ref": "#/components/schemas/Mode" }),
            Field::Language => json!({ "type": "string", "enum": ["es", "en"] }),
        }
    }
}

/// What a server function answers a `fetch` when it succeeds.
#[derive(Debug, Clone, Copy)]
enum Output {
    /// 200 with this component schema.
    Schema(&'static str),
    /// 201 with this component schema and the new resource's `Location`.
    Created(&'static str),
    /// 200 with a JSON string.
    Text(&'static str),
    /// 200 with `null`.
    Nothing,
}

struct ServerFunction {
    name: &'static str,
    summary: &'static str,
    /// Name, content, required.
    fields: &'static [(&'static str, Field, bool)],
    output: Output,
    /// The statuses of its own errors (besides 400, 403 cross-site, 413 and 429, which any of
    /// them can answer).
    errors: &'static [(u16, &'static str)],
}

const ROOM: (&str, Field, bool) = ("room", Field::Room, true);
const NOT_FOUND: (u16, &str) = (404, "No such room (or word)");
const NOT_HOST: (u16, &str) = (403, "Not the host");

const TURN_SECONDS: Field = Field::Count {
    min: *TURN_SECONDS_RANGE.start(),
    max: *TURN_SECONDS_RANGE.end(),
};

const FUNCTIONS: &[ServerFunction] = &[
    ServerFunction {
        name: "load_room",
        summary: "Everything the room page shows",
        fields: &[ROOM],
        output: Output::Schema("RoomPage"),
        errors: &[NOT_FOUND],
    },
    ServerFunction {
        name: "load_story",
        summary: "Everything the story page shows",
        fields: &[ROOM],
        output: Output::Schema("StoryPage"),
        errors: &[NOT_FOUND],
    },
    ServerFunction {
        name: "add_word",
        summary: "Adds a word to a room's sentence",
        fields: &[ROOM, ("text", Field::Word, true)],
        output: Output::Created("WordView"),
        errors: &[
            NOT_FOUND,
            (409, "Turn rule: not two words in a row, or not your turn"),
            (422, "Not a valid word"),
            (423, "The room is locked"),
        ],
    },
    ServerFunction {
        name: "set_name",
        summary: "Changes the caller's display name",
        fields: &[("name", Field::Name, true)],
        output: Output::Schema("Me"),
        errors: &[(422, "Not a valid name")],
    },
    ServerFunction {
        name: "form_token",
        summary: "The caller's CSRF token, for forms rendered outside a room",
        fields: &[],
        output: Output::Text("The token"),
        errors: &[],
    },
    ServerFunction {
        name: "create_room",
        summary: "Creates a room with a generated code; the caller becomes its host",
        fields: &[("title", Field::Title { empty: true }, true)],
        output: Output::Text("The new room's code"),
        errors: &[(422, "Not a valid title")],
    },
    ServerFunction {
        name: "lock_room",
        summary: "The host locks a room (no new words) or opens it again",
        fields: &[ROOM, ("locked", Field::Flag, true)],
        output: Output::Schema("RoomState"),
        errors: &[NOT_HOST, NOT_FOUND],
    },
    ServerFunction {
        name: "configure_room",
        summary: "The host renames the room and sets its rules",
        fields: &[
            ROOM,
            ("title", Field::Title { empty: false }, true),
            (
                "max_word_length",
                Field::Count {
                    min: *MAX_WORD_LENGTH_RANGE.start(),
                    max: *MAX_WORD_LENGTH_RANGE.end(),
                },
                true,
            ),
            (
                "max_sentence_words",
                Field::Count {
                    min: *MAX_SENTENCE_WORDS_RANGE.start(),
                    max: *MAX_SENTENCE_WORDS_RANGE.end(),
                },
                true,
            ),
            ("no_double_turn", Field::Checkbox, false),
            ("mode", Field::Mode, false),
            ("turn_seconds", TURN_SECONDS, false),
        ],
        output: Output::Schema("RoomState"),
        errors: &[NOT_HOST, NOT_FOUND, (422, "Invalid title or settings")],
    },
    ServerFunction {
        name: "end_sentence",
        summary: "The host ends the open sentence where it stands",
        fields: &[ROOM],
        output: Output::Schema("StorySentence"),
        errors: &[NOT_HOST, NOT_FOUND, (409, "The sentence has no words")],
    },
    ServerFunction {
        name: "clear_sentence",
        summary: "The host clears the open sentence",
        fields: &[ROOM],
        output: Output::Schema("RoomState"),
        errors: &[NOT_HOST, NOT_FOUND],
    },
    ServerFunction {
        name: "start_round",
        summary: "The host starts a `turns` round with the players present",
        fields: &[ROOM],
        output: Output::Schema("RoomState"),
        errors: &[
            NOT_HOST,
            NOT_FOUND,
            (409, "The room is not in `turns` mode"),
            (423, "The room is locked"),
        ],
    },
    ServerFunction {
        name: "remove_word",
        summary: "Removes a word of the open sentence: the host any, an author their last",
        fields: &[ROOM, ("id", Field::WordId, true)],
        output: Output::Nothing,
        errors: &[
            (403, "Neither its author while it is last, nor the host"),
            NOT_FOUND,
        ],
    },
    ServerFunction {
        name: "fix_word",
        summary: "Fixes a word: its author within 30 s, or the host",
        fields: &[
            ROOM,
            ("id", Field::WordId, true),
            ("text", Field::Word, true),
        ],
        output: Output::Schema("WordView"),
        errors: &[
            (403, "Neither its author within 30 s, nor the host"),
            NOT_FOUND,
            (422, "Not a valid word"),
        ],
    },
    ServerFunction {
        name: "delete_room",
        summary: "The host deletes the room and its story",
        fields: &[ROOM],
        output: Output::Nothing,
        errors: &[(403, "Not the host, or room `main`"), NOT_FOUND],
    },
    ServerFunction {
        name: "set_language",
        summary: "Chooses the language of the caller's pages and errors",
        fields: &[("lang", Field::Language, true)],
        output: Output::Nothing,
        errors: &[(422, "Not a language of frase")],
    },
];

/// An error: the function's own as JSON (`ServerFunctionError`), or, from the guards that stand
/// before every function (origin, limits), as problem+json.
fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {
            "application/json": {
                "schema": { "$ref": "#/components/schemas/ServerFunctionError" },
            },
            "application/problem+json": {
                "schema": { "$ref": "#/components/schemas/Problem" },
            },
        },
    })
}

impl ServerFunction {
    fn path(&self) -> String {
        format!("/api/fn/{}", self.name)
    }

    fn operation(&self) -> Value {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for (name, field, is_required) in self.fields {
            properties.insert((*name).to_owned(), field.schema());
            if *is_required {
                required.push(*name);
            }
        }
        properties.insert(
            CSRF_FIELD.to_owned(),
            json!({
                "type": "string",
                "description": "The caller's CSRF token: required when a plain HTML form posts (`Accept: text/html`)",
            }),
        );
        let success_schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
        let (status, success) = match self.output {
            Output::Schema(name) => (
                "200",
                json!({
                    "description": "Done",
                    "content": { "application/json": { "schema": success_schema(name) } },
                }),
            ),
            Output::Created(name) => (
                "201",
                json!({
                    "description": "Created",
                    "headers": { "Location": { "schema": { "type": "string" } } },
                    "content": { "application/json": { "schema": success_schema(name) } },
                }),
            ),
            Output::Text(description) => (
                "200",
                json!({
                    "description": description,
                    "content": { "application/json": { "schema": { "type": "string" } } },
                }),
            ),
            Output::Nothing => (
                "200",
                json!({
                    "description": "Done",
                    "content": { "application/json": { "schema": { "type": "null" } } },
                }),
            ),
        };
        let mut responses = serde_json::Map::new();
        responses.insert(status.to_owned(), success);
        responses.insert(
            "303".to_owned(),
            json!({
                "description": "A plain HTML form (JavaScript off): back to its page, or on to the next one, with `?error=<code>` when it failed",
                "headers": { "Location": { "schema": { "type": "string" } } },
            }),
        );
        responses.insert(
            "400".to_owned(),
            error_response("Malformed, missing, unknown or repeated fields"),
        );
        for (status, description) in self.errors {
            responses.insert(status.to_string(), error_response(description));
        }
        responses.insert("413".to_owned(), error_response("Body over 16 KiB"));
        responses.insert("default".to_owned(), error_response("An error"));
        json!({
            "tags": ["server functions"],
            "summary": self.summary,
            "operationId": format!("fn_{}", self.name),
            "requestBody": {
                // A function without arguments takes an empty body too.
                "required": !self.fields.is_empty(),
                "content": { "application/x-www-form-urlencoded": { "schema": {
                    "type": "object",
                    "required": required,
                    "properties": properties,
                    "additionalProperties": false,
                } } },
            },
            "responses": responses,
        })
    }
}

/// The form field every page's forms add: the CSRF token.
const CSRF_FIELD: &str = "csrf";

/// Why a server function's form is refused before it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A field the function does not take.
    Unknown(String),
    /// A field given more than once.
    Repeated(String),
}

/// Checks the names of a form posted to the server function at `path`: each is one of its
/// fields (or the CSRF token), given once. A path that names no server function passes (the
/// router answers it).
pub fn check_form(path: &str, body: &[u8]) -> Result<(), FormError> {
    let Some(function) = FUNCTIONS.iter().find(|function| function.path() == path) else {
        return Ok(());
    };
    let mut seen: Vec<std::borrow::Cow<'_, str>> = Vec::new();
    for (name, _) in form_urlencoded::parse(body) {
        let known = name == CSRF_FIELD
            || function
                .fields
                .iter()
                .any(|(field, _, _)| *field == name.as_ref());
        if !known {
            return Err(FormError::Unknown(name.into_owned()));
        }
        if seen.contains(&name) {
            return Err(FormError::Repeated(name.into_owned()));
        }
        seen.push(name);
    }
    Ok(())
}

/// The server functions' paths, each `POST` only.
pub fn paths() -> Vec<(String, Value)> {
    FUNCTIONS
        .iter()
        .map(|function| (function.path(), json!({ "post": function.operation() })))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// A value of the field's kind that the argument types accept.
    fn example(field: Field) -> Value {
        match field {
            Field::Room => json!("main"),
            Field::Word | Field::Name | Field::Title { .. } | Field::Checkbox => json!("hola"),
            Field::WordId => json!(1),
            Field::Flag => json!(true),
            Field::Count { min, .. } => json!(min),
            Field::Mode => json!("turns"),
            Field::Language => json!("en"),
        }
    }

    fn documented(name: &str) -> &'static ServerFunction {
        FUNCTIONS
            .iter()
            .find(|function| function.name == name)
            .unwrap_or_else(|| panic!("{name} is documented"))
    }

    /// The documented fields fill the real argument type, and it has no field the document
    /// does not name.
    fn check<Args: serde::de::DeserializeOwned + serde::Serialize>(name: &str) {
        let function = documented(name);
        let form: serde_json::Map<String, Value> = function
            .fields
            .iter()
            .map(|(field, kind, _)| ((*field).to_owned(), example(*kind)))
            .collect();
        let args: Args =
            serde_json::from_value(Value::Object(form.clone())).unwrap_or_else(|error| {
                panic!("{name}: the documented fields are its arguments: {error}")
            });
        let Value::Object(fields) = serde_json::to_value(&args).unwrap() else {
            panic!("{name}: arguments are an object");
        };
        let real: BTreeSet<&String> = fields.keys().collect();
        let documented: BTreeSet<&String> = form.keys().collect();
        assert_eq!(real, documented, "{name}");
        for (field, kind, required) in function.fields {
            if !required {
                continue;
            }
            let mut without = form.clone();
            without.remove(*field);
            assert!(
                serde_json::from_value::<Args>(Value::Object(without)).is_err(),
                "{name}.{field} ({kind:?}) is documented as required"
            );
        }
    }

    #[test]
    fn every_server_function_is_documented_with_its_real_arguments() {
        use crate::server_fns::*;
        check::<LoadRoom>("load_room");
        check::<LoadStory>("load_story");
        check::<AddWord>("add_word");
        check::<SetName>("set_name");
        check::<FormToken>("form_token");
        check::<CreateRoom>("create_room");
        check::<LockRoom>("lock_room");
        check::<ConfigureRoom>("configure_room");
        check::<EndSentence>("end_sentence");
        check::<ClearSentence>("clear_sentence");
        check::<StartRound>("start_round");
        check::<RemoveWord>("remove_word");
        check::<FixWord>("fix_word");
        check::<DeleteRoom>("delete_room");
        check::<SetLanguage>("set_language");

        let mounted: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.to_owned())
            .collect();
        let described: BTreeSet<String> = FUNCTIONS.iter().map(ServerFunction::path).collect();
        assert_eq!(
            mounted, described,
            "every mounted server function, and only those"
        );
    }

    #[test]
    fn a_form_takes_only_its_own_fields_once() {
        assert_eq!(
            check_form("/api/fn/add_word", b"room=main&text=hola"),
            Ok(())
        );
        assert_eq!(
            check_form("/api/fn/add_word", b"room=main&text=hola&csrf=abc"),
            Ok(())
        );
        assert_eq!(check_form("/api/fn/form_token", b""), Ok(()));
        assert_eq!(
            check_form("/api/fn/add_word", b"room=main&text=hola&extra=1"),
            Err(FormError::Unknown("extra".to_owned()))
        );
        assert_eq!(
            check_form("/api/fn/add_word", b"room=main&text=a&text=b"),
            Err(FormError::Repeated("text".to_owned()))
        );
        assert_eq!(
            check_form("/api/fn/set_language", b"lang=es&%E2%80%8B=1"),
            Err(FormError::Unknown("\u{200b}".to_owned()))
        );
        assert_eq!(check_form("/api/fn/not_a_function", b"x=1"), Ok(()));
    }
}
