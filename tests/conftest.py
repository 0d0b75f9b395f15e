"""Shared fixtures: a world, its sandbox over real HTTP, and settings pointing at it."""

from __future__ import annotations

import pytest

from pipelines import config
from pipelines.cli import SANDBOX_TOKENS, write_sandbox_config
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.server import SandboxServer


@pytest.fixture(autouse=True, scope="session")
def _sandbox_secrets():
    """Credentials the dlt way: environment variables, as a deployment would set them."""
    mp = pytest.MonkeyPatch()
    for key, value in SANDBOX_TOKENS.items():
        mp.setenv(key, value)
    yield
    mp.undo()


def start_world(seed: int = 7, size: str = "tiny", **server_kw):
    world = world_mod.generate(seed, size)
    server = SandboxServer(world, **server_kw)
    server.start()
    return world, server


def settings_for(server, world, base) -> config.Settings:
    return config.load(write_sandbox_config(server.url, world, base))
