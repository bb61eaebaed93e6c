"""Prefect orchestration of tarjama's pure stages, installed as ``tarjama.flows``.

This folder is the package ``tarjama.flows`` (wheels carry it so, and editable installs find it here:
``hatch_build.py``): the flows and tasks in :mod:`tarjama.flows.pipeline`, rate limits and Secret
blocks in :mod:`tarjama.flows.limits`, and the Prefect settings a command applies before it imports
Prefect in :mod:`tarjama.flows.environment`. Importing it changes nothing.
"""
