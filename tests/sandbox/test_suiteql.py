"""SuiteQL engine: Oracle-flavoured queries over small hand-made NetSuite2 tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from pipelines.sandbox.suiteql import SuiteQL, SuiteQLError, render_value

MONEY = pl.Decimal(12, 2)
PREFIX = "Invalid search query. Detailed unprocessed description follows. "


def _transactions() -> pl.DataFrame:
    # Upper-case column names on purpose: the engine must serve them lower-case.
    return pl.DataFrame({
        "ID": [101, 102, 103, 104, 105, 106, 107],
        "TranId": ["SUP-1", "SUP-2", "SUP-3", "JE-1", "SUP-4", "SUP-5", None],
        "type": ["VendBill", "VendBill", "VendCred", "Journal", "VendBill", "VendBill",
                 "VendPymt"],
        "status": ["A", "B", "A", None, "A", "D", "B"],
        "trandate": [date(2024, 5, 1), date(2024, 5, 20), date(2024, 6, 1), date(2024, 6, 2),
                     date(2024, 6, 3), date(2024, 6, 9), date(2024, 6, 10)],
        "entity": [1, 1, 2, 3, 2, 1, 1],
        "foreigntotal": pl.Series([Decimal("2160.00"), Decimal("0.50"), Decimal("150.00"),
                                   None, Decimal("12.30"), Decimal("100.00"),
                                   Decimal("2160.00")], dtype=MONEY),
        "posting": [True, True, True, True, False, False, True],
        "memo": ["Lot 4 footings", None, "Short delivery", "WIP reclass", "a b+c~é", None, None],
        "lastmodifieddate": [
            datetime(2024, 5, 1, 9, 0, 0), datetime(2024, 5, 31, 23, 59, 59),
            datetime(2024, 6, 1, 0, 0, 0), datetime(2024, 6, 1, 0, 0, 1),
            datetime(2024, 6, 3, 14, 30, 5, 250000), datetime(2024, 6, 2, 8, 15, 0),
            datetime(2024, 6, 10, 12, 0, 0)],
    })


def _lines() -> pl.DataFrame:
    return pl.DataFrame({
        "id": [0, 1, 2, 0, 1, 0, 1, 0, 1],
        "transaction": [101, 101, 101, 102, 102, 105, 105, 103, 103],
        "mainline": ["T", "F", "F", "T", "F", "T", "F", "T", "F"],
        "item": [None, 912, 913, None, 912, None, 914, None, 912],
        "quantity": [None, 12.0, 1.5, None, 1.0, None, 3.0, None, -1.0],
        "rate": pl.Series([None, Decimal("180.00"), Decimal("0.00"), None, Decimal("0.50"),
                           None, Decimal("4.10"), None, Decimal("150.00")], dtype=MONEY),
        "netamount": pl.Series([None, Decimal("2160.00"), Decimal("0.00"), None,
                                Decimal("0.50"), None, Decimal("12.30"), None,
                                Decimal("-150.00")], dtype=MONEY),
        "memo": [None, "Footing pour", "Delivery", None, "Pins", None, "Rebar", None, "Credit"],
    })


def _vendors() -> pl.DataFrame:
    return pl.DataFrame({
        "id": [1, 2, 3],
        "entityid": ["V-001", "V-002", "V-003"],
        "companyname": ["Ridge Concrete Ltd", "Acme Steel", "Internal"],
        "isinactive": [False, False, True],
        "lastmodifieddate": [datetime(2024, 1, 2, 3, 4, 5), datetime(2024, 6, 5, 12, 0),
                             datetime(2024, 6, 6, 0, 30)],
    })


def _items() -> pl.DataFrame:
    return pl.DataFrame({
        "id": [912, 913, 914],
        "itemid": ["CC-03-300", "CC-01-100", "CC-05-120"],
        "itemtype": ["OthCharge", "Service", "NonInvtPart"],
        "cost": [180.0, None, 4.1],
        "lastmodifieddate": [datetime(2024, 6, 1), datetime(2024, 6, 2), datetime(2024, 6, 3)],
    })


@pytest.fixture(scope="module")
def ql() -> SuiteQL:
    return SuiteQL({"transaction": _transactions(), "TransactionLine": _lines(),
                    "vendor": _vendors(), "item": _items()})


def rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Items without their (always empty) links, after checking those."""
    assert all(item["links"] == [] for item in result["items"])
    return [{k: v for k, v in item.items() if k != "links"} for item in result["items"]]


