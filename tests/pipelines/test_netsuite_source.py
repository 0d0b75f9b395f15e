"""The NetSuite source against the sandbox's SuiteTalk REST layer over loopback HTTP, with small
hand-made SuiteQL tables, loaded by a real dlt pipeline into a temporary DuckDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
import pytest
import requests
from dlt.pipeline.exceptions import PipelineStepFailed
from requests_oauthlib import OAuth1
from starlette.applications import Starlette

from pipelines import config, run
from pipelines.http import STATS, ApiClient, CallStats
from pipelines.oauth1 import OAuth1Signer, parse_authorization
from pipelines.sandbox.common import json_response
from pipelines.sandbox.netsuite import NetSuiteAccount, NetSuiteApi
from pipelines.sandbox.netsuite_auth import SANDBOX_CREDENTIALS
from pipelines.sandbox.server import LoopbackServer
from pipelines.sources import netsuite
from pipelines.sources.netsuite import NetSuiteCredentialsMissing, netsuite_source
from tests.pipelines.loopback import Provider

ACCOUNT = "1234567_SB1"
CONN_ID = "ns-1"
T0 = datetime(2024, 6, 1, 10, 0, 0)  # naive columns hold UTC, as in the sandbox


def ts(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute)


def money(values: list[str | None], scale: int = 2) -> pl.Series:
    return pl.Series([Decimal(v) if v is not None else None for v in values],
                     dtype=pl.Decimal(18, scale))


def _tables() -> dict[str, pl.DataFrame]:
    return {
        "transaction": pl.DataFrame({
            "id": [101, 102, 103, 104],
            "tranid": ["B-101", "C-102", "J-103", "P-104"],
            "type": ["VendBill", "VendCred", "Journal", "VendPymt"],
            "status": ["A", "A", "B", "Z"],
            "trandate": [date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3), date(2024, 6, 4)],
            "duedate": [date(2024, 7, 1), None, None, None],
            "entity": [1, 2, None, 1],
            "memo": ["Footings", "Short delivery", None, "Pay B-101"],
            "externalid": ["procore-requisition-9", None, None, None],
            "foreigntotal": money(["2160.50", "-150.25", "500.00", "2160.50"]),
            "posting": ["T", "T", "T", "T"],
            "createddate": [ts(1, 9), ts(2, 9), ts(3, 9), ts(4, 9)],
            "lastmodifieddate": [ts(1), ts(2), ts(3), ts(4)],
        }),
        "transactionline": pl.DataFrame({
            "transaction": [101, 101, 101, 101, 102, 102, 103, 103, 103, 104],
            "id": [0, 1, 2, 3, 0, 1, 0, 1, 2, 0],
            "linesequencenumber": [0, 1, 2, 3, 0, 1, 0, 1, 2, 0],
            "mainline": ["T", "F", "F", "F", "T", "F", "T", "F", "F", "T"],
            "taxline": ["F", "F", "F", "T", "F", "F", "F", "F", "F", "F"],
            "item": [None, None, 10, None, None, 10, None, None, None, None],
            "itemtype": [None, None, "OthCharge", None, None, "OthCharge", None, None, None,
                         None],
            "entity": [1, 7731, 7731, None, 2, 7731, None, 7731, None, 1],
            "memo": [None, "Pour", "Concrete", "Tax", None, "Credit", None, "WIP", "WIP", None],
            "quantity": money([None, None, "12", None, None, "-1", None, None, None, None], 4),
            "rate": money([None, None, "96.6875", None, None, "150.25", None, None, None, None],
                          4),
            "netamount": money(["2160.50", "1000.25", "1160.25", "0.00", "-150.25", "-150.25",
                                "0.00", "500.00", "-500.00", "2160.50"]),
            "expenseaccount": [None, 384, 384, None, None, 384, None, 220, 384, None],
            "linelastmodifieddate": [ts(1)] * 4 + [ts(2)] * 2 + [ts(3)] * 3 + [ts(4)],
        }),
        "vendor": pl.DataFrame({
            "id": [1, 2], "entityid": ["V-1", "V-2"],
            "companyname": ["Ridge Concrete", "Summit Steel"],
            "phone": ["555-0101", None], "email": ["ap@ridge.example", None],
            "isperson": ["F", "F"], "isinactive": ["F", "T"],
            "externalid": ["procore-company-77", None],
            "datecreated": [ts(1, 8), ts(1, 8)], "lastmodifieddate": [ts(1, 8, 30), ts(2, 8)],
        }),
        "item": pl.DataFrame({
            "id": [10], "itemid": ["P-2003-03-100.L"], "displayname": ["Concrete labour"],
            "itemtype": ["OthCharge"], "subtype": ["Purchase"], "isinactive": ["F"],
            "externalid": ["procore-wbs-55"], "createddate": [ts(1, 7)],
            "lastmodifieddate": [ts(1, 7)],
        }),
        "job": pl.DataFrame({
            "id": [7731, 7732], "entityid": ["P-2003", "P-2003-A"],
            "companyname": ["Lot 4", "Lot 4 annex"], "altname": ["Lot 4", None],
            "parent": [None, 7731], "isinactive": ["F", "F"],
            "externalid": ["procore-project-5", None], "datecreated": [ts(1, 6), ts(1, 6)],
            "lastmodifieddate": [ts(1, 6), ts(1, 6, 5)],
        }),
        "nexttransactionlinelink": pl.DataFrame({
            "previousdoc": [101], "previousline": [0], "previoustype": ["VendBill"],
            "nextdoc": [104], "nextline": [0], "nexttype": ["VendPymt"],
            "linktype": ["Payment"], "foreignamount": money(["2160.50"]),
        }),
        "deletedrecord": pl.DataFrame({
            "recordid": [99], "recordtypename": ["Vendor Bill"], "name": ["B-099"],
            "deleteddate": [ts(5, 8, 30)],
        }),
    }


@dataclass
class Sandbox:
    api: NetSuiteApi
    provider: Provider
    base: str  # …/services/rest
    tmp: Any

    def settings(self, **extract: int) -> config.Settings:
        return config.parse({
            "warehouse": {"path": str(self.tmp / "wh.duckdb"),
                          "published": str(self.tmp / "published")},
            "procore": {"base_url": "http://127.0.0.1:1/procore"},
            "extract": {"page_size": 1000, "lag_seconds": 300, **extract},
            "connections": [{"id": CONN_ID, "erp": "netsuite", "procore_company_id": 1,
                             "erp_base_url": self.base, "erp_tenant_id": ACCOUNT}]})

    def load(self, full_refresh: bool = False, **extract: int) -> dict[str, int]:
        """One extract-load like ``costbridge run``; rows read per table."""
        settings = self.settings(**extract)
        STATS.reset()
        pipeline = run._pipeline("netsuite", settings)
        pipeline.run(netsuite_source(settings.active("netsuite"), page_size=settings.page_size,
                                     lag_seconds=settings.lag_seconds,
                                     full_refresh=full_refresh),
                     loader_file_format="parquet")
        return {r: n for (s, r), n in STATS.rows.items() if s == "netsuite"}

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.tmp / "wh.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture()
def serve(tmp_path) -> Iterator[Callable[..., Sandbox]]:
    servers: list[LoopbackServer] = []

    def start(tables: dict[str, pl.DataFrame] | None = None, api_class: type = NetSuiteApi,
              **api_kw: Any) -> Sandbox:
        provider = Provider(tables or _tables())
        api = api_class({ACCOUNT: NetSuiteAccount(ACCOUNT, [SANDBOX_CREDENTIALS], provider)},
                        **api_kw)
        server = LoopbackServer(Starlette(routes=api.routes())).start()
        servers.append(server)
        port = server.port
        return Sandbox(api, provider,
                       f"http://127.0.0.1:{port}/netsuite/1234567-sb1/services/rest", tmp_path)

    yield start
    for server in servers:
        server.stop()


# -- signing -------------------------------------------------------------------------------------
def test_signer_matches_an_independent_oauth1_client() -> None:
    """Same nonce and timestamp: our signature equals requests-oauthlib's, byte for byte."""
    c = SANDBOX_CREDENTIALS
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"
    kw = {"params": {"limit": 1000, "offset": 0, "q": "a b+c~"}, "json": {"q": "SELECT 1"}}
    ours = requests.Request("POST", url, auth=OAuth1Signer(
        ACCOUNT, c, clock=lambda: 1719830400, nonce=lambda: "n" * 24), **kw).prepare()
    theirs = requests.Request("POST", url, auth=OAuth1(
        c.consumer_key, c.consumer_secret, c.token_id, c.token_secret,
        signature_method="HMAC-SHA256", realm=ACCOUNT, nonce="n" * 24,
        timestamp="1719830400"), **kw).prepare()
    a = parse_authorization(ours.headers["Authorization"])
    b = parse_authorization(theirs.headers["Authorization"].decode("ascii"))
    assert a is not None and b is not None
    assert a["realm"] == ACCOUNT and a["oauth_signature_method"] == "HMAC-SHA256"
    assert a["oauth_signature"] == b["oauth_signature"]
    assert a == b


