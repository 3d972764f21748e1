# frase in English. Every key also exists in es.ftl (Spanish, the default): a test checks it.
# The `problem-*` and `title-*` keys are the `detail` and `title` of the API's errors
# (application/problem+json); `error-*` are the messages the pages show.

## Language

language-switch = Language
language-es = Español
language-en = English

## Common

back-home = Back to the start
loading = Loading…
online-people = { $count ->
    [one] person online
   *[other] people online
}

## Lobby

main-room-title = Main room
lobby-lead = One sentence, written by everyone: each person adds a word and every screen sees it at once.
lobby-how-heading = How to play
lobby-how-1 = Open a room and show its code or QR code: everyone joins from their phone or laptop.
lobby-how-2 = Taking turns, each person adds one word to the shared sentence.
lobby-how-3 = Every screen sees each word at once; a full stop ends the sentence and starts another.
meta-description = frase: a game for classrooms, workshops or parties where everyone writes one sentence together, word by word, and every screen sees it grow at once.
lobby-join-main = Join the main room
lobby-create-label = Create a room for your group
lobby-create-placeholder = e.g. Year 9 English
lobby-create-submit = Create room
lobby-code-label = Got a room code?
lobby-code-placeholder = e.g. class-9b
lobby-code-submit = Join

## Not found

not-found-heading = Not found
not-found-text = There is nothing here.

## Room

room-code = Room
room-error-title = Room not found
room-error-heading = Room unavailable
room-error-missing = This room does not exist. Check the code.
room-error-other = The room could not be loaded: { $reason }
room-locked-notice = The room is closed: no new words for now.
room-present-link = Open the projector view
present-title-suffix = projector
present-last-sentence = The last sentence:
sentence-heading = The sentence
sentence-empty = The sentence is empty: write the first word.
story-heading = The story
story-empty = No finished sentences yet. A word ending in . ! ? or … ends the sentence.
story-download = Download the story:
story-format-text = text
story-page-link = The story with its authors, and who wrote how much
story-page-title-suffix = story
story-page-unavailable = Story unavailable
story-page-back = Back to the room
story-page-empty = No finished sentences yet.
story-page-contributors = Who wrote how much
story-page-nobody = Nobody has written anything yet.
story-page-words = { $count ->
    [one] word
   *[other] words
}
chart-title = Words per person
chart-others = Everyone else
word-label = Your word
word-submit = Add
my-word = Your word:
my-word-undo = Undo
my-word-fixed-label = Corrected word
my-word-fix = Fix
my-word-wait = Now it is someone else's turn: wait for their word to add another of yours.
name-label = Your name
name-submit = Change
name-shown-as = You appear as
join-heading = Join from your phone
join-qr-label = QR code of { $url }
lens-summary = HTTP lens: what this page sends and receives
lens-empty = Add a word or wait for someone else's: the request and the event will show here.
turn-waiting = Waiting for the host to start a round.
turn-yours = Your turn!
turn-add-word = Add your word.
turn-of = Now playing:

## Host controls

host-heading = Host controls
host-settings-title = Room name
host-settings-word-length = Letters per word
host-settings-sentence-words = Words per sentence
host-settings-no-double-turn = Nobody adds two words in a row
host-settings-save = Save
host-settings-mode = Game mode
host-mode-open = Open
host-mode-turns = In turns
host-settings-turn-seconds = Seconds per turn
host-start-round = Start a round
host-start-another-round = Start another round
host-open = Open the room
host-lock = Close the room
host-end-sentence = End the sentence
host-remove-label = Remove a word
host-remove = Remove
host-delete = Delete the room
host-fix-label = Fix a word
host-fix-text-label = Corrected text
host-fix = Fix
host-clear = Clear the sentence
host-group-play = The game
host-group-words = The words
host-group-settings = Room settings
host-group-danger = No way back
host-clear-warning = Every word of the open sentence goes; finished sentences stay.
host-clear-confirm = Yes, clear the sentence
host-delete-warning = The room, its sentence and its story are gone for everyone.
host-delete-confirm = Yes, delete the room

