"""One run of the tiny world per test module: sandbox over HTTP, extract-load, dbt, publish."""

from __future__ import annotations

import pytest

from pipelines.run import run
from tests.conftest import settings_for, start_world


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """``(world, server, settings, summary)`` after a first full run; module scope, so a
    module's incremental tests may advance its world without touching another's."""
    world, server = start_world(seed=7, size="tiny")
    settings = settings_for(server, world, tmp_path_factory.mktemp("wh"))
    summary = run(settings, log=lambda m: None)
    yield world, server, settings, summary
    server.stop()