# -- full load -----------------------------------------------------------------------------------
def test_full_load_types_every_table_from_suiteql_text(serve) -> None:
    ns = serve()
    read = ns.load()
    assert read == {"transactions": 4, "transaction_lines": 5, "vendors": 2, "items": 1,
                    "jobs": 2, "transaction_links": 1, "deleted_records": 1}
    bill = ns.query("select id, tranid, type, status, trandate, duedate, entity, memo, "
                    "externalid, foreigntotal, posting, createddate, lastmodifieddate, "
                    "connection_id from raw_netsuite.transactions order by id")
    assert bill[0] == (101, "B-101", "VendBill", "A", date(2024, 6, 1), date(2024, 7, 1), 1,
                       "Footings", "procore-requisition-9", Decimal("2160.50"), "T",
                       datetime(2024, 6, 1, 9, tzinfo=UTC), datetime(2024, 6, 1, 10, tzinfo=UTC),
                       CONN_ID)
    assert bill[1][9] == Decimal("-150.25") and bill[1][5] is None  # omitted null → NULL
    assert bill[2][6] is None and bill[2][7] is None  # a journal has no entity or memo
    lines = ns.query("select transaction, id, linesequencenumber, item, itemtype, entity, "
                     "quantity, rate, netamount, expenseaccount, mainline, taxline "
                     "from raw_netsuite.transaction_lines order by transaction, id")
    # Main lines (id 0) and the tax line are not loaded; a payment has no other lines.
    assert [(r[0], r[1]) for r in lines] == [(101, 1), (101, 2), (102, 1), (103, 1), (103, 2)]
    assert lines[1] == (101, 2, 2, 10, "OthCharge", 7731, Decimal("12"), Decimal("96.6875"),
                        Decimal("1160.25"), 384, "F", "F")
    assert lines[0][3] is None and lines[0][8] == Decimal("1000.25")
    assert [r[8] for r in lines[3:]] == [Decimal("500.00"), Decimal("-500.00")]
    assert ns.query("select id, email, isinactive, datecreated from raw_netsuite.vendors "
                    "order by id") == [
        (1, "ap@ridge.example", "F", datetime(2024, 6, 1, 8, tzinfo=UTC)),
        (2, None, "T", datetime(2024, 6, 1, 8, tzinfo=UTC))]
    assert ns.query("select id, itemid, itemtype, subtype, externalid from raw_netsuite.items"
                    ) == [(10, "P-2003-03-100.L", "OthCharge", "Purchase", "procore-wbs-55")]
    assert ns.query("select id, entityid, parent from raw_netsuite.jobs order by id") == [
        (7731, "P-2003", None), (7732, "P-2003-A", 7731)]
    assert ns.query("select previousdoc, previousline, previoustype, nextdoc, nexttype, "
                    "linktype, foreignamount, connection_id from raw_netsuite.transaction_links"
                    ) == [(101, 0, "VendBill", 104, "VendPymt", "Payment", Decimal("2160.50"),
                           CONN_ID)]
    assert ns.query("select recordid, recordtypename, name, deleteddate, connection_id "
                    "from raw_netsuite.deleted_records") == [
        (99, "Vendor Bill", "B-099", datetime(2024, 6, 5, 8, 30, tzinfo=UTC), CONN_ID)]


