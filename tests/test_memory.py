from tarjama.translation.memory import TranslationMemory


def test_translations_survive_reopening_and_are_keyed_by_engine_and_model(tmp_path):
    path = tmp_path / "tm.sqlite"
    with TranslationMemory(path) as memory:
        memory.store("google", "web", "مرحبا", "Hello")
        memory.store("local", "qwen", "مرحبا", "Hi")
    with TranslationMemory(path) as memory:
        assert memory.lookup("google", "web", ["مرحبا", "وداعا"]) == {"مرحبا": "Hello"}
        assert memory.lookup("local", "qwen", ["مرحبا"]) == {"مرحبا": "Hi"}
        assert memory.lookup("local", "other-model", ["مرحبا"]) == {}
        assert len(memory) == 2


def test_lookup_handles_more_sentences_than_sqlite_parameters(tmp_path):
    with TranslationMemory(tmp_path / "tm.sqlite") as memory:
        for i in range(1200):
            memory.store("e", "m", f"s{i}", f"t{i}")
        found = memory.lookup("e", "m", [f"s{i}" for i in range(0, 1300, 1)])
    assert len(found) == 1200 and found["s1199"] == "t1199"


def test_a_journal_created_but_not_yet_set_up_merges_nothing_and_stays(tmp_path):
    """Another run's journal, the moment after its file is created and before its table is: merging it
    must not fail the run that merges (three runs started together did, "no such table")."""
    import sqlite3

    from tarjama.translation.memory import merge_journals

    journals = tmp_path / "journals"
    journals.mkdir()
    sqlite3.connect(journals / "elsewhere-1.sqlite").close()  # an empty SQLite file: no table yet
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:
        memory.store("libre", "m", "مرحبا", "hello")
        assert merge_journals(memory, journals) == 0
        assert len(memory) == 1
    assert (journals / "elsewhere-1.sqlite").exists()  # another host's name: not ours to remove