## The pages' error messages, by error code

error-word-empty = Type a word.
error-word-multiple-tokens = Just one word, no spaces.
error-word-too-long = Too long: { $max } characters at most.
error-word-control-character = The word has control characters.
error-word-markup = The characters < > & and the like are not allowed.
error-word-invalid-character = The word has a character that is not allowed.
error-word-misplaced-punctuation = The punctuation is out of place.
error-double-turn = Wait for someone else to add the next word.
error-not-your-turn = It is not your turn: wait until it is yours.
error-time-up = Your time ran out: the turn has passed to the next person.
error-no-round = No round yet: the host has to start one.
error-not-turns-mode = To play in turns, choose the "in turns" mode and save.
error-room-locked = The room is closed: no new words.
error-room-not-found = This room does not exist.
error-not-host = Only the person who created the room can do this.
error-room-permanent = The main room cannot be deleted.
error-sentence-empty = The sentence has no words yet.
error-word-not-found = That word is gone.
error-not-allowed = Too late: a word can be fixed in its first 30 s and undone while it is the last one.
error-invalid-title = That room name is not valid (1 to 80 characters, no < > &).
error-invalid-name = That name is not valid (1 to 40 characters, no < > &).
error-rate-limited = You are going very fast: wait a moment and try again.
error-page-expired = The page has expired: reload it and try again.
error-unavailable = No connection to the server. Try again.
error-bad-room-code = That room code is not valid: use lowercase letters, digits and hyphens.
error-unknown = Something went wrong; the word was not added.

## Titles of the API's errors (`title`)

title-bad-request = Bad request
title-not-found = Not found
title-method-not-allowed = Method not allowed
title-not-acceptable = Not acceptable
title-conflict = Conflict
title-precondition-failed = Precondition failed
title-content-too-large = Content too large
title-unsupported-media-type = Unsupported media type
title-unprocessable-content = Unprocessable content
title-invalid-word = Invalid word
title-invalid-name = Invalid name
title-invalid-title = Invalid title
title-invalid-settings = Invalid settings
title-forbidden = Forbidden
title-cross-site-request-refused = Cross-site request refused
title-locked = Locked
title-not-your-turn = Not your turn
title-too-many-requests = Too many requests
title-internal-server-error = Internal server error
title-service-unavailable = Service unavailable
title-bad-response = Bad response
title-unexpected-response = Unexpected response

## Details of the API's errors (`detail`)