def test_raw_columns_are_typed_whatever_a_page_holds(serve) -> None:
    ns = serve()
    ns.load(page_size=1)  # one row a page: many pages hold only nulls in some column
    types = dict(((t, c), d) for t, c, d in ns.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw_netsuite'"))
    assert types[("transactions", "id")] == "BIGINT"
    assert types[("transactions", "foreigntotal")] == "DECIMAL(38,9)"
    assert types[("transactions", "trandate")] == "DATE"
    assert types[("transactions", "lastmodifieddate")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("transactions", "posting")] == "VARCHAR"
    assert types[("transactions", "_dlt_load_id")] == "VARCHAR"
    # The first line's page has no item, quantity or due date; the columns are typed anyway.
    assert types[("transaction_lines", "item")] == "BIGINT"
    assert types[("transactions", "duedate")] == "DATE"
    assert types[("transaction_lines", "quantity")] == "DECIMAL(38,9)"
    assert types[("jobs", "parent")] == "BIGINT"
    assert ns.query("select count(*), sum(netamount) from raw_netsuite.transaction_lines") == [
        (5, Decimal("2010.25"))]  # 1000.25 + 1160.25 - 150.25 + 500 - 500
    # The header timestamp lines are selected with is not a raw column.
    assert ("transaction_lines", "headerlastmodified") not in types


# -- incremental ---------------------------------------------------------------------------------
def _load_ids(ns: Sandbox, table: str, key: str = "id") -> dict[int, str]:
    return dict(ns.query(f"select {key}, _dlt_load_id from raw_netsuite.{table}"))


def test_incremental_rereads_only_what_changed(serve) -> None:
    ns = serve()
    ns.load(lag_seconds=0)
    first = _load_ids(ns, "transactions")
    ns.provider.update("transaction", pl.col("id") == 102, memo="Credit corrected",
                       lastmodifieddate=ts(10))
    read = ns.load(lag_seconds=0)
    # From the newest time seen (104's, re-read by >=) on: 104 and the changed 102.
    assert read["transactions"] == 2
    # Lines follow the newest header they saw (103's: 104 has no lines): 103's and 102's.
    assert read["transaction_lines"] == 3
    # Unchanged tables re-read only their newest row (the cursor is inclusive).
    assert read["vendors"] == read["jobs"] == read["items"] == read["deleted_records"] == 1
    assert read["transaction_links"] == 1  # full refresh every run
    second = _load_ids(ns, "transactions")
    assert second[101] == first[101] and second[103] == first[103]  # untouched rows
    assert second[102] != first[102]
    assert ns.query("select memo from raw_netsuite.transactions where id = 102") == [
        ("Credit corrected",)]
    assert ns.query("select count(*) from raw_netsuite.transactions") == [(4,)]
    # A third run starts from 102's new time.
    assert ns.load(lag_seconds=0)["transactions"] == 1


def test_the_lag_rereads_recent_rows(serve) -> None:
    ns = serve()
    ns.load(lag_seconds=0)
    # The cursor is 104's time (June 4); a day of lag reaches back to 103 (June 3, 10:00).
    assert ns.load(lag_seconds=86_400)["transactions"] == 2


def test_a_reloaded_transaction_replaces_all_its_lines(serve) -> None:
    ns = serve()
    ns.load()
    lines = ns.provider.frames["transactionline"]
    ns.provider.frames["transactionline"] = lines.filter(
        ~((pl.col("transaction") == 101) & (pl.col("id") == 2)))
    ns.provider.update("transaction", pl.col("id") == 101, lastmodifieddate=ts(11))
    ns.load()
    assert ns.query("select transaction, id from raw_netsuite.transaction_lines "
                    "order by transaction, id") == [(101, 1), (102, 1), (103, 1), (103, 2)]


def test_deletions_arrive_incrementally(serve) -> None:
    ns = serve()
    ns.load(lag_seconds=0)
    deleted = ns.provider.frames["deletedrecord"]
    ns.provider.frames["deletedrecord"] = pl.concat([deleted, pl.DataFrame({
        "recordid": [2], "recordtypename": ["Vendor"], "name": ["Summit Steel"],
        "deleteddate": [ts(6)]})])
    assert ns.load(lag_seconds=0)["deleted_records"] == 2  # the boundary row and the new one
    assert ns.query("select recordtypename, recordid from raw_netsuite.deleted_records "
                    "order by deleteddate") == [("Vendor Bill", 99), ("Vendor", 2)]


def test_full_refresh_replaces_tables_whole(serve) -> None:
    ns = serve()
    ns.load()
    ns.provider.frames["vendor"] = ns.provider.frames["vendor"].filter(pl.col("id") == 1)
    ns.load()  # incremental: a hard-deleted vendor stays (deleted_records says it went)
    assert ns.query("select count(*) from raw_netsuite.vendors") == [(2,)]
    read = ns.load(full_refresh=True)
    assert read["vendors"] == 1 and read["transactions"] == 4
    assert ns.query("select id from raw_netsuite.vendors") == [(1,)]


# -- the 100,000-row cap -------------------------------------------------------------------------
def _many(n_txn: int, lines_per_txn: int) -> dict[str, pl.DataFrame]:
    tables = _tables()
    ids = list(range(1000, 1000 + n_txn))
    # Many rows share one time, so only the key orders them.
    stamps = [T0 + timedelta(minutes=i // 7) for i in range(n_txn)]
    base = tables["transaction"].head(1)
    tables["transaction"] = pl.concat([base] * n_txn).with_columns(
        id=pl.Series(ids), tranid=pl.Series([f"B-{i}" for i in ids]),
        lastmodifieddate=pl.Series(stamps))
    line = tables["transactionline"].filter(pl.col("id") == 1).head(1)
    tables["transactionline"] = pl.concat([line] * (n_txn * lines_per_txn)).with_columns(
        transaction=pl.Series([i for i in ids for _ in range(lines_per_txn)]),
        id=pl.Series([k + 1 for _ in ids for k in range(lines_per_txn)]))
    tables["vendor"] = pl.concat([tables["vendor"].head(1)] * 120).with_columns(
        id=pl.Series(range(1, 121)), lastmodifieddate=pl.Series([T0] * 120))
    return tables


def test_reads_under_a_lowered_cap_load_every_row_exactly_once(serve, monkeypatch) -> None:
    cap = 50
    monkeypatch.setattr(netsuite, "MAX_RESULTS", cap)
    ns = serve(_many(n_txn=120, lines_per_txn=3), max_results=cap)
    read = ns.load()  # page_size 1000: the cap bounds every query
    assert read["transactions"] == 120 and read["vendors"] == 120
    assert read["transaction_lines"] == 360
    assert STATS.calls[("netsuite", "transactions")] == 3  # 50 + 50 + 20
    assert STATS.calls[("netsuite", "transaction_lines")] == 8  # 7 × 50 + 10
    assert ns.query("select count(*), count(distinct id), min(id), max(id) "
                    "from raw_netsuite.transactions") == [(120, 120, 1000, 1119)]
    assert ns.query("select count(*), count(distinct (transaction, id)) "
                    "from raw_netsuite.transaction_lines") == [(360, 360)]
    assert ns.query("select count(distinct id) from raw_netsuite.vendors") == [(120,)]


def test_pages_smaller_than_the_cap_read_everything(serve) -> None:
    ns = serve(_many(n_txn=45, lines_per_txn=2))
    read = ns.load(page_size=10)
    assert read["transaction_lines"] == 90
    assert STATS.calls[("netsuite", "transaction_lines")] == 9
    assert ns.query("select count(distinct (transaction, id)) "
                    "from raw_netsuite.transaction_lines") == [(90,)]


# -- failures ------------------------------------------------------------------------------------
def _client(ns: Sandbox, slept: list[float]) -> ApiClient:
    return ApiClient("netsuite", ns.base, {}, sleep=slept.append, stats=CallStats(),
                     auth=OAuth1Signer(ACCOUNT, SANDBOX_CREDENTIALS))


def test_concurrency_429_is_retried_with_exponential_backoff(serve) -> None:
    ns = serve()
    ns.api.gate.inject("429", 3)  # CONCURRENCY_LIMIT_EXCEEDED, no Retry-After
    slept: list[float] = []
    client = _client(ns, slept)
    pages = list(netsuite.read_pages(client, netsuite.QUERIES["transactions"], None, 1000))
    assert slept == [0.5, 1.0, 2.0]
    assert client.stats.retries[("netsuite", "transactions")] == 3
    assert [item["id"] for item in pages[0]] == ["101", "102", "103", "104"]


def test_429_during_a_load_still_loads_everything(serve) -> None:
    ns = serve()
    ns.api.gate.inject("429", 1)
    assert ns.load()["transactions"] == 4
    assert STATS.retries[("netsuite", "transactions")] == 1


class NoDeletedRecords(NetSuiteApi):
    """An account whose role may not read deletedrecord (403 INSUFFICIENT_PERMISSION)."""

    def suiteql(self, state: Any, request: Any, raw: bytes) -> Any:
        if b"deletedrecord" in raw:
            return json_response({"type": "https://www.rfc-editor.org/rfc/rfc9110.html",
                                  "title": "Forbidden", "status": 403, "o:errorDetails": [
                                      {"detail": "Permission Violation",
                                       "o:errorCode": "INSUFFICIENT_PERMISSION"}]}, 403)
        return super().suiteql(state, request, raw)


def test_a_forbidden_table_is_skipped_and_reported_unless_full_refresh(serve) -> None:
    ns = serve(api_class=NoDeletedRecords)
    read = ns.load()
    assert read["transactions"] == 4 and "deleted_records" not in read
    assert STATS.skipped == [f"netsuite {CONN_ID} deleted_records: HTTP 403"]
    with pytest.raises(PipelineStepFailed, match="HTTP 403"):
        ns.load(full_refresh=True)  # it replaces tables whole: none may be missing


def _failure(ns: Sandbox) -> str:
    with pytest.raises(PipelineStepFailed) as err:
        ns.load()
    return run._root_cause(err.value)


def test_bad_credentials_name_the_connection_and_the_secret(serve, monkeypatch) -> None:
    ns = serve()
    monkeypatch.setenv("SOURCES__NETSUITE__TOKEN_SECRET", "wrong-secret-123")
    message = _failure(ns)
    assert f"netsuite connection '{CONN_ID}' (account {ACCOUNT})" in message
    assert "401 INVALID_LOGIN" in message and "sources.netsuite.token_secret" in message
    assert "wrong-secret-123" not in message and SANDBOX_CREDENTIALS.token_secret not in message


def test_per_connection_credentials_override_the_shared_ones(serve, monkeypatch) -> None:
    ns = serve()
    monkeypatch.setenv("SOURCES__NETSUITE__TOKEN_SECRET", "wrong-secret-123")
    monkeypatch.setenv("SOURCES__NETSUITE__NS_1__TOKEN_SECRET", SANDBOX_CREDENTIALS.token_secret)
    assert ns.load()["transactions"] == 4
    monkeypatch.setenv("SOURCES__NETSUITE__NS_1__TOKEN_ID", "someone-elses-token")
    assert "sources.netsuite.ns_1.token_id" in _failure(ns)


def test_missing_credentials_are_named_before_any_request(serve, monkeypatch) -> None:
    ns = serve()
    monkeypatch.delenv("SOURCES__NETSUITE__TOKEN_ID")
    with pytest.raises(NetSuiteCredentialsMissing, match=r"'ns-1': no token_id; set "
                       r"sources\.netsuite\.token_id"):
        netsuite_source(ns.settings().active("netsuite"))
    with pytest.raises(run.RunFailed, match="a credential is missing.*token_id"):
        run.sources(ns.settings())
    assert ns.api.gate.snapshot()["total"] == 0


# -- wiring --------------------------------------------------------------------------------------
def test_run_wires_netsuite_with_replace_on_full_refresh(serve) -> None:
    ns = serve()
    srcs = run.sources(ns.settings())
    assert list(srcs) == ["ops", "netsuite", "procore"]
    res = srcs["netsuite"].resources
    assert sorted(res) == sorted(netsuite.QUERIES)
    assert res["transactions"].write_disposition == "merge"
    assert res["transaction_links"].write_disposition == "replace"
    assert res["transaction_lines"].compute_table_schema()["columns"]["transaction"].get(
        "merge_key") is True
    full = run.sources(ns.settings(), full_refresh=True)["netsuite"].resources
    assert {r.write_disposition for r in full.values()} == {"replace"}


def test_suiteql_selects_timestamps_as_text_and_pages_by_key() -> None:
    q = netsuite.QUERIES["transaction_lines"]
    sql = netsuite.suiteql(q, datetime(2024, 6, 1, 12, 0, tzinfo=UTC),
                           {"transaction": "101", "id": "2"})
    assert "TO_CHAR(t.lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS headerlastmodified" in sql
    assert "(t.lastmodifieddate >= TO_TIMESTAMP('2024-06-01 12:00:00', " \
           "'YYYY-MM-DD HH24:MI:SS'))" in sql
    assert "((tl.transaction > 101) OR (tl.transaction = 101 AND tl.id > 2))" in sql
    assert sql.endswith("ORDER BY tl.transaction, tl.id")


@pytest.mark.parametrize("tenant, ok", [
    ("1234567", True), ("1234567_SB1", True), ("1234567_RP2", True), ("TSTDRV1234567", True),
    ("1234567-sb1", False), ("4b1f6c2e-0000-4000-8000-000000000000", False), ("", False)])
def test_config_checks_the_netsuite_account_id(tenant: str, ok: bool) -> None:
    data = {"procore": {"base_url": "http://127.0.0.1:1/procore"},
            "connections": [{"id": "n", "erp": "netsuite", "procore_company_id": 1,
                             "erp_base_url": "http://x/services/rest", "erp_tenant_id": tenant}]}
    if ok:
        assert config.parse(data).active("netsuite")[0].erp_tenant_id == tenant
    else:
        with pytest.raises(config.ConfigError, match=r"connections\[0\]\.erp_tenant_id must be "
                           r"a NetSuite account id"):
            config.parse(data)


def test_an_unexpected_value_fails_the_page_naming_the_table() -> None:
    q = netsuite.QUERIES["transactions"]
    frame = netsuite.to_frame(q, [{"links": [], "id": "7", "lastmodifieddate":
                                   "2024-06-01 10:00:00", "foreigntotal": "12.5"}])
    assert frame.row(0, named=True)["foreigntotal"] == Decimal("12.5")
    assert frame.row(0, named=True)["memo"] is None
    with pytest.raises(ValueError, match="netsuite transactions: a value does not fit"):
        netsuite.to_frame(q, [{"id": "7", "lastmodifieddate": "6/1/2024 10:00 am"}])
