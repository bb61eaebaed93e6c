"""The flow ``tarjama serve`` deploys: the pipeline's flow, with the server's :class:`~tarjama.serve.UiRunPolicy`
applied to each run's parameters before the run starts.

Prefect's engine validates a run's parameters before calling the flow; :class:`PolicedFlow` applies
the policy right after, so a run asking for another output folder, a file outside the allowed
folders or an engine URL of its own fails before anything is read or sent, with the reason on the
run's page.
"""

from __future__ import annotations

import copy
from typing import Any

from prefect import Flow

from tarjama.serve import UiRunPolicy


class PolicedFlow(Flow[Any, Any]):
    policy: UiRunPolicy

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return self.policy.apply(super().validate_parameters(parameters))


def policed(flow: Flow[Any, Any], policy: UiRunPolicy) -> PolicedFlow:
    """``flow`` unchanged but for the policy (its options, task runner and name are kept)."""
    guarded = copy.copy(flow)
    guarded.__class__ = PolicedFlow
    assert isinstance(guarded, PolicedFlow)
    guarded.policy = policy
    return guarded
