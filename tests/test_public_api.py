"""The public API: every name ``tarjama.__all__`` promises resolves, and ``import tarjama`` loads nothing heavy."""

import subprocess
import sys

import tarjama


def test_every_public_name_resolves_to_what_its_module_defines():
    import importlib

    for name in tarjama.__all__:
        value = getattr(tarjama, name)
        if name != "__version__":
            module = importlib.import_module(tarjama._PUBLIC[name])
            assert value is getattr(module, name), name
    assert sorted(dir(tarjama)) == sorted(tarjama.__all__) == sorted(["__version__", *tarjama._PUBLIC])


def test_an_unknown_name_is_an_attribute_error():
    try:
        tarjama.no_such_thing  # noqa: B018
    except AttributeError as problem:
        assert "no_such_thing" in str(problem)
    else:
        raise AssertionError("tarjama.no_such_thing resolved")


def test_importing_tarjama_loads_no_heavy_dependency():
    code = "import sys, tarjama; print(sorted(m for m in ('polars', 'numpy', 'prefect', 'matplotlib') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
