"""Runs REDbot (https://redbot.org, `pip install redbot`) on one URL and prints every note with
its level and category. Exits 1 when a note is at the error level ("bad").

    python3 scripts/redbot_check.py URL
"""

import sys
from configparser import ConfigParser

import thor
from httplint.note import levels
from redbot.resource import HttpResource


def notes_of(note, depth=0):
    yield depth, note
    for subnote in note.subnotes:
        yield from notes_of(subnote, depth + 1)


def main() -> int:
    url = sys.argv[1]
    config = ConfigParser()
    config.read_dict({"redbot": {"enable_local_access": "True"}})
    resource = HttpResource(config["redbot"], descend=False)
    resource.set_request(url)

    @thor.events.on(resource)
    def check_done() -> None:
        thor.stop()

    resource.check()
    thor.run()

    if not resource.response.complete:
        print(f"{url}: the fetch failed: {resource.fetch_error}")
        return 1
    response = resource.response
    print(f"{url}  ->  {response.status_code} {response.status_phrase}")
    bad = 0
    for note in response.notes:
        for depth, item in notes_of(note):
            level = item.level.name if item.level else "-"
            print(f"  {'  ' * depth}[{level:<5}] {note.category.value}: {item.summary}")
            bad += item.level == levels.BAD
    print(f"  {bad} error-level note(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
