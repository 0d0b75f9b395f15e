"""Fixtures for the app's browser tests over the hand-worked snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fixtures_snapshot
from tests.browser import run_app


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the hand-worked snapshot of ``tests/fixtures_snapshot.py``."""
    root = tmp_path_factory.mktemp("app")
    published = fixtures_snapshot.build_published(root)
    with run_app(published, root / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="session")
def ac_app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over the hand-worked snapshot with the Acumatica connection added (AC-21)."""
    root = tmp_path_factory.mktemp("app_ac")
    published = fixtures_snapshot.build_published(root, acumatica=True)
    with run_app(published, root / "streamlit.log") as url:
        yield url


@pytest.fixture
def empty_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app over a published directory that holds nothing yet: (URL, that directory)."""
    root = tmp_path_factory.mktemp("app_empty")
    with run_app(root / "published", root / "streamlit.log") as url:
        yield url, root / "published"