def error_of(ql: SuiteQL, q: str, limit: int = 1000, offset: int = 0) -> SuiteQLError:
    with pytest.raises(SuiteQLError) as info:
        ql.query(q, limit, offset)
    assert info.value.status == 400
    assert info.value.code == "INVALID_PARAMETER"
    return info.value


# -- the extract queries -------------------------------------------------------------------------
def test_incremental_query_returns_rows_after_the_cursor(ql: SuiteQL) -> None:
    q = ("SELECT id, tranid, TO_CHAR(lastmodifieddate,'YYYY-MM-DD HH24:MI:SS') AS "
         "lastmodifieddate FROM transaction WHERE lastmodifieddate > "
         "TO_TIMESTAMP('2024-06-01 00:00:00','YYYY-MM-DD HH24:MI:SS') "
         "ORDER BY lastmodifieddate, id")
    result = ql.query(q, 1000, 0)
    assert result == {
        "count": 4, "hasMore": False, "offset": 0, "totalResults": 4,
        "items": [
            {"links": [], "id": "104", "tranid": "JE-1",
             "lastmodifieddate": "2024-06-01 00:00:01"},
            {"links": [], "id": "106", "tranid": "SUP-5",
             "lastmodifieddate": "2024-06-02 08:15:00"},
            {"links": [], "id": "105", "tranid": "SUP-4",
             "lastmodifieddate": "2024-06-03 14:30:05"},
            {"links": [], "id": "107", "lastmodifieddate": "2024-06-10 12:00:00"},
        ],
    }


def test_join_transaction_to_lines(ql: SuiteQL) -> None:
    q = ("SELECT t.id AS transaction, t.tranid, tl.id AS line, tl.netamount, tl.memo "
         "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
         "WHERE t.type = 'VendBill' AND tl.mainline = 'F' ORDER BY t.id, tl.id")
    assert rows(ql.query(q, 1000, 0)) == [
        {"transaction": "101", "tranid": "SUP-1", "line": "1", "netamount": "2160.00",
         "memo": "Footing pour"},
        {"transaction": "101", "tranid": "SUP-1", "line": "2", "netamount": "0.00",
         "memo": "Delivery"},
        {"transaction": "102", "tranid": "SUP-2", "line": "1", "netamount": "0.50",
         "memo": "Pins"},
        {"transaction": "105", "tranid": "SUP-4", "line": "1", "netamount": "12.30",
         "memo": "Rebar"},
    ]


def test_lines_of_changed_headers_via_in_subquery_and_item_join(ql: SuiteQL) -> None:
    q = ("SELECT tl.transaction, tl.id, i.itemid, BUILTIN.DF(tl.item) AS itemname "
         "FROM transactionline tl LEFT JOIN item i ON i.id = tl.item "
         "WHERE tl.mainline = 'F' AND tl.transaction IN (SELECT id FROM transaction "
         "WHERE lastmodifieddate >= TO_DATE('2024-06-01','YYYY-MM-DD')) "
         "ORDER BY tl.transaction, tl.id")
    assert rows(ql.query(q, 1000, 0)) == [
        {"transaction": "103", "id": "1", "itemid": "CC-03-300", "itemname": "912"},
        {"transaction": "105", "id": "1", "itemid": "CC-05-120", "itemname": "914"},
    ]


def test_group_by_count_and_nvl(ql: SuiteQL) -> None:
    q = ("SELECT entity, COUNT(*) AS n, NVL(MAX(memo), 'none') AS memo FROM transaction "
         "GROUP BY entity ORDER BY entity")
    assert rows(ql.query(q, 1000, 0)) == [
        {"entity": "1", "n": "4", "memo": "Lot 4 footings"},
        {"entity": "2", "n": "2", "memo": "a b+c~é"},
        {"entity": "3", "n": "1", "memo": "WIP reclass"},
    ]


def test_unaliased_expressions_are_named_expr_n(ql: SuiteQL) -> None:
    result = ql.query("SELECT COUNT(*), MAX(id), type FROM transaction GROUP BY type "
                      "ORDER BY type", 1000, 0)
    assert rows(result)[0] == {"expr1": "1", "expr2": "104", "type": "Journal"}


