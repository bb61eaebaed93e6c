"""Prefect orchestration of tarjama's pure stages (see ``flows.pipeline``)."""

from flows.environment import configure

configure()
