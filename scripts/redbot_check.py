"""Runs REDbot (https://redbot.org, `pip install redbot`) on one request and prints every note with
its level, category and name. Exits 1 when any note is at the warning level or worse and not
excepted, with a reason, in the exceptions file. (One request a process: REDbot's event loop does
not start twice.)

    python3 scripts/redbot_check.py EXCEPTIONS.toml BASE_URL 'GET /path'
    python3 scripts/redbot_check.py EXCEPTIONS.toml BASE_URL 'POST /path {"json": 1}'

The exceptions file lists `[[exception]]` tables: `note` (REDbot's name for it, e.g.
`STORE_PUBLIC_UNNECESSARY`), `path` (a regular expression the request path must match, from its
start), and `reason` (why the note is wrong there; required).
"""

import re
import sys
import tomllib
from configparser import ConfigParser

import thor
from httplint.note import levels
from redbot.resource import HttpResource


def notes_of(note, depth=0):
    yield depth, note
    for subnote in note.subnotes:
        yield from notes_of(subnote, depth + 1)


def load_exceptions(path):
    with open(path, "rb") as file:
        exceptions = tomllib.load(file).get("exception", [])
    for exception in exceptions:
        for field in ("note", "path", "reason"):
            if not str(exception.get(field, "")).strip():
                raise SystemExit(f"{path}: every exception needs a {field}: {exception}")
    return exceptions


def excepted(exceptions, name, path):
    return any(
        exception["note"] == name and re.match(exception["path"], path)
        for exception in exceptions
    )


def check(base, target, exceptions):
    """Fetches one target (`METHOD PATH [JSON BODY]`), prints its notes; returns the count of
    notes at the warning level or worse that no exception covers."""
    method, _, rest = target.partition(" ")
    path, _, body = rest.partition(" ")
    config = ConfigParser()
    config.read_dict({"redbot": {"enable_local_access": "True"}})
    resource = HttpResource(config["redbot"], descend=False)
    headers = [("Content-Type", "application/json")] if body else []
    resource.set_request(base + path, method=method, headers=headers, content=body.encode())

    @thor.events.on(resource)
    def check_done() -> None:
        thor.stop()

    resource.check()
    thor.run()

    if not resource.response.complete:
        print(f"{method} {path}: the fetch failed: {resource.fetch_error}")
        return 1
    response = resource.response
    print(f"{method} {path}  ->  {response.status_code} {response.status_phrase}")
    failing = 0
    for note in response.notes:
        for depth, item in notes_of(note):
            name = type(item).__name__
            level = item.level.name if item.level else "-"
            serious = item.level in (levels.WARN, levels.BAD)
            mark = ""
            if serious and excepted(exceptions, name, path):
                mark = "  (excepted)"
            elif serious:
                failing += 1
                mark = "  <-- FAILS"
            print(f"  {'  ' * depth}[{level:<5}] {note.category.value}: {item.summary} [{name}]{mark}")
    return failing


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    exceptions = load_exceptions(sys.argv[1])
    failing = check(sys.argv[2].rstrip("/"), sys.argv[3], exceptions)
    print(f"  {failing} note(s) at the warning level or worse, not excepted")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
