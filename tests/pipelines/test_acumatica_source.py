"""The Acumatica source against the sandbox's contract-based REST API over loopback HTTP, with
small hand-made entity frames, loaded by a real dlt pipeline into a temporary DuckDB file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
import pytest
import requests
from dlt.pipeline.exceptions import PipelineStepFailed
from starlette.applications import Starlette

from pipelines import cli, config, run
from pipelines.config import Connection
from pipelines.http import STATS
from pipelines.sandbox.acumatica import SANDBOX_USER, AcumaticaApi, AcumaticaTenant
from pipelines.sandbox.server import LoopbackServer
from pipelines.sources import acumatica
from pipelines.sources.acumatica import AcumaticaCredentialsMissing, acumatica_source
from tests.pipelines.loopback import Provider

TENANT, INSTANCE, CONN_ID = "Cascade3", "cascade3", "ac-1"
LOGIN_PATH = f"/acumatica/{INSTANCE}/entity/auth/login"
LOGOUT_PATH = f"/acumatica/{INSTANCE}/entity/auth/logout"
ENTITY_PATH = f"/acumatica/{INSTANCE}/entity/Default/24.200.001/"
TS = pl.Datetime("us", "UTC")
MONEY, QTY = pl.Decimal(18, 2), pl.Decimal(18, 4)


def ts(day: int, hour: int = 10, minute: int = 0, ms: int = 0) -> datetime:
    return datetime(2024, 6, day, hour, minute, 0, ms * 1000, tzinfo=UTC)


def gid(n: int) -> str:
    """A GUID-shaped record id."""
    return f"0a1b2c3d-0000-4000-8000-{n:012d}"


def dec(values: list[str | None], dtype: pl.DataType = MONEY) -> pl.Series:
    return pl.Series([Decimal(v) if v is not None else None for v in values], dtype=dtype)


# -- hand-made entities --------------------------------------------------------------------------
ADDRESS = pl.Struct({"AddressLine1": pl.String, "City": pl.String, "State": pl.String,
                     "PostalCode": pl.String, "Country": pl.String})
CONTACT = pl.Struct({"Email": pl.String, "Phone1": pl.String, "Address": ADDRESS})
BILL_LINE = pl.Struct({"id": pl.String, "InventoryID": pl.String,
                       "TransactionDescription": pl.String, "Qty": QTY, "UnitCost": QTY,
                       "Amount": MONEY, "Account": pl.String, "Project": pl.String,
                       "ProjectTask": pl.String, "CostCode": pl.String,
                       "POOrderType": pl.String, "POOrderNbr": pl.String})
CHECK_LINE = pl.Struct({"id": pl.String, "DocType": pl.String, "ReferenceNbr": pl.String,
                        "AmountPaid": MONEY, "Balance": MONEY})
PM_LINE = pl.Struct({"id": pl.String, "TransactionID": pl.Int64, "Date": pl.Date,
                     "Project": pl.String, "ProjectTask": pl.String, "CostCode": pl.String,
                     "AccountGroup": pl.String, "Description": pl.String, "Qty": QTY,
                     "UnitRate": QTY, "Amount": MONEY, "Released": pl.Boolean,
                     "VendorOrCustomer": pl.String, "Employee": pl.String})
SC_LINE = pl.Struct({"id": pl.String, "LineNbr": pl.Int64, "LineDescription": pl.String,
                     "Amount": MONEY, "Project": pl.String, "Task": pl.String,
                     "CostCode": pl.String})


def bill_line(n: int, desc: str, qty: str, unit: str, amount: str,
              po: tuple[str, str] | None = None) -> dict:
    return {"id": gid(100 + n), "InventoryID": None, "TransactionDescription": desc,
            "Qty": Decimal(qty), "UnitCost": Decimal(unit), "Amount": Decimal(amount),
            "Account": "50000", "Project": "P-2003", "ProjectTask": "01",
            "CostCode": "03100.000", "POOrderType": po[0] if po else None,
            "POOrderNbr": po[1] if po else None}


def pm_line(n: int, day: int, qty: str, rate: str, amount: str, desc: str) -> dict:
    return {"id": gid(300 + n), "TransactionID": n, "Date": date(2024, 6, day),
            "Project": "P-2003", "ProjectTask": "01", "CostCode": "03100.000",
            "AccountGroup": "SUBCON", "Description": desc, "Qty": Decimal(qty),
            "UnitRate": Decimal(rate), "Amount": Decimal(amount), "Released": True,
            "VendorOrCustomer": "V000001", "Employee": None}


SC = ("Subcontract", "SC-001")
BILL_DETAILS = {
    gid(21): [bill_line(11, "Footing pour", "12", "96.6875", "1160.25", SC),
              bill_line(12, "Forming", "1", "1000.25", "1000.25", SC)],
    gid(22): [bill_line(21, "Short delivery", "1", "150.25", "150.25")],
    gid(23): [bill_line(31, "Rebar", "2", "250", "500.00")],
}


def _bills(details: dict[str, list[dict]] | None = None) -> pl.DataFrame:
    details = BILL_DETAILS if details is None else details
    ids = [gid(21), gid(22), gid(23)]
    return pl.DataFrame({
        "id": ids, "Type": ["Bill", "Debit Adj.", "Bill"],
        "ReferenceNbr": ["000001", "000002", "000003"],
        "Status": ["Open", "Open", "On Hold"], "Vendor": ["V000001", "V000001", "V000002"],
        "VendorRef": ["SUP-7781", "CR-1", None],
        "Date": [date(2024, 6, 1), date(2024, 6, 2), date(2024, 6, 3)],
        "DueDate": [date(2024, 7, 1), None, None],
        "Description": ["Lot 4 footings", "Short delivery", "Rebar"],
        "Hold": [False, False, True],
        "Amount": dec(["2160.50", "150.25", "500.00"]),
        "Balance": dec(["2160.50", "150.25", "500.00"]),
        "LastModifiedDateTime": pl.Series([ts(1, ms=433), ts(2, 12), ts(3)], dtype=TS),
        "Details": pl.Series([details.get(i, []) for i in ids], dtype=pl.List(BILL_LINE)),
    })


def _tables() -> dict[str, pl.DataFrame]:
    return {
        "Vendor": pl.DataFrame({
            "id": [gid(1), gid(2)], "VendorID": ["V000001", "V000002"],
            "VendorName": ["Ridge Concrete", "Summit Steel"], "Status": ["Active", "Active"],
            "VendorClass": ["SUBCON", "SUBCON"],
            "MainContact": pl.Series([
                {"Email": "ap@ridge.example", "Phone1": "555-0101", "Address": {
                    "AddressLine1": "12 Quarry Rd", "City": "Springfield", "State": "IL",
                    "PostalCode": "62701", "Country": "US"}},
                {"Email": None, "Phone1": None, "Address": {
                    "AddressLine1": None, "City": None, "State": None, "PostalCode": None,
                    "Country": "US"}}], dtype=CONTACT),
            "CreatedDateTime": pl.Series([ts(1, 8), ts(1, 8)], dtype=TS),
            "LastModifiedDateTime": pl.Series([ts(1, 8, 30), ts(2, 8)], dtype=TS),
        }),
        "CostCode": pl.DataFrame({
            "id": [gid(5), gid(6)], "CostCodeID": ["03100.000", "03200.000"],
            "Description": ["Concrete forming", "Reinforcing"],
            "LastModifiedDateTime": pl.Series([ts(1, 7), ts(1, 7, 5)], dtype=TS),
        }),
        "Project": pl.DataFrame({
            "id": [gid(7)], "ProjectID": ["P-2003"], "Description": ["Lot 4"],
            "Status": ["Active"], "Hold": [False], "Customer": ["C000001"],
            "ExternalRefNbr": ["5"], "LastModifiedDateTime": pl.Series([ts(1, 6)], dtype=TS),
        }),
        "ProjectTask": pl.DataFrame({
            "id": [gid(8), gid(9)], "ProjectID": ["P-2003", "P-2003"],
            "ProjectTaskID": ["01", "B1 - 01"], "Description": ["Task 01", "Sub job B1"],
            "Status": ["Active", "Active"], "Default": [True, False],
            "LastModifiedDateTime": pl.Series([ts(1, 6), ts(1, 6)], dtype=TS),
        }),
        "Subcontract": pl.DataFrame({
            "id": [gid(11)], "SubcontractNbr": ["SC-001"], "Status": ["Open"],
            "Date": [date(2024, 5, 15)], "Description": ["Concrete package"],
            "VendorID": ["V000001"], "VendorRef": [None], "SubcontractTotal": dec(["48000.00"]),
            "LastModifiedDateTime": pl.Series([ts(1, 5)], dtype=TS),
            "Details": pl.Series([[{"id": gid(111), "LineNbr": 1, "LineDescription": "Footings",
                                    "Amount": Decimal("48000.00"), "Project": "P-2003",
                                    "Task": "01", "CostCode": "03100.000"}]],
                                 dtype=pl.List(SC_LINE)),
        }),
        "PurchaseOrder": pl.DataFrame({
            "id": [gid(12)], "Type": ["Normal"], "OrderNbr": ["PO000001"], "Status": ["Open"],
            "Date": [date(2024, 5, 20)], "Description": ["Materials"], "VendorID": ["V000002"],
            "Project": ["P-2003"], "OrderTotal": dec(["1250.50"]),
            "LastModifiedDateTime": pl.Series([ts(1, 5, 30)], dtype=TS),
        }),
        "Bill": _bills(),
        "Check": pl.DataFrame({
            "id": [gid(31)], "Type": ["Payment"], "ReferenceNbr": ["000001"],
            "Status": ["Closed"], "Vendor": ["V000001"], "PaymentMethod": ["CHECK"],
            "PaymentRef": ["1001"], "ApplicationDate": [date(2024, 6, 4)],
            "PaymentAmount": dec(["2160.50"]),
            "LastModifiedDateTime": pl.Series([ts(4)], dtype=TS),
            "Details": pl.Series([[{"id": gid(231), "DocType": "Bill", "ReferenceNbr": "000001",
                                    "AmountPaid": Decimal("2160.50"),
                                    "Balance": Decimal("0.00")}]], dtype=pl.List(CHECK_LINE)),
        }),
        "ProjectTransaction": pl.DataFrame({
            "id": [gid(41), gid(42)], "Module": ["AP", "AP"],
            "ReferenceNbr": ["PM000001", "PM000002"], "Status": ["Released", "Released"],
            "Description": ["Lot 4 footings", "Short delivery"],
            "OriginalDocType": ["Bill", "Debit Adj."], "OriginalDocNbr": ["000001", "000002"],
            "TotalAmount": dec(["2160.50", "-150.25"]),
            "CreatedDateTime": pl.Series([ts(1, 11), ts(2, 11)], dtype=TS),
            "LastModifiedDateTime": pl.Series([ts(1, 11), ts(2, 11)], dtype=TS),
            "Details": pl.Series([
                [pm_line(1, 1, "12", "96.6875", "1160.25", "Footing pour"),
                 pm_line(2, 1, "1", "1000.25", "1000.25", "Forming")],
                [pm_line(3, 2, "-1", "150.25", "-150.25", "Short delivery")]],
                dtype=pl.List(PM_LINE)),
        }),
        "ProjectBudget": pl.DataFrame({
            "id": [gid(51)], "ProjectID": ["P-2003"], "ProjectTaskID": ["01"],
            "CostCode": ["03100.000"], "AccountGroup": ["SUBCON"], "Type": ["Expense"],
            "Description": ["Concrete forming"], "OriginalBudgetedAmount": dec(["50000.00"]),
            "RevisedBudgetedAmount": dec(["52000.00"]), "ActualAmount": dec(["2010.25"]),
            "LastModifiedDateTime": pl.Series([ts(4, 12)], dtype=TS),
        }),
    }


# -- the sandbox on loopback ---------------------------------------------------------------------
@dataclass
class Sandbox:
    api: AcumaticaApi
    provider: Provider
    base: str  # …/acumatica/<instance>
    tmp: Any
    ticker: list[float] = field(default_factory=lambda: [0.0])

    def settings(self, tenant: str = TENANT, **extract: int) -> config.Settings:
        return config.parse({
            "warehouse": {"path": str(self.tmp / "wh.duckdb"),
                          "published": str(self.tmp / "published")},
            "procore": {"base_url": "http://127.0.0.1:1/procore"},
            "extract": {"page_size": 1000, "lag_seconds": 300, **extract},
            "connections": [{"id": CONN_ID, "erp": "acumatica", "procore_company_id": 1,
                             "erp_base_url": self.base, "erp_tenant_id": tenant}]})

    def load(self, full_refresh: bool = False, tenant: str = TENANT,
             **extract: int) -> dict[str, int]:
        """One extract-load like ``costbridge run``; rows read per table."""
        settings = self.settings(tenant, **extract)
        STATS.reset()
        pipeline = run._pipeline("acumatica", settings)
        pipeline.run(acumatica_source(settings.active("acumatica"),
                                      page_size=settings.page_size,
                                      lag_seconds=settings.lag_seconds,
                                      full_refresh=full_refresh),
                     loader_file_format="parquet")
        return {r: n for (s, r), n in STATS.rows.items() if s == "acumatica"}

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.tmp / "wh.duckdb"), read_only=True) as con:
            return con.execute(sql).fetchall()

    def requests(self, path: str) -> int:
        """Requests the sandbox served on a path (faults included)."""
        return self.api.gate.snapshot()["paths"].get(path, 0)

    def sessions(self) -> int:
        return self.api.live_sessions(INSTANCE)


@pytest.fixture()
def serve(tmp_path) -> Iterator[Callable[..., Sandbox]]:
    servers: list[LoopbackServer] = []

    def start(tables: dict[str, pl.DataFrame] | None = None, **api_kw: Any) -> Sandbox:
        provider = Provider(tables or _tables())
        ticker = [0.0]  # the sandbox's idle clock for sessions, moved by tests
        api = AcumaticaApi({INSTANCE: AcumaticaTenant(TENANT, (SANDBOX_USER,), provider)},
                           ticker=lambda: ticker[0], **api_kw)
        server = LoopbackServer(Starlette(routes=api.routes(prefix="/acumatica"))).start()
        servers.append(server)
        port = server.port
        return Sandbox(api, provider, f"http://127.0.0.1:{port}/acumatica/{INSTANCE}", tmp_path,
                       ticker)

    yield start
    for server in servers:
        server.stop()


@pytest.fixture()
def slept(monkeypatch) -> list[float]:
    """Backoff delays the source's clients would have slept (none are slept)."""
    delays: list[float] = []
    make = acumatica._client

    def client(conn: Connection):
        c = make(conn)
        c.sleep = delays.append
        return c

    monkeypatch.setattr(acumatica, "_client", client)
    return delays


