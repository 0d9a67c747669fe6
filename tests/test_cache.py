"""The offline status cache on a real SQLite file: each colour served only
within its own age, green never past 72 hours, never a number stored."""
import datetime as dt
import sqlite3

import pytest

from kiosk.services.cache import StatusCache
from kiosk.services.sealing import person_hash
from tests.conftest import GREEN_IIN, JOURNAL_KEY, WEDNESDAY

H = dt.timedelta(hours=1)
AGES = {"green": 500, "blue": 24, "yellow": 0.5, "red": 0}


pytestmark = pytest.mark.usefixtures("no_threads_left")


@pytest.fixture
def cache(journal):
    c = StatusCache(journal, max_age_hours=AGES)
    yield c
    c.close()


def test_each_colour_is_served_only_within_its_age(cache):
    for person, colour in (("a", "green"), ("b", "blue"), ("c", "yellow"), ("d", "red")):
        cache.remember(person, colour, WEDNESDAY)
    at = lambda hours: WEDNESDAY + hours * H
    assert [cache.recall(p, WEDNESDAY) for p in "abcd"] == ["green", "blue", "yellow", None]
    assert [cache.recall(p, at(0.5)) for p in "abcd"] == ["green", "blue", "yellow", None]
    assert [cache.recall(p, at(0.51)) for p in "abcd"] == ["green", "blue", None, None]
    assert [cache.recall(p, at(24)) for p in "ab"] == ["green", "blue"]
    assert [cache.recall(p, at(24.01)) for p in "ab"] == ["green", None]
    # 500 h configured, but green is never older than 72 h (a PCR result's validity)
    assert cache.recall("a", at(72)) == "green" and cache.recall("a", at(72.01)) is None
    assert cache.recall("nobody", WEDNESDAY) is None


def test_zero_hours_means_never_served(journal):
    cache = StatusCache(journal, max_age_hours={"green": 0})
    cache.remember("a", "green", WEDNESDAY)
    cache.remember("b", "blue", WEDNESDAY)  # a colour not configured counts as 0
    assert cache.recall("a", WEDNESDAY) is None and cache.recall("b", WEDNESDAY) is None
    cache.close()


def test_the_newest_answer_wins_and_a_late_older_one_does_not(cache):
    cache.remember("a", "green", WEDNESDAY)
    cache.remember("a", "red", WEDNESDAY + H)
    assert cache.recall("a", WEDNESDAY + 2 * H) is None  # red: never served
    cache.remember("a", "green", WEDNESDAY)  # arrived late, checked earlier
    assert cache.recall("a", WEDNESDAY + 2 * H) is None


def test_a_clock_that_went_back_is_not_trusted(cache):
    cache.remember("a", "green", WEDNESDAY)
    assert cache.recall("a", WEDNESDAY - H) is None


def test_entries_too_old_to_serve_are_pruned(cache, journal):
    cache.remember("a", "green", WEDNESDAY)
    cache.remember("b", "blue", WEDNESDAY + 60 * H)
    assert cache.prune(WEDNESDAY + 73 * H) == 1
    assert cache.recall("b", WEDNESDAY + 73 * H) == "blue"
    # remembering prunes too, at most hourly
    cache.remember("c", "green", WEDNESDAY + 200 * H)
    count = journal._read("SELECT count(*) AS n FROM statuses")[0]["n"]
    assert count == 1


def test_it_lives_in_the_journal_file_and_holds_no_number(journal, tmp_path):
    cache = StatusCache(journal.path, max_age_hours=AGES, clock=lambda: WEDNESDAY.timestamp())
    person = person_hash(GREEN_IIN, JOURNAL_KEY)
    cache.remember(person, "green")
    assert cache.recall(person) == "green"
    row = journal._read("SELECT * FROM statuses")[0]
    assert row == {"person": person, "colour": "green", "checked_at": WEDNESDAY.timestamp()}
    cache.close()
    journal.close()
    for path in tmp_path.iterdir():
        assert GREEN_IIN.encode() not in path.read_bytes(), path.name


def test_a_bare_file_gets_the_table_and_a_broken_cache_never_raises(tmp_path):
    cache = StatusCache(str(tmp_path / "cache.sqlite"), max_age_hours=AGES)
    cache.remember("a", "blue", WEDNESDAY)
    assert cache.recall("a", WEDNESDAY + H) == "blue"
    cache.db.execute("DROP TABLE statuses")
    cache.remember("a", "blue", WEDNESDAY)  # logged, not raised: the cache is optional
    assert cache.recall("a", WEDNESDAY) is None  # a miss, never an admission
    cache.close()
    conn = sqlite3.connect(tmp_path / "cache.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
