"""The journal keeps the newest `limit` entries, numbered for paging, however long it runs."""

from __future__ import annotations

from nemo_fake.journal import Journal


def _fill(journal: Journal, count: int) -> None:
    for n in range(count):
        journal.record("GET", f"/api/{n}", 200 if n % 3 else 401, 0, "balance", float(n), 0.5)


def test_past_its_limit_the_journal_keeps_the_newest_entries_in_order() -> None:
    journal = Journal(limit=10)
    for count in (9, 10, 11, 20, 21, 35):  # either side of each batch of the oldest dropped
        journal.clear()
        _fill(journal, count)
        kept = journal.entries
        assert [entry.path for entry in kept] == [f"/api/{n}" for n in range(count)][-10:]
        assert [entry.seq for entry in kept] == list(range(journal.recorded - len(kept) + 1,
                                                          journal.recorded + 1))  # fmt: skip
        assert journal.find() == kept


def test_paging_with_since_and_limit_reads_only_entries_still_kept() -> None:
    journal = Journal(limit=10)
    _fill(journal, 25)
    assert [entry.seq for entry in journal.find(since=0, limit=3)] == [16, 17, 18]
    assert [entry.seq for entry in journal.find(since=20)] == [21, 22, 23, 24, 25]
    assert [entry.seq for entry in journal.find(since=18, status=401, limit=1)] == [19]
    assert journal.find(since=25) == []


def test_an_entry_reads_as_the_dict_the_control_api_answers() -> None:
    journal = Journal()
    _fill(journal, 1)
    (entry,) = journal.find()
    assert entry.to_dict() == {
        "method": "GET", "path": "/api/0", "status": 401, "code": 0, "operation": "balance",
        "at": 0.0, "duration_ms": 0.5, "seq": 1,
    }  # fmt: skip


def test_a_duration_is_kept_as_measured_and_read_to_the_microsecond() -> None:
    journal = Journal()
    journal.record("GET", "/api/x", 200, 0, "balance", 1.0, 1.23456789)
    assert journal.entries[0].duration_ms == 1.235
    assert journal.find(path="/api/x")[0].to_dict()["duration_ms"] == 1.235
