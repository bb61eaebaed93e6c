"""``auto`` against a real loopback HTTP server: Google when it answers, else local, decided quickly."""

import time

import pytest
from loopback_services import LoopbackServices

from tarjama.errors import TarjamaError
from tarjama.translation.engines import create_engine
from tarjama.translation.engines.auto import PROBE


def test_auto_picks_google_when_it_answers():
    with LoopbackServices() as services:
        engine = create_engine("auto", google={"url": services.url("google")})
        assert engine.name == "google"
        assert len(services.requests("google")) == 1  # one probe


def test_auto_falls_back_to_local_within_the_probe_timeout(tmp_path):
    not_a_model = tmp_path / "local.gguf"
    not_a_model.write_bytes(b"not a model")
    with LoopbackServices(hang_seconds=10) as services:
        services.persistent = "hang"
        started = time.monotonic()
        # local is chosen: it then refuses the bogus model file, which proves the fallback happened
        with pytest.raises(TarjamaError, match="not a GGUF"):
            create_engine(
                "auto",
                google={"url": services.url("google")},
                local={"model_path": str(not_a_model)},
                probe_timeout=1.0,
            )
        assert time.monotonic() - started < 5
        assert len(services.requests("google")) == 1  # the probe is not retried


@pytest.mark.parametrize("answer", ["", "مرحبا"], ids=["empty", "sent-back"])
def test_auto_falls_back_to_local_when_google_answers_no_translation(tmp_path, answer, caplog):
    not_a_model = tmp_path / "local.gguf"
    not_a_model.write_bytes(b"not a model")
    with LoopbackServices() as services:
        services.answers = {PROBE: answer}
        with pytest.raises(TarjamaError, match="not a GGUF"):  # local chosen: it refuses the bogus model file
            create_engine("auto", google={"url": services.url("google")}, local={"model_path": str(not_a_model)})
        assert len(services.requests("google")) == 1
    reason = "an empty answer" if not answer else "the Arabic sent back"
    assert f"Google Translate unavailable ({reason}); using the offline local model" in caplog.text