def test_to_char_formats(ql: SuiteQL) -> None:
    q = ("SELECT TO_CHAR(lastmodifieddate, 'YYYY-MM-DD') AS d, "
         "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS iso, "
         "TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS.FF1') AS ff1, "
         "TO_CHAR(trandate, 'MM/DD/YYYY') AS us FROM transaction WHERE id = 105")
    assert rows(ql.query(q, 1000, 0)) == [
        {"d": "2024-06-03", "iso": "2024-06-03T14:30:05", "ff1": "2024-06-03 14:30:05.2",
         "us": "06/03/2024"}]


def test_to_char_of_null_stays_null(ql: SuiteQL) -> None:
    q = ("SELECT id, TO_CHAR(TO_DATE(NULL), 'YYYY-MM-DD\"T\"HH24:MI:SS') AS x FROM item "
         "WHERE id = 913")
    assert rows(ql.query(q, 1000, 0)) == [{"id": "913"}]


def test_timestamp_literal_with_quoted_t(ql: SuiteQL) -> None:
    q = ("SELECT id FROM vendor WHERE lastmodifieddate >= "
         "TO_TIMESTAMP('2024-06-05T12:00:00', 'YYYY-MM-DD\"T\"HH24:MI:SS') ORDER BY id")
    assert rows(ql.query(q, 1000, 0)) == [{"id": "2"}, {"id": "3"}]


def test_rownum_and_fetch_first_limit_rows(ql: SuiteQL) -> None:
    by_rownum = ql.query("SELECT id FROM transaction WHERE ROWNUM <= 3 ORDER BY id", 1000, 0)
    assert rows(by_rownum) == [{"id": "101"}, {"id": "102"}, {"id": "103"}]
    assert by_rownum["totalResults"] == 3
    fetch = ql.query("SELECT id FROM transaction ORDER BY id DESC FETCH FIRST 5 ROWS ONLY", 2, 2)
    assert rows(fetch) == [{"id": "105"}, {"id": "104"}]
    assert (fetch["totalResults"], fetch["hasMore"]) == (5, True)
    last = ql.query("SELECT id FROM transaction ORDER BY id DESC FETCH FIRST 5 ROWS ONLY", 2, 4)
    assert rows(last) == [{"id": "103"}]
    assert last["hasMore"] is False


def test_correlated_exists_cte_and_union_naming(ql: SuiteQL) -> None:
    q = ("SELECT id FROM transaction t WHERE EXISTS (SELECT 1 FROM transactionline tl "
         "WHERE tl.transaction = t.id AND tl.mainline = 'F') ORDER BY id")
    assert rows(ql.query(q, 1000, 0)) == [{"id": "101"}, {"id": "102"}, {"id": "103"},
                                          {"id": "105"}]
    q = ("WITH c AS (SELECT id, entity FROM transaction WHERE type = 'VendBill') "
         "SELECT v.companyname, COUNT(*) FROM c JOIN vendor v ON v.id = c.entity "
         "GROUP BY v.companyname ORDER BY 1")
    assert rows(ql.query(q, 1000, 0)) == [{"companyname": "Acme Steel", "expr1": "1"},
                                          {"companyname": "Ridge Concrete Ltd", "expr1": "3"}]
    err = error_of(ql, "WITH c AS (SELECT id FROM transaction) SELECT c.nope FROM c")
    assert err.message.endswith("Field 'nope' for record 'c' was not found.")
    union = ql.query("SELECT COUNT(*) FROM vendor UNION ALL SELECT COUNT(*) FROM item", 1000, 0)
    assert rows(union) == [{"expr1": "3"}, {"expr1": "3"}]


def test_identifiers_are_case_insensitive(ql: SuiteQL) -> None:
    q = "select ID, TRANID from TRANSACTION where Status = 'A' order by Id"
    assert [r["tranid"] for r in rows(ql.query(q, 1000, 0))] == ["SUP-1", "SUP-3", "SUP-4"]


