"""Shared fixtures: a world, its sandbox over real HTTP, and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from pipelines import config
from pipelines.cli import SANDBOX_TOKENS, write_sandbox_config
from pipelines.sandbox import world as world_mod
from pipelines.sandbox.server import SandboxServer
from tests.browser import CHROMIUM, CHROMIUM_ARGS


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Debian chromium for the session (one sync Playwright loop per process)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Debian chromium not found at {CHROMIUM}: browser tests need it "
                    "(`apt-get install chromium`); Playwright's own download does not work here.")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