problem-internal = Something went wrong on the server; the change was not applied.
problem-no-such-function = There is no function { $name }.
problem-function-method = This function does not take that method: { $reason }
problem-bad-arguments = The arguments are not valid: { $reason }
problem-unreachable = The server could not be reached.
problem-unreachable-because = The server could not be reached: { $reason }
problem-still-busy = The server is still busy with this word.
problem-bad-response = The server's answer could not be read: { $reason }
problem-unexpected-response = Unexpected answer from the server: { $reason }
problem-render-stalled = The page could not be rendered; try again.
problem-database-unavailable = The database does not answer.
problem-shutting-down = The server is shutting down; try again in a moment.
problem-word-empty = The word is empty.
problem-word-multiple-tokens = A word must be a single token without spaces.
problem-word-too-long = The word is too long: { $len } characters, the maximum is { $max }.
problem-word-control-character = The word contains a control or invisible character.
problem-word-markup = The character "{ $ch }" is not allowed because it could be read as markup.
problem-word-invalid-character = The character "{ $ch }" is not allowed in a word.
problem-word-misplaced-punctuation = Misplaced punctuation: apostrophes and hyphens must sit between two letters, '.', ',' and ':' inside a word only between two digits, and opening punctuation must be followed by a word.
problem-name-empty = The name is empty.
problem-name-control-character = The name contains a control or invisible character.
problem-name-markup = The character "{ $ch }" is not allowed because it could be read as markup.
problem-name-too-long = The name is too long: { $len } characters, the maximum is { $max }.
problem-slug-empty = The room code is empty.
problem-slug-invalid-character = The character "{ $ch }" is not allowed in a room code (use a-z, 0-9 and '-').
problem-slug-invalid-start = The room code must start with a letter a-z or a digit.
problem-slug-too-long = The room code is too long: { $len } characters, the maximum is { $max }.
problem-settings-out-of-range = { $field } must be between { $min } and { $max } (got { $value }).
problem-double-turn = You cannot add two words in a row: wait for someone else to play.
problem-not-your-turn = It is { $player }'s turn, not yours: wait until it is yours.
problem-time-up = Your time ran out: the turn has passed to the next player.
problem-no-round = No round is being played: words are taken once the host starts a round.
problem-not-turns-mode = Room `{ $room }` is not in `turns` mode: set its mode to `turns` before starting a round.
problem-turn-not-due = That turn is no longer running.
problem-room-not-found = There is no room `{ $room }`.
problem-word-not-found = There is no word `{ $id }`.
problem-word-not-found-in-room = There is no word { $id } in room `{ $room }`.
problem-room-exists = There is already a room `{ $room }`.
problem-room-locked = Room `{ $room }` is locked: its host is not taking new words.
problem-unknown-field = This function takes no field “{ $field }”.
problem-repeated-field = The field “{ $field }” is given more than once.
problem-stale = The room changed: it is at version { $current }, not the one given in If-Match.
problem-stale-no-room = If-Match names a version of room “{ $room }”, which does not exist.
problem-not-host = Only the host of room `{ $room }` may do this.
problem-fix-not-author = Only its author or the host may fix a word.
problem-fix-too-late = A word can be fixed by its author only in the first 30 seconds.
problem-remove-not-author = Only its author or the host may remove a word.
problem-remove-not-last = An author may remove a word only while it is the last one.
problem-room-permanent = Room `main` always exists: it cannot be deleted.
problem-sentence-empty = The sentence has no words yet: there is nothing to end.
problem-edit-changes-sentence-end = A fix cannot start or end a sentence; delete the word and add another instead.
problem-rate-limited-words = Too many words too fast: wait { $seconds } s before the next one.
problem-rate-limited-address = Too many changes from this network address; wait a moment and try again.
problem-rate-limited-anonymous = Too many changes without a session cookie from this network address; keep the cookie frase sets (curl: -c and -b) or wait a moment.
problem-rate-limited-streams = Too many live streams are open from this network address; close some tabs or try again shortly.
problem-body-not-object = The body must be a JSON object.
problem-body-fields = The body does not have the expected fields: { $reason }
problem-malformed-body = The body could not be read: { $reason }
problem-malformed-json = The body is not valid JSON: { $reason }
problem-unsupported-media-type = Send the body as JSON, with Content-Type: application/json.
problem-body-too-large = The request body is larger than 16 KiB.
problem-bad-query = Bad query string: { $reason }
problem-bad-page = `after` must be 0 or more and `limit` between 1 and { $max }.
problem-bad-format = Unknown format `{ $format }`: use json, txt or md.
problem-not-acceptable = The story comes as application/json, text/plain or text/markdown.
problem-not-found = Nothing is at { $path }.
problem-method-not-allowed = { $path } does not support this method; the Allow header lists those it does.
problem-method-never = { $method } is never allowed here.
problem-bad-request = The request could not be understood.
problem-bad-last-event-id = Last-Event-ID must be a room version (a whole number), not `{ $value }`.
problem-cross-site = A page of { $origin } may not change anything here.
problem-bad-idempotency-key = Idempotency-Key must be 1 to 255 visible ASCII characters.
problem-idempotency-key-reused = This Idempotency-Key was used for a different request; use a new key.
problem-idempotency-key-in-flight = The first request with this Idempotency-Key has not finished; it is never run twice.
problem-bad-language = Unknown language `{ $lang }`: use es or en.