def test_union_and_derived_table(ql: SuiteQL) -> None:
    q = ("SELECT x.id FROM (SELECT id, lastmodifieddate FROM vendor UNION ALL "
         "SELECT id, lastmodifieddate FROM item) x WHERE x.lastmodifieddate > "
         "TO_TIMESTAMP('2024-06-02 00:00:00','YYYY-MM-DD HH24:MI:SS') ORDER BY x.id")
    assert rows(ql.query(q, 1000, 0)) == [{"id": "2"}, {"id": "3"}, {"id": "914"}]


# -- values --------------------------------------------------------------------------------------
def test_values_are_text_with_lower_case_keys_and_nulls_left_out(ql: SuiteQL) -> None:
    result = ql.query("SELECT * FROM transaction WHERE id IN (102, 104) ORDER BY id", 1000, 0)
    first, second = result["items"]
    assert list(first) == ["links", "id", "tranid", "type", "status", "trandate", "entity",
                           "foreigntotal", "posting", "lastmodifieddate"]  # memo is null
    assert first == {"links": [], "id": "102", "tranid": "SUP-2", "type": "VendBill",
                     "status": "B", "trandate": "5/20/2024", "entity": "1",
                     "foreigntotal": "0.50", "posting": "T",
                     "lastmodifieddate": "5/31/2024 11:59 pm"}
    assert "status" not in second and "foreigntotal" not in second
    assert second["lastmodifieddate"] == "6/1/2024 12:00 am"


def test_decimals_keep_their_scale_and_floats_have_no_exponent(ql: SuiteQL) -> None:
    q = ("SELECT tl.rate, tl.quantity, tl.netamount, tl.quantity * 0.0000001 AS tiny "
         "FROM transactionline tl WHERE tl.transaction = 101 AND tl.mainline = 'F' "
         "ORDER BY tl.id")
    assert rows(ql.query(q, 1000, 0)) == [
        {"rate": "180.00", "quantity": "12", "netamount": "2160.00", "tiny": "0.0000012"},
        {"rate": "0.00", "quantity": "1.5", "netamount": "0.00", "tiny": "0.00000015"},
    ]


@pytest.mark.parametrize(("value", "text"), [
    (True, "T"), (False, "F"), (7, "7"), (Decimal("2160.00"), "2160.00"),
    (Decimal("1E+3"), "1000"), (1e-7, "0.0000001"), (2.5e20, "250000000000000000000"),
    (date(2024, 6, 1), "6/1/2024"), (datetime(2024, 6, 1, 0, 5), "6/1/2024 12:05 am"),
    (datetime(2024, 12, 31, 12, 0), "12/31/2024 12:00 pm"), ("x", "x"),
])
def test_render_value(value: Any, text: str) -> None:
    assert render_value(value) == text


# -- paging and caps -----------------------------------------------------------------------------
def test_paging_collects_every_row_once(ql: SuiteQL) -> None:
    q = "SELECT id, memo FROM transaction ORDER BY id"
    seen: list[str] = []
    offset, pages = 0, []
    while True:
        page = ql.query(q, 2, offset)
        pages.append((page["count"], page["hasMore"], page["offset"], page["totalResults"]))
        seen += [item["id"] for item in page["items"]]
        if not page["hasMore"]:
            break
        offset += page["count"]
    assert pages == [(2, True, 0, 7), (2, True, 2, 7), (2, True, 4, 7), (1, False, 6, 7)]
    assert seen == ["101", "102", "103", "104", "105", "106", "107"]


def test_offset_past_the_end_is_an_empty_page(ql: SuiteQL) -> None:
    page = ql.query("SELECT id FROM vendor", 5, 10)
    assert page == {"count": 0, "hasMore": False, "offset": 10, "totalResults": 3, "items": []}


def test_result_cap() -> None:
    capped = SuiteQL({"transaction": _transactions()}, max_results=5)
    q = "SELECT id FROM transaction ORDER BY id"
    page = capped.query(q, 2, 2)
    assert (page["count"], page["hasMore"], page["totalResults"]) == (2, True, 5)
    err = error_of(capped, q, 2, 4)  # rows 5 and 6 lie beyond the cap
    assert err.message == (PREFIX + "Search error occurred: The query returned more than 5 "
                           "results. Narrow the query (e.g. by date or id range) to page "
                           "through it.")
    # A narrower query under the cap pages freely, even with a page larger than the cap.
    small = capped.query("SELECT id FROM transaction WHERE id < 104", 1000, 0)
    assert (small["count"], small["hasMore"], small["totalResults"]) == (3, False, 3)


