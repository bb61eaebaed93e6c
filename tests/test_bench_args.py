"""The alignment benchmark refuses names it does not know, rather than scoring another method under them."""

import pytest

from benchmarks.bench_align import main


@pytest.mark.parametrize(("flag", "value"), [("--methods", "tarjama+src,length"), ("--variants", "clean,clen")])
def test_an_unknown_method_or_variant_is_an_error_naming_it(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--skip-scaling", flag, value])
    assert stopped.value.code == 2
    unknown = value.split(",")[1]
    assert f"unknown {flag[2:-1]} {unknown}: choose from" in capsys.readouterr().err
