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