def test_default_cap_is_100000_rows() -> None:
    big = SuiteQL({"transaction": pl.DataFrame({"id": range(100_002)})})
    q = "SELECT id FROM transaction ORDER BY id"
    last = big.query(q, 1000, 99_000)
    assert (last["count"], last["hasMore"], last["totalResults"]) == (1000, True, 100_000)
    assert last["items"][-1]["id"] == "99999"
    assert "more than 100000 results" in error_of(big, q, 1000, 100_000).message


@pytest.mark.parametrize(("limit", "offset", "param"), [
    (1001, 0, "limit"), (0, 0, "limit"), (-5, 0, "limit"), (10, 5, "offset"), (10, -10, "offset"),
])
def test_bad_limit_or_offset(ql: SuiteQL, limit: int, offset: int, param: str) -> None:
    err = error_of(ql, "SELECT id FROM vendor", limit, offset)
    assert err.query_param == param
    assert err.body()["o:errorDetails"][0]["o:errorQueryParam"] == param


# -- refused queries -----------------------------------------------------------------------------
@pytest.mark.parametrize("q", [
    "DELETE FROM transaction",
    "UPDATE transaction SET memo = 'x'",
    "INSERT INTO vendor (id) VALUES (9)",
    "DROP TABLE vendor",
    "CREATE TABLE x (id INT)",
    "SELECT id FROM vendor; DELETE FROM vendor",
    "SELECT id FROM vendor; SELECT id FROM item",
    "SELEC id FROM vendor",
    "SELECT id FROM vendor WHERE",
    "SELECT id FROM transaction WHERE ROWNUM > 3",
    "SELECT ROWNUM, id FROM transaction",
])
def test_non_select_and_broken_queries_are_refused(ql: SuiteQL, q: str) -> None:
    err = error_of(ql, q)
    assert err.message == PREFIX + "Search error occurred: Invalid or unsupported search."
    assert ql.query("SELECT COUNT(*) AS n FROM vendor", 1000, 0)["items"][0]["n"] == "3"


def test_unknown_column(ql: SuiteQL) -> None:
    err = error_of(ql, "SELECT id, foo FROM transaction")
    assert err.message == (PREFIX + "Search error occurred: Field 'foo' for record "
                           "'transaction' was not found.")
    err = error_of(ql, "SELECT t.id FROM transaction t JOIN vendor v ON v.id = t.entity "
                       "WHERE v.tranid = 'x'")
    assert err.message.endswith("Field 'tranid' for record 'vendor' was not found.")
    err = error_of(ql, "SELECT id FROM item WHERE id IN (SELECT item FROM transactionline "
                       "WHERE Bogus = 1)")
    assert err.message.endswith("Field 'bogus' for record 'transactionline' was not found.")


def test_unknown_table(ql: SuiteQL) -> None:
    err = error_of(ql, "SELECT id FROM vendorbill")
    assert err.message == PREFIX + "Search error occurred: Record 'vendorbill' was not found."


def test_error_body_shape(ql: SuiteQL) -> None:
    body = error_of(ql, "SELECT id FROM nope").body()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert body["o:errorDetails"] == [{
        "detail": PREFIX + "Search error occurred: Record 'nope' was not found.",
        "o:errorCode": "INVALID_PARAMETER"}]


def test_duckdb_errors_become_suiteql_errors(ql: SuiteQL) -> None:
    err = error_of(ql, "SELECT id FROM transaction t JOIN transactionline tl "
                       "ON tl.transaction = t.id")  # "id" is ambiguous
    assert err.message.startswith(PREFIX + "Search error occurred: ")


# -- engine --------------------------------------------------------------------------------------
def test_page_and_count_run_in_sql(ql: SuiteQL) -> None:
    sql = ql.to_duckdb("SELECT id FROM transaction WHERE ROWNUM <= 3 ORDER BY id")
    assert sql == 'SELECT "id" FROM "transaction" ORDER BY "id" LIMIT 3'


def test_concurrent_queries(ql: SuiteQL) -> None:
    q = "SELECT id FROM transaction ORDER BY id"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda off: ql.query(q, 1, off)["items"][0]["id"], range(7)))
    assert results == ["101", "102", "103", "104", "105", "106", "107"]