def _failure(ac: Sandbox, **kw: Any) -> str:
    with pytest.raises(PipelineStepFailed) as err:
        ac.load(**kw)
    return run._root_cause(err.value)


# -- full load -----------------------------------------------------------------------------------
def test_full_load_unwraps_flattens_and_types_every_table(serve) -> None:
    ac = serve()
    read = ac.load()
    assert read == {"vendors": 2, "cost_codes": 2, "projects": 1, "project_tasks": 2,
                    "subcontracts": 1, "purchase_orders": 1, "bills": 3, "bill_details": 4,
                    "checks": 1, "check_details": 1, "project_transactions": 2,
                    "project_transaction_details": 3, "project_budgets": 1}
    bills = ac.query("select connection_id, id, type, reference_nbr, status, vendor, vendor_ref,"
                     " date, due_date, description, hold, amount, balance, "
                     "last_modified_date_time from raw_acumatica.bills order by reference_nbr")
    assert bills[0] == (CONN_ID, gid(21), "Bill", "000001", "Open", "V000001", "SUP-7781",
                        date(2024, 6, 1), date(2024, 7, 1), "Lot 4 footings", False,
                        Decimal("2160.50"), Decimal("2160.50"), ts(1, ms=433))
    assert bills[1][2] == "Debit Adj." and bills[1][8] is None  # {} → NULL
    assert bills[2][4] == "On Hold" and bills[2][6] is None and bills[2][10] is True
    lines = ac.query("select bill_id, id, inventory_id, transaction_description, qty, unit_cost,"
                     " amount, account, project, project_task, cost_code, po_order_type, "
                     "po_order_nbr, connection_id from raw_acumatica.bill_details order by id")
    assert lines[0] == (gid(21), gid(111), None, "Footing pour", Decimal("12"),
                        Decimal("96.6875"), Decimal("1160.25"), "50000", "P-2003", "01",
                        "03100.000", "Subcontract", "SC-001", CONN_ID)
    assert [(r[0], r[1], r[6], r[11], r[12]) for r in lines[1:]] == [
        (gid(21), gid(112), Decimal("1000.25"), "Subcontract", "SC-001"),
        (gid(22), gid(121), Decimal("150.25"), None, None),
        (gid(23), gid(131), Decimal("500.00"), None, None)]
    assert ac.query("select sum(amount) from raw_acumatica.bill_details") == [
        (Decimal("2810.75"),)]  # 1160.25 + 1000.25 + 150.25 + 500.00
    vendors = ac.query(
        "select id, vendor_id, vendor_name, vendor_class, main_contact__email, "
        "main_contact__phone1, main_contact__address__address_line1, "
        "main_contact__address__city, main_contact__address__country, created_date_time, "
        "last_modified_date_time from raw_acumatica.vendors order by vendor_id")
    assert vendors == [
        (gid(1), "V000001", "Ridge Concrete", "SUBCON", "ap@ridge.example", "555-0101",
         "12 Quarry Rd", "Springfield", "US", ts(1, 8), ts(1, 8, 30)),
        (gid(2), "V000002", "Summit Steel", "SUBCON", None, None, None, None, "US", ts(1, 8),
         ts(2, 8))]
    assert ac.query("select check_id, id, doc_type, reference_nbr, amount_paid, balance "
                    "from raw_acumatica.check_details") == [
        (gid(31), gid(231), "Bill", "000001", Decimal("2160.50"), Decimal("0.00"))]
    assert ac.query("select application_date, payment_amount from raw_acumatica.checks") == [
        (date(2024, 6, 4), Decimal("2160.50"))]
    pm = ac.query("select project_transaction_id, transaction_id, date, account_group, qty, "
                  "unit_rate, amount, released, employee from "
                  "raw_acumatica.project_transaction_details order by transaction_id")
    assert pm == [
        (gid(41), 1, date(2024, 6, 1), "SUBCON", Decimal("12"), Decimal("96.6875"),
         Decimal("1160.25"), True, None),
        (gid(41), 2, date(2024, 6, 1), "SUBCON", Decimal("1"), Decimal("1000.25"),
         Decimal("1000.25"), True, None),
        (gid(42), 3, date(2024, 6, 2), "SUBCON", Decimal("-1"), Decimal("150.25"),
         Decimal("-150.25"), True, None)]
    assert ac.query("select original_doc_type, total_amount, created_date_time "
                    "from raw_acumatica.project_transactions order by reference_nbr") == [
        ("Bill", Decimal("2160.50"), ts(1, 11)), ("Debit Adj.", Decimal("-150.25"), ts(2, 11))]
    assert ac.query("select project_id, project_task_id, cost_code, account_group, "
                    "original_budgeted_amount, revised_budgeted_amount, actual_amount "
                    "from raw_acumatica.project_budgets") == [
        ("P-2003", "01", "03100.000", "SUBCON", Decimal("50000.00"), Decimal("52000.00"),
         Decimal("2010.25"))]
    assert ac.query("select project_task_id, \"default\" from raw_acumatica.project_tasks "
                    "order by project_task_id") == [("01", True), ("B1 - 01", False)]
    assert ac.query("select subcontract_nbr, date, vendor_ref, subcontract_total "
                    "from raw_acumatica.subcontracts") == [
        ("SC-001", date(2024, 5, 15), None, Decimal("48000.00"))]
    assert ac.query("select type, order_nbr, order_total from raw_acumatica.purchase_orders"
                    ) == [("Normal", "PO000001", Decimal("1250.50"))]


