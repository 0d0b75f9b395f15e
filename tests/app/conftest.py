"""Fixtures for the app's browser tests over the hand-worked snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines.publish import publish
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


@pytest.fixture(scope="session")
def history_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app over three snapshots, oldest first: ``fx.OLD_SNAPSHOT_ID`` (Xero and NetSuite,
    no issue 5 tables), the hand-worked one with Acumatica (run "test", every connection
    balanced), and the current one (run "unbalanced") where NetSuite's cost lines do not
    balance: one unsyncable line of 99.99 lost. Yields (URL, published directory)."""
    root = tmp_path_factory.mktemp("app_history")
    published = fixtures_snapshot.build_published_history(root, acumatica=True)
    warehouse = fixtures_snapshot.build_warehouse(root / "unbalanced.duckdb", acumatica=True)
    con = duckdb.connect(str(warehouse))
    try:
        # ns-bolt: 6 source lines, 1,002,174.00; buckets now 1 + 1 + 1 + 2 = 5 lines and
        # 249,999.01 + 750,000.00 + 1,000.00 + 1,075.00 = 1,002,074.01: 1 line, 99.99 short.
        con.execute("""
            update reports.rpt_cost_line_balance
            set unsyncable_lines = 1, unsyncable_amount = 1000.00, difference_lines = 1,
                difference_amount = 99.99, is_balanced = false
            where connection_id = 'ns-bolt'
        """)
    finally:
        con.close()
    publish(warehouse, published, run_id="unbalanced")
    with run_app(published, root / "streamlit.log") as url:
        yield url, published
