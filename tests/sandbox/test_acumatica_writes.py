"""Acumatica sandbox writes over real loopback HTTP on the tiny world (seed 42): the tenant
``Ridge3`` has vendors V003000…V003007, projects P-3001…P-3004 with tasks 01 and 02, cost codes
01100.000, 02101.000, …, bills numbered up to 000048 and checks up to 000017, no change orders.
Expected values are worked out by hand from the bodies sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pipelines.sandbox.server import SandboxServer
from pipelines.sandbox.world import World

USER = {"name": "sandbox-acumatica", "password": "sandbox-acumatica-password"}
NOW = "2026-06-30T00:00:00.000+00:00"  # the world clock: every write's LastModifiedDateTime


def w(value: Any) -> dict[str, Any]:
    return {"value": value}


class Acu:
    def __init__(self, server: SandboxServer, tenant: str = "Ridge3"):
        self.server = server
        self.base = f"{server.url}/acumatica/{tenant.lower()}/entity"
        self.http = requests.Session()
        r = self.http.post(f"{self.base}/auth/login", json={**USER, "tenant": tenant})
        assert r.status_code == 204, r.text

    def url(self, path: str) -> str:
        return f"{self.base}/Default/24.200.001/{path}"

    def put(self, entity: str, body: dict, headers: dict | None = None,
            **params: str) -> requests.Response:
        return self.http.put(self.url(entity), json=body, headers=headers, params=params,
                             timeout=30)

    def get(self, path: str, **params: str) -> requests.Response:
        return self.http.get(self.url(path), params=params, timeout=30)

    def rows(self, path: str, **params: str) -> list[dict]:
        r = self.get(path, **params)
        assert r.status_code == 200, r.text
        return r.json()

    def close(self) -> None:
        self.http.post(f"{self.base}/auth/logout", timeout=10)


@pytest.fixture(scope="module")
def acu(server: SandboxServer, world: World) -> Iterator[Acu]:
    assert world.connections("acumatica")["erp_tenant_id"][0] == "Ridge3"
    client = Acu(server)
    yield client
    client.close()


def test_duplicate_insert_is_412_and_changes_nothing(acu: Acu) -> None:
    body = {"VendorID": w("V003000"), "VendorName": w("Impostor Ltd")}
    r = acu.put("Vendor", body, {"If-None-Match": "*"})
    assert r.status_code == 412 and "exceptionMessage" in r.json()
    assert acu.get("Vendor/V003000").json()["VendorName"]["value"] != "Impostor Ltd"


def test_written_vendor_and_project_are_read_back_by_modified_filter(acu: Acu) -> None:
    vendor = {"VendorID": w("V009001"), "VendorName": w("Quarry Co"), "Status": w("Active"),
              "MainContact": {"Phone1": w("555-0142"), "Address": {"City": w("Joliet")}}}
    assert acu.put("Vendor", vendor, {"If-None-Match": "*"}).status_code == 200
    project = {"ProjectID": w("P-9001"), "Description": w("Quay Street Offices"),
               "ProjectAddress": {"AddressLine1": w("1 Quay St Suite 4")}}
    saved = acu.put("Project", project, {"If-None-Match": "*"}, **{"$expand": "ProjectAddress"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["Status"] == w("Active") and saved.json()["Hold"] == w(False)
    assert saved.json()["ProjectAddress"]["AddressLine1"] == w("1 Quay St Suite 4")
    # Everything in the world is older than the write; the world clock stamps writes.
    since = "LastModifiedDateTime gt datetimeoffset'2026-06-29T23:59:59.000+00:00'"
    vendors = acu.rows("Vendor", **{"$filter": since})
    assert [(v["VendorID"]["value"], v["LastModifiedDateTime"]["value"]) for v in vendors] == [
        ("V009001", NOW)]
    projects = acu.rows("Project", **{"$filter": since})
    assert [p["ProjectID"]["value"] for p in projects] == ["P-9001"]
    # The default template's tasks come with a new project, so lines can post to it.
    tasks = acu.rows("ProjectTask", **{"$filter": "ProjectID eq 'P-9001'"})
    assert [t["ProjectTaskID"]["value"] for t in tasks] == ["01", "02"]


def test_subcontract_number_and_title_limits_are_422_field_errors_AC_14(acu: Acu) -> None:
    """AC-14: number at most 15, title at most 60 characters."""
    body = {"SubcontractNbr": w("SC-123456789012"),  # 15: fine
            "Description": w("x" * 61), "VendorID": w("V003000"),
            "Details": [{"Amount": w(10), "Project": w("P-3001"), "Task": w("01"),
                         "CostCode": w("01100.000")}]}
    r = acu.put("Subcontract", body, {"If-None-Match": "*"})
    assert r.status_code == 422
    out = r.json()
    assert out["Description"] == {"value": "x" * 61, "error": "Error: 'Description' is too long: "
                                  "61 characters, at most 60."}
    assert "error" not in out["SubcontractNbr"]
    assert out["error"] == ("Inserting 'Subcontract' record raised at least one error. "
                            "Please review the errors.")
    body["SubcontractNbr"], body["Description"] = w("SC-1234567890123"), w("x" * 60)  # 16
    r = acu.put("Subcontract", body, {"If-None-Match": "*"})
    assert r.status_code == 422 and list(k for k, v in r.json().items()
                                         if isinstance(v, dict) and "error" in v) == [
        "SubcontractNbr"]
    body["SubcontractNbr"] = w("SC-777")
    ok = acu.put("Subcontract", body, {"If-None-Match": "*"}, **{"$expand": "Details"})
    assert ok.status_code == 200, ok.text
    assert ok.json()["SubcontractTotal"] == w(10.0) and ok.json()["Status"] == w("Open")


def test_unknown_references_and_missing_keys_are_field_errors(acu: Acu) -> None:
    bill = {"Type": w("Bill"), "Vendor": w("V999999"), "VendorRef": w("BAD-1"),
            "Details": [{"Amount": w(5), "Project": w("P-3001"), "ProjectTask": w("01"),
                         "CostCode": w("01100.000")},
                        {"Amount": w(7), "Project": w("P-3001"), "ProjectTask": w("07"),
                         "CostCode": w("99999.000")}]}
    r = acu.put("Bill", bill, {"If-None-Match": "*"})
    assert r.status_code == 422
    out = r.json()
    assert out["Vendor"]["error"] == "Error: Vendor 'V999999' cannot be found in the system."
    assert "error" not in out["Details"][0]["CostCode"]
    assert out["Details"][1]["ProjectTask"] == {
        "value": "07", "error": "Error: Project Task of project 'P-3001' '07' cannot be found "
                               "in the system."}
    assert out["Details"][1]["CostCode"]["error"] == \
        "Error: Cost Code '99999.000' cannot be found in the system."
    assert acu.rows("Bill", **{"$filter": "VendorRef eq 'BAD-1'"}) == []
    nokey = acu.put("Vendor", {"VendorName": w("No Id")})
    assert nokey.status_code == 422
    assert nokey.json()["VendorID"] == {"error": "Error: 'VendorID' cannot be empty."}


def test_project_id_characters_AC_7(acu: Acu) -> None:
    """AC-7: a Job ID of letters, digits and . space - $ , only."""
    r = acu.put("Project", {"ProjectID": w("P#9002"), "Description": w("Bad id")})
    assert r.status_code == 422 and "not a valid Project ID" in r.json()["ProjectID"]["error"]
    assert acu.get("Project/P%239002").status_code == 404


def test_bill_is_numbered_and_found_by_vendor_ref_AC_16(acu: Acu) -> None:
    """AC-16: Acumatica numbers the bill; VendorRef (the invoice number) finds it."""
    bill = {"Type": w("Bill"), "Vendor": w("V003001"), "VendorRef": w("INV-77"),
            "Date": w("2026-06-15"), "Hold": w(False),
            "Details": [{"TransactionDescription": w("Footings"), "Amount": w(1200.5),
                         "Project": w("P-3001"), "ProjectTask": w("01"),
                         "CostCode": w("01100.000")},
                        {"TransactionDescription": w("Walls"), "Qty": w(3), "UnitCost": w(100.25),
                         "Project": w("P-3001"), "ProjectTask": w("02"),
                         "CostCode": w("02101.000")}]}
    r = acu.put("Bill", bill, {"If-None-Match": "*"}, **{"$expand": "Details"})
    assert r.status_code == 200, r.text
    saved = r.json()
    # 48 world bills: the next number is 000049. 1200.50 + 3 × 100.25 = 1501.25.
    assert saved["ReferenceNbr"] == w("000049")
    assert saved["Amount"] == w(1501.25) and saved["Balance"] == w(1501.25)
    assert saved["Status"] == w("Balanced")
    assert [d["Amount"]["value"] for d in saved["Details"]] == [1200.5, 300.75]
    found = acu.rows("Bill", **{"$filter": "VendorRef eq 'INV-77' and Vendor eq 'V003001'"})
    assert [b["id"] for b in found] == [saved["id"]]
    assert acu.get("Bill/Bill/000049").json()["VendorRef"] == w("INV-77")


def test_budget_line_update_moves_revised_budget_AC_11(acu: Acu) -> None:
    """AC-11: the original budget is written onto an existing line; If-Match refuses a line
    whose code was never exported."""
    key = "ProjectBudget/P-3001/02/01100.000/SUBCON"
    assert acu.get(key).json()["OriginalBudgetedAmount"] == w(0.0)
    body = {"ProjectID": w("P-3001"), "ProjectTaskID": w("02"), "CostCode": w("01100.000"),
            "AccountGroup": w("SUBCON"), "OriginalBudgetedAmount": w(1500)}
    r = acu.put("ProjectBudget", body, {"If-Match": "*"})
    assert r.status_code == 200, r.text
    assert r.json()["OriginalBudgetedAmount"] == w(1500.0)
    assert r.json()["RevisedBudgetedAmount"] == w(1500.0)  # 0 + (1500 − 0)
    missing = dict(body, AccountGroup=w("EQUIP"))
    assert acu.put("ProjectBudget", missing, {"If-Match": "*"}).status_code == 412


def test_budget_change_posts_on_hold_and_cco_is_numbered_AC_12_AC_15(acu: Acu) -> None:
    """AC-12: a potential budget change order On Hold. AC-15: change orders are numbered by
    Acumatica and their lines need an existing cost code."""
    budget = {"Class": w("BUDGET"), "ProjectID": w("P-3001"), "Hold": w(True),
              "Description": w("Potential Budget CO 7"), "ExternalRefNbr": w("cb-7"),
              "CostBudget": [{"ProjectTaskID": w("01"), "CostCode": w("01100.000"),
                              "AccountGroup": w("MATERIAL"), "Amount": w(2500)},
                             {"ProjectTaskID": w("02"), "CostCode": w("02101.000"),
                              "AccountGroup": w("LABOR"), "Amount": w(-500.5)}]}
    r = acu.put("ChangeOrder", budget, {"If-None-Match": "*"}, **{"$expand": "CostBudget"})
    assert r.status_code == 200, r.text
    assert r.json()["RefNbr"] == w("000001") and r.json()["Status"] == w("On Hold")
    assert r.json()["CostBudgetChangeTotal"] == w(1999.5)  # 2500 − 500.50
    cco = {"Class": w("COMMITMENT"), "ProjectID": w("P-3001"), "Hold": w(False),
           "ExternalRefNbr": w("cb-8"),
           "Commitments": [{"PONbr": w("SC-001"), "POType": w("Subcontract"),
                            "ProjectTaskID": w("01"), "CostCode": w("55555.000"),
                            "Amount": w(10)}]}
    bad = acu.put("ChangeOrder", cco, {"If-None-Match": "*"})
    assert bad.status_code == 422
    assert "Cost Code '55555.000'" in bad.json()["Commitments"][0]["CostCode"]["error"]
    cco["Commitments"][0]["CostCode"] = w("01100.000")
    ok = acu.put("ChangeOrder", cco, {"If-None-Match": "*"})
    assert ok.status_code == 200 and ok.json()["RefNbr"] == w("000002")
    assert ok.json()["Status"] == w("Open") and ok.json()["CommitmentsChangeTotal"] == w(10.0)
    assert [c["RefNbr"]["value"] for c in acu.rows(
        "ChangeOrder", **{"$filter": "ExternalRefNbr eq 'cb-7'"})] == ["000001"]


def test_procore_pay_check_on_hold_applied_to_a_bill_AC_17(acu: Acu) -> None:
    """AC-17: a check with payment method PROCORE, On Hold, applied to an existing bill."""
    check = {"Type": w("Payment"), "Vendor": w("V003003"), "PaymentMethod": w("PROCORE"),
             "Hold": w(True), "PaymentRef": w("pay-1"), "ApplicationDate": w("2026-06-20"),
             "Details": [{"DocType": w("Bill"), "ReferenceNbr": w("000001"),
                          "AmountPaid": w(1234.5)}]}
    r = acu.put("Check", check, {"If-None-Match": "*"}, **{"$expand": "Details"})
    assert r.status_code == 200, r.text
    saved = r.json()
    assert saved["ReferenceNbr"] == w("000018")  # world checks end at 000017
    assert saved["Status"] == w("On Hold") and saved["PaymentMethod"] == w("PROCORE")
    assert saved["PaymentAmount"] == w(1234.5)  # from the application, none was sent
    found = acu.rows("Check", **{"$filter": "PaymentRef eq 'pay-1' and Vendor eq 'V003003'"})
    assert [c["id"] for c in found] == [saved["id"]]
    check["Details"][0]["ReferenceNbr"], check["PaymentRef"] = w("999999"), w("pay-2")
    bad = acu.put("Check", check, {"If-None-Match": "*"})
    assert bad.status_code == 422
    assert bad.json()["Details"][0]["ReferenceNbr"]["error"] == \
        "Error: Document 'Bill 999999' cannot be found in the system."


def test_writes_stay_when_the_world_advances(acu: Acu) -> None:
    """Last in the module: advancing changes the world's own records."""
    assert requests.post(f"{acu.server.url}/_sandbox/advance", json={"n": 1},
                         timeout=60).status_code == 200
    assert acu.get("Vendor/V009001").json()["VendorName"] == w("Quarry Co")
    assert acu.get("Project/P-9001").json()["Description"] == w("Quay Street Offices")
    assert acu.rows("Bill", **{"$filter": "VendorRef eq 'INV-77'"})[0]["Amount"] == w(1501.25)