def test_columns_are_typed_and_meta_fields_dropped(serve) -> None:
    ac = serve()
    ac.load(page_size=1)  # one record a page: some pages hold only nulls in a column
    types = dict(((t, c), d) for t, c, d in ac.query(
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'raw_acumatica'"))
    assert types[("bills", "amount")] == "DECIMAL(38,9)"
    assert types[("bills", "date")] == types[("bills", "due_date")] == "DATE"
    assert types[("bills", "last_modified_date_time")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("bills", "hold")] == "BOOLEAN"
    assert types[("bill_details", "qty")] == types[("bill_details", "unit_cost")] == \
        "DECIMAL(38,9)"
    assert types[("bill_details", "po_order_nbr")] == "VARCHAR"
    assert types[("project_transaction_details", "transaction_id")] == "BIGINT"
    assert types[("project_transaction_details", "released")] == "BOOLEAN"
    assert types[("project_transaction_details", "date")] == "DATE"
    assert types[("vendors", "created_date_time")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("subcontracts", "vendor_ref")] == "VARCHAR"  # null on every page
    columns = {c for _, c in types}
    assert not columns & {"row_number", "note", "custom", "_links", "links", "details"}
    assert not any(t.startswith("subcontract_") or t.startswith("purchase_order_")
                   for t, _ in types)  # headers only: no detail tables


def test_wire_values_are_unwrapped_and_empty_objects_are_null() -> None:
    types: dict = {}
    record = {
        "id": gid(1), "rowNumber": 1, "note": {"value": ""}, "custom": {},
        "_links": {"self": "/cascade3/entity/Default/24.200.001/Vendor/x"},
        "VendorID": {"value": "V000001"}, "VendorRef": {}, "Hold": {"value": False},
        "Amount": {"value": 12}, "Date": {"value": "2024-06-01T00:00:00+00:00"},
        "LastModifiedDateTime": {"value": "2024-06-01T17:07:45.433+02:00"},
        "POOrderNbr": {"value": "SC-001", "error": "ignored"},
        "MainContact": {"id": gid(9), "rowNumber": 1, "Phone1": {"value": "555"},
                        "Address": {"AddressLine1": {}, "City": {"value": "Springfield"}}},
        "Details": [{"id": gid(2)}],
    }
    row = acumatica.flatten(record, {}, types)
    assert row == {
        "id": gid(1), "vendor_id": "V000001", "vendor_ref": None, "hold": False,
        "amount": Decimal("12"), "date": date(2024, 6, 1),
        "last_modified_date_time": datetime(2024, 6, 1, 15, 7, 45, 433000, tzinfo=UTC),
        "po_order_nbr": "SC-001", "main_contact__id": gid(9), "main_contact__phone1": "555",
        "main_contact__address__address_line1": None,
        "main_contact__address__city": "Springfield"}
    assert isinstance(row["amount"], Decimal)  # a whole amount stays a decimal
    assert types["amount"] == pl.Decimal(38, 9) and types["hold"] == pl.Boolean()


def test_the_sandbox_sends_empty_objects_for_nulls(serve) -> None:
    """The nulls above are real ``{}`` on the wire, not missing fields."""
    ac = serve()
    http = requests.Session()
    login = http.post(f"{ac.base}/entity/auth/login",
                      json={"name": SANDBOX_USER[0], "password": SANDBOX_USER[1],
                            "tenant": TENANT})
    assert login.status_code == 204
    try:
        body = http.get(f"{ac.base}/entity/Default/24.200.001/Vendor",
                        params={"$expand": "MainContact", "$filter": "VendorID eq 'V000002'"}
                        ).json()
    finally:
        http.post(f"{ac.base}/entity/auth/logout")
    assert body[0]["MainContact"]["Phone1"] == {}
    assert body[0]["MainContact"]["Address"]["City"] == {}
    assert ac.sessions() == 0


# -- incremental ---------------------------------------------------------------------------------
def _load_ids(ac: Sandbox, table: str) -> dict[str, str]:
    return dict(ac.query(f"select id, _dlt_load_id from raw_acumatica.{table}"))


def test_incremental_reads_only_what_changed(serve) -> None:
    ac = serve()
    ac.load(lag_seconds=0)
    first = _load_ids(ac, "bills")
    ac.provider.update("Bill", pl.col("id") == gid(22), Description="Short delivery, corrected",
                       LastModifiedDateTime=ts(10))
    read = ac.load(lag_seconds=0)
    # Only the changed bill and its line: every other table is past its cursor.
    assert read == {"bills": 1, "bill_details": 1}
    second = _load_ids(ac, "bills")
    assert second[gid(21)] == first[gid(21)] and second[gid(23)] == first[gid(23)]
    assert second[gid(22)] != first[gid(22)]
    assert ac.query(f"select description from raw_acumatica.bills where id = '{gid(22)}'"
                    ) == [("Short delivery, corrected",)]
    assert ac.query("select count(*) from raw_acumatica.bills") == [(3,)]
    assert ac.query("select count(*) from raw_acumatica.bill_details") == [(4,)]
    assert ac.load(lag_seconds=0) == {}  # nothing newer than June 10


def test_the_lag_rereads_overlapping_rows_without_duplicates(serve) -> None:
    ac = serve()
    ac.load(lag_seconds=0)
    # The bills cursor is June 3 10:00; a day of lag reaches back to June 2 10:00, before
    # bill 000002 (June 2 12:00). Vendors: cursor June 2 08:00, back to June 1 08:00.
    read = ac.load(lag_seconds=86_400)
    assert read["bills"] == 2 and read["bill_details"] == 2
    assert read["vendors"] == 2 and read["checks"] == 1 and read["project_budgets"] == 1
    # Cursor June 2 11:00, from June 1 11:00 on: "gt" leaves out PM000001, modified then.
    assert read["project_transactions"] == 1 and read["project_transaction_details"] == 1
    assert ac.query("select count(*), count(distinct id) from raw_acumatica.bills") == [(3, 3)]
    assert ac.query("select count(*), count(distinct (bill_id, id)) "
                    "from raw_acumatica.bill_details") == [(4, 4)]
    assert ac.query("select count(*) from raw_acumatica.project_transaction_details") == [(3,)]


def test_a_reloaded_bill_replaces_all_its_details(serve) -> None:
    ac = serve()
    ac.load(lag_seconds=0)
    changed = dict(BILL_DETAILS)
    # Bill 000001 loses its second line and gets a new one; the first line's amount changes.
    changed[gid(21)] = [bill_line(11, "Footing pour", "12", "100", "1200.00", SC),
                        bill_line(13, "Curing", "1", "75.5", "75.50", SC)]
    ac.provider.frames["Bill"] = _bills(changed).with_columns(
        LastModifiedDateTime=pl.when(pl.col("id") == gid(21)).then(pl.lit(ts(11), TS))
        .otherwise(pl.col("LastModifiedDateTime")))
    assert ac.load(lag_seconds=0)["bill_details"] == 2
    assert ac.query("select bill_id, id, amount from raw_acumatica.bill_details "
                    "order by bill_id, id") == [
        (gid(21), gid(111), Decimal("1200.00")), (gid(21), gid(113), Decimal("75.50")),
        (gid(22), gid(121), Decimal("150.25")), (gid(23), gid(131), Decimal("500.00"))]


def test_full_refresh_replaces_tables_whole(serve) -> None:
    ac = serve()
    ac.load()
    ac.provider.frames["Bill"] = ac.provider.frames["Bill"].filter(pl.col("id") != gid(23))
    ac.provider.frames["Check"] = ac.provider.frames["Check"].clear()
    ac.load()  # incremental: no deletion feed, deleted records stay
    assert ac.query("select count(*) from raw_acumatica.bills") == [(3,)]
    read = ac.load(full_refresh=True)
    assert read["bills"] == 2 and read["vendors"] == 2 and "checks" not in read
    assert ac.query("select id from raw_acumatica.bills order by id") == [(gid(21),), (gid(22),)]
    assert ac.query("select count(*) from raw_acumatica.bill_details") == [(3,)]
    # No check at all: the tables are replaced by empty ones, not left as they were.
    assert ac.query("select count(*) from raw_acumatica.checks") == [(0,)]
    assert ac.query("select count(*) from raw_acumatica.check_details") == [(0,)]
    # The next incremental run starts from the cursors the full refresh left.
    assert ac.load(lag_seconds=0) == {}


# -- paging --------------------------------------------------------------------------------------
def _many_bills(n: int) -> pl.DataFrame:
    ids = [gid(1000 + i) for i in range(n)]
    details = {i: [bill_line(1000 + 2 * k, "a", "1", "10", "10.00"),
                   bill_line(1001 + 2 * k, "b", "2", "5", "10.00")]
               for k, i in enumerate(ids)}
    base = _bills().head(1)
    return pl.concat([base] * n).with_columns(
        id=pl.Series(ids), ReferenceNbr=pl.Series([f"{i + 1:06d}" for i in range(n)]),
        LastModifiedDateTime=pl.Series([ts(1) + timedelta(minutes=i // 2) for i in range(n)],
                                       dtype=TS),
        Details=pl.Series([details[i] for i in ids], dtype=pl.List(BILL_LINE)))


@pytest.mark.parametrize("n_bills, calls", [(7, 3), (6, 3), (2, 1)])
def test_small_pages_load_every_row_once(serve, n_bills: int, calls: int) -> None:
    tables = _tables()
    tables["Bill"] = _many_bills(n_bills)
    ac = serve(tables)
    read = ac.load(page_size=3)
    assert read["bills"] == n_bills and read["bill_details"] == 2 * n_bills
    # 7 bills: pages of 3, 3, 1; 6 bills: 3, 3 and an empty page; 2: one short page.
    assert STATS.calls[("acumatica", "bills")] == calls
    assert ac.requests(ENTITY_PATH + "Bill") == calls
    assert ac.query("select count(*), count(distinct id) from raw_acumatica.bills") == [
        (n_bills, n_bills)]
    assert ac.query("select count(*), count(distinct id) from raw_acumatica.bill_details") == [
        (2 * n_bills, 2 * n_bills)]
    assert ac.query("select sum(amount) from raw_acumatica.bill_details") == [
        (Decimal("20.00") * n_bills,)]


def test_incremental_pages_filter_on_the_cursor(serve) -> None:
    tables = _tables()
    tables["Bill"] = _many_bills(7)  # modified at 10:00, 10:00, 10:01, 10:01, 10:02 … 10:03
    ac = serve(tables)
    ac.load(page_size=3, lag_seconds=0)
    later = pl.col("ReferenceNbr").is_in(["000002", "000005"])
    ac.provider.update("Bill", later, LastModifiedDateTime=ts(5))
    read = ac.load(page_size=3, lag_seconds=30)  # cursor 10:03 - 30 s: after 10:02:30
    # The two changed bills and 000007 (10:03) inside the lag: a full page, then an empty one.
    assert read["bills"] == 3 and STATS.calls[("acumatica", "bills")] == 2
    assert ac.query("select count(*) from raw_acumatica.bills") == [(7,)]


# -- sessions ------------------------------------------------------------------------------------
def test_one_login_per_extract_and_always_a_logout(serve) -> None:
    ac = serve(sessions=1)  # one seat: a leaked session would lock the next extract out
    for _ in range(3):
        ac.load()
    assert ac.requests(LOGIN_PATH) == 3 and ac.requests(LOGOUT_PATH) == 3
    assert ac.sessions() == 0


def test_a_page_failing_after_every_retry_still_logs_out(serve, slept) -> None:
    ac = serve(sessions=1)
    # While the first entity (Vendor) is served, the next 8 requests are set to fail: the
    # cost codes page, all 8 attempts.
    ac.provider.on_call[1] = lambda: ac.api.gate.inject("500", 8)
    message = _failure(ac)
    assert f"acumatica connection '{CONN_ID}' (tenant {TENANT})" in message
    assert "cost_codes: HTTP 500, gave up after 8 attempts" in message
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert ac.requests(ENTITY_PATH + "CostCode") == 8
    assert ac.requests(LOGOUT_PATH) == 1 and ac.sessions() == 0
    assert ac.load()["bills"] == 3  # the seat is free again


def test_an_extract_stopped_downstream_still_logs_out(serve) -> None:
    """dlt closes the generator when a later step of the pipe fails: the finally logs out."""
    ac = serve(sessions=1)
    settings = ac.settings()
    source = acumatica_source(settings.active("acumatica"))
    seen: list[object] = []

    def stop_at_the_third_page(item: object) -> object:
        seen.append(item)
        if len(seen) == 3:
            assert ac.sessions() == 1  # mid-extract: the session is open
            raise RuntimeError("disk full")
        return item

    source.resources["acumatica"].add_map(stop_at_the_third_page)
    with pytest.raises(PipelineStepFailed, match="disk full"):
        run._pipeline("acumatica", settings).run(source, loader_file_format="parquet")
    assert ac.sessions() == 0 and ac.requests(LOGOUT_PATH) == 1
    assert ac.requests(ENTITY_PATH + "ProjectTask") == 0  # nothing read after the stop


def test_an_expired_session_logs_in_again_once(serve) -> None:
    ac = serve(idle_timeout=600)

    def idle() -> None:
        ac.ticker[0] += 601  # the session has been idle too long: it is gone

    ac.provider.on_call[7] = idle  # while bills are served; the checks call gets a 401
    read = ac.load()
    assert read["bills"] == 3 and read["checks"] == 1 and read["project_budgets"] == 1
    assert ac.requests(LOGIN_PATH) == 2
    assert ac.requests(ENTITY_PATH + "Check") == 2  # the 401, then the repeat
    assert ac.sessions() == 0


def test_a_session_refused_right_after_login_fails_clearly(serve) -> None:
    ac = serve(idle_timeout=-1)  # every session expires at once: each call answers 401
    message = _failure(ac)
    assert f"acumatica connection '{CONN_ID}' (tenant {TENANT}): HTTP 401 reading vendors " \
        "right after a fresh login" in message
    assert ac.requests(LOGIN_PATH) == 2  # the first login, and one more: not a loop
    assert ac.sessions() == 0


# -- failures ------------------------------------------------------------------------------------
def test_429_is_retried_with_exponential_backoff(serve, slept) -> None:
    ac = serve()
    ac.provider.on_call[1] = lambda: ac.api.gate.inject("429", 3)  # licence request limit
    read = ac.load()
    assert read["cost_codes"] == 2 and read["bills"] == 3
    assert slept == [0.5, 1.0, 2.0]  # no Retry-After: exponential
    assert STATS.retries[("acumatica", "cost_codes")] == 3
    assert ac.sessions() == 0


def test_bad_credentials_name_the_connection_and_the_secrets(serve, monkeypatch) -> None:
    ac = serve()
    monkeypatch.setenv("SOURCES__ACUMATICA__PASSWORD", "wrong-password-123")
    message = _failure(ac)
    assert f"acumatica connection '{CONN_ID}' (tenant {TENANT})" in message
    assert "Invalid credentials" in message
    assert "sources.acumatica.username, sources.acumatica.password" in message
    assert "SOURCES__ACUMATICA__PASSWORD" in message
    assert "SOURCES__ACUMATICA__AC_1__USERNAME" in message
    assert "wrong-password-123" not in message and SANDBOX_USER[1] not in message
    assert ac.requests(LOGIN_PATH) == 1  # a refused login is not retried
    assert ac.requests(LOGOUT_PATH) == 0 and ac.sessions() == 0


def test_an_unknown_tenant_is_refused_like_bad_credentials(serve) -> None:
    ac = serve()
    message = _failure(ac, tenant="Nowhere9")
    assert "(tenant Nowhere9): login refused (Invalid credentials)" in message
    assert "tenant 'Nowhere9'" in message


def test_per_connection_credentials_override_the_shared_ones(serve, monkeypatch) -> None:
    ac = serve()
    monkeypatch.setenv("SOURCES__ACUMATICA__PASSWORD", "wrong-password-123")
    monkeypatch.setenv("SOURCES__ACUMATICA__AC_1__PASSWORD", SANDBOX_USER[1])
    assert ac.load()["bills"] == 3
    monkeypatch.setenv("SOURCES__ACUMATICA__AC_1__USERNAME", "someone-else")
    assert "sources.acumatica.ac_1.username, sources.acumatica.ac_1.password" in _failure(ac)


def test_login_limit_is_retried_then_says_the_seats_are_taken(serve, slept) -> None:
    ac = serve(sessions=1)
    other = requests.Session()  # another integration holds the only seat
    assert other.post(f"{ac.base}/entity/auth/login", json={
        "name": SANDBOX_USER[0], "password": SANDBOX_USER[1], "tenant": TENANT}
    ).status_code == 204
    message = _failure(ac)
    assert "API Login Limit" in message and "API-user seat" in message
    assert "Log out the other API sessions" in message
    assert ac.requests(LOGIN_PATH) == 1 + acumatica.LOGIN_ATTEMPTS
    assert slept == [0.5, 1.0, 2.0, 4.0]
    other.post(f"{ac.base}/entity/auth/logout")
    assert ac.load()["bills"] == 3


def test_missing_credentials_are_named_before_any_request(serve, monkeypatch) -> None:
    ac = serve()
    monkeypatch.delenv("SOURCES__ACUMATICA__PASSWORD")
    with pytest.raises(AcumaticaCredentialsMissing, match=r"'ac-1': no password; set "
                       r"sources\.acumatica\.password \(env SOURCES__ACUMATICA__PASSWORD"):
        acumatica_source(ac.settings().active("acumatica"))
    with pytest.raises(run.RunFailed, match="a credential is missing.*password"):
        run.sources(ac.settings())
    assert ac.api.gate.snapshot()["total"] == 0


def test_credentials_take_an_optional_branch_and_never_show_the_password(monkeypatch) -> None:
    monkeypatch.setenv("SOURCES__ACUMATICA__BRANCH", "HQ")
    conn = Connection("ac-2", "acumatica", 2, "x", "http://127.0.0.1:1/acumatica/x", "Cascade3")
    creds = acumatica.credentials(conn)
    assert creds.login_body("Cascade3") == {"name": SANDBOX_USER[0],
                                            "password": SANDBOX_USER[1],
                                            "tenant": "Cascade3", "branch": "HQ"}
    assert SANDBOX_USER[1] not in repr(creds)


# -- wiring --------------------------------------------------------------------------------------
def test_run_wires_acumatica_with_replace_on_full_refresh(serve) -> None:
    ac = serve()
    srcs = run.sources(ac.settings())
    assert list(srcs) == ["ops", "acumatica", "procore"]
    assert list(srcs["acumatica"].resources) == ["acumatica"]
    assert srcs["acumatica"].resources["acumatica"].write_disposition == "merge"
    full = run.sources(ac.settings(), full_refresh=True)["acumatica"].resources
    assert full["acumatica"].write_disposition == "replace"
    assert ac.api.gate.snapshot()["total"] == 0  # building sources calls nothing


def test_the_filter_literal_is_the_documented_datetimeoffset() -> None:
    e = next(e for e in acumatica.ENTITIES if e.table == "vendors")
    params = e.params(datetime(2024, 6, 1, 12, 0, 0, 433999, tzinfo=UTC), 500)
    assert params == {"$top": 500, "$expand": "MainContact",
                      "$filter": "LastModifiedDateTime gt "
                                 "datetimeoffset'2024-06-01T12:00:00.433+00:00'"}


@pytest.mark.parametrize("tenant, url, error", [
    ("Cascade3", "https://acme.acumatica.com/acme", None),
    ("", "https://acme.acumatica.com/acme", r"erp_tenant_id must be the Acumatica tenant"),
    ("  ", "https://acme.acumatica.com/acme", r"erp_tenant_id must be the Acumatica tenant"),
    ("Cascade3", "https://acme.acumatica.com/acme/entity", r"erp_base_url must be the "
     r"Acumatica site and instance without /entity"),
    ("Cascade3", "https://acme.acumatica.com/entity/Default/24.200.001",
     r"erp_base_url must be .* without /entity"),
])
def test_config_checks_the_acumatica_connection(tenant: str, url: str, error: str | None) -> None:
    data = {"procore": {"base_url": "http://127.0.0.1:1/procore"},
            "connections": [{"id": "a", "erp": "acumatica", "procore_company_id": 1,
                             "erp_base_url": url, "erp_tenant_id": tenant}]}
    if error is None:
        assert config.parse(data).active("acumatica")[0].erp_tenant_id == tenant
    else:
        with pytest.raises(config.ConfigError, match=r"connections\[0\]\." + error):
            config.parse(data)


def test_the_demo_points_acumatica_connections_at_the_sandbox_instance() -> None:
    assert cli._erp_base_url("http://127.0.0.1:9", "acumatica", "Cascade3") == \
        "http://127.0.0.1:9/acumatica/cascade3"
    assert (cli.SANDBOX_TOKENS["SOURCES__ACUMATICA__USERNAME"],
            cli.SANDBOX_TOKENS["SOURCES__ACUMATICA__PASSWORD"]) == SANDBOX_USER
