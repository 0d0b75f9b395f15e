"""What a PUT to the Acumatica sandbox may write, entity by entity (issue 6).

``acumatica.py`` applies a body to a row; this module holds the entity rules around that:

- auto-numbering: ``Bill`` and ``Check`` (``ReferenceNbr``) and ``ChangeOrder`` (``RefNbr``)
  get the tenant's next number when the key is left out [C: "auto-numbered when omitted"];
  one sequence per entity, six digits like the world's (``000042``);
- references: vendors, projects, project tasks, cost codes and applied bills named in the
  body must exist in the tenant (written rows count), else a field-level 422 [U: wording];
  a reference is checked only where the tenant serves that entity at all;
- lengths: ``Subcontract``/``PurchaseOrder`` number at most 15 and description at most 60
  characters (AC-14); ``ProjectID`` at most 30 characters of letters, digits and
  ``. -$,`` (AC-7). A project ``Description`` may hold up to 255 characters [U: the column
  size]: the 30-character limit of AC-7 is Procore's, which truncates before export;
- derived fields on insert: document totals from the lines, ``Status`` from ``Hold``
  (``On Hold``, else ``Balanced`` / ``Open``); a budget line's revised amount follows a
  change of its original amount; a new project gets tasks ``01`` and ``02`` as the default
  project template would [sandbox decision].
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["AUTO_NUMBERED", "Refs", "derive", "next_number", "project_tasks", "validate",
           "unwrap"]

AUTO_NUMBERED = {"Bill": "ReferenceNbr", "Check": "ReferenceNbr", "ChangeOrder": "RefNbr"}
MAX_LENGTH: dict[str, dict[str, int]] = {
    "Subcontract": {"SubcontractNbr": 15, "Description": 60},  # AC-14
    "PurchaseOrder": {"OrderNbr": 15, "Description": 60},  # AC-14
    "Project": {"ProjectID": 30, "Description": 255},  # AC-7 / [U] column size
    "Bill": {"VendorRef": 40},  # [U]
    "ChangeOrder": {"Description": 255},  # [U]
}
PROJECT_ID = re.compile(r"^[A-Za-z0-9. $,-]+$")  # AC-7: letters, digits and . space - $ ,
TEMPLATE_TASKS = ("01", "02")

Path = tuple[str | int, ...]
Errors = list[tuple[Path, str]]


@dataclass(frozen=True)
class LineRefs:
    """Which fields of a detail line (or of a header) name a project, task, cost code."""

    project: str | None = None  # the line's own project field
    task: str | None = None
    cost_code: str | None = None
    vendor: str | None = None


# Header fields naming a vendor or a project; the project a line falls back to.
HEADER_REFS: dict[str, LineRefs] = {
    "Bill": LineRefs(vendor="Vendor", project="Project"),
    "Check": LineRefs(vendor="Vendor"),
    "Subcontract": LineRefs(vendor="VendorID"),
    "PurchaseOrder": LineRefs(vendor="VendorID", project="Project"),
    "ChangeOrder": LineRefs(project="ProjectID"),
    "ProjectBudget": LineRefs(project="ProjectID", task="ProjectTaskID", cost_code="CostCode"),
    "ProjectTask": LineRefs(project="ProjectID"),
}
DETAIL_REFS: dict[tuple[str, str], LineRefs] = {
    ("Bill", "Details"): LineRefs("Project", "ProjectTask", "CostCode"),
    ("Subcontract", "Details"): LineRefs("Project", "Task", "CostCode"),  # Task, not ProjectTask
    ("PurchaseOrder", "Details"): LineRefs("Project", "ProjectTask", "CostCode"),
    ("ChangeOrder", "CostBudget"): LineRefs(None, "ProjectTaskID", "CostCode"),
    ("ChangeOrder", "Commitments"): LineRefs(None, "ProjectTaskID", "CostCode", "Vendor"),
}


@dataclass(frozen=True)
class Refs:
    """Key values the tenant holds, in lower case; None where it serves no such entity."""

    vendors: frozenset[str] | None
    projects: frozenset[str] | None
    tasks: frozenset[tuple[str, str]] | None
    cost_codes: frozenset[str] | None
    bills: frozenset[tuple[str, str]] | None


def unwrap(wrapper: Any) -> Any:
    """``{"value": v}`` → v; anything else → None."""
    return wrapper.get("value") if isinstance(wrapper, dict) else None


def _low(value: Any) -> str:
    return str(value).lower()


# -- validation ----------------------------------------------------------------------------------
def validate(entity: str, body: Mapping[str, Any], header_project: str | None,
             refs: Refs) -> Errors:
    """Field errors of the values a body writes (paths into the body)."""
    errors = _lengths(entity, body)
    errors += _refs(body, (), HEADER_REFS.get(entity, LineRefs()), header_project, refs)
    for (owner, detail), fields in DETAIL_REFS.items():
        if owner == entity and isinstance(body.get(detail), list):
            for i, line in enumerate(body[detail]):
                if isinstance(line, dict) and line.get("delete") is not True:
                    errors += _refs(line, (detail, i), fields, header_project, refs)
    if entity == "Check" and isinstance(body.get("Details"), list):
        errors += _applied_bills(body["Details"], refs)
    return errors


def _lengths(entity: str, body: Mapping[str, Any]) -> Errors:
    errors: Errors = []
    for name, limit in MAX_LENGTH.get(entity, {}).items():
        value = unwrap(body.get(name))
        if isinstance(value, str) and len(value) > limit:
            errors.append(((name,), f"Error: '{name}' is too long: {len(value)} characters, "
                                    f"at most {limit}."))
    pid = unwrap(body.get("ProjectID"))
    if entity == "Project" and isinstance(pid, str) and pid and not PROJECT_ID.match(pid):
        errors.append((("ProjectID",), f"Error: '{pid}' is not a valid Project ID: use "
                                       "letters, digits and . space - $ , only."))
    return errors


def _refs(values: Mapping[str, Any], at: Path, fields: LineRefs, header_project: str | None,
          refs: Refs) -> Errors:
    errors: Errors = []

    def unknown(field: str, what: str, value: Any) -> None:
        errors.append(((*at, field), f"Error: {what} '{value}' cannot be found in the system."))

    vendor = unwrap(values.get(fields.vendor)) if fields.vendor else None
    if vendor and refs.vendors is not None and _low(vendor) not in refs.vendors:
        unknown(fields.vendor or "", "Vendor", vendor)
    project = unwrap(values.get(fields.project)) if fields.project else None
    if project and refs.projects is not None and _low(project) not in refs.projects:
        unknown(fields.project or "", "Project", project)
    project = project or header_project
    task = unwrap(values.get(fields.task)) if fields.task else None
    if task and project and refs.tasks is not None and \
            (_low(project), _low(task)) not in refs.tasks:
        unknown(fields.task or "", f"Project Task of project '{project}'", task)
    code = unwrap(values.get(fields.cost_code)) if fields.cost_code else None
    if code and refs.cost_codes is not None and _low(code) not in refs.cost_codes:
        unknown(fields.cost_code or "", "Cost Code", code)
    return errors


def _applied_bills(lines: list[Any], refs: Refs) -> Errors:
    errors: Errors = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict) or refs.bills is None:
            continue
        doc, nbr = unwrap(line.get("DocType")), unwrap(line.get("ReferenceNbr"))
        if nbr and (_low(doc or "Bill"), _low(nbr)) not in refs.bills:
            errors.append((("Details", i, "ReferenceNbr"),
                           f"Error: Document '{doc or 'Bill'} {nbr}' cannot be found in the "
                           "system."))
    return errors


# -- numbering and derived fields ----------------------------------------------------------------
def next_number(existing: Iterable[Any]) -> str:
    """The next six-digit number after the highest numeric one (``000001`` on an empty set)."""
    numbers = [int(v) for v in existing if isinstance(v, str) and v.isdigit()]
    return str(max(numbers, default=0) + 1).zfill(6)


def _total(lines: Any, field: str) -> Decimal:
    return sum((Decimal(str(x.get(field) or 0)) for x in lines or () if isinstance(x, dict)),
               Decimal(0))


def _status(row: dict[str, Any], released: str) -> str:
    return "On Hold" if row.get("Hold") else released


def derive(entity: str, row: dict[str, Any], inserting: bool,
           before: Mapping[str, Any] | None) -> None:
    """Fields the ERP computes, set on ``row`` in place (only columns the row has)."""
    values: dict[str, Any] = {}
    if entity == "ProjectBudget" and before is not None:
        values.update(_revised(row, before))
    elif inserting:
        values.update(_insert_values(entity, row))
    for name, value in values.items():
        if name in row:
            row[name] = value


def _insert_values(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    if entity == "Bill":
        for line in row.get("Details") or ():
            if line.get("Amount") is None and line.get("Qty") is not None \
                    and line.get("UnitCost") is not None:
                line["Amount"] = Decimal(str(line["Qty"])) * Decimal(str(line["UnitCost"]))
        amount = _total(row.get("Details"), "Amount")
        return {"Amount": amount, "Balance": amount, "Status": _status(row, "Balanced")}
    if entity == "Check":
        paid = row.get("PaymentAmount")
        return {"PaymentAmount": paid if paid is not None else _total(row.get("Details"),
                                                                      "AmountPaid"),
                "Status": _status(row, "Balanced")}
    if entity == "ChangeOrder":
        return {"Status": _status(row, "Open"),
                "CostBudgetChangeTotal": _total(row.get("CostBudget"), "Amount"),
                "CommitmentsChangeTotal": _total(row.get("Commitments"), "Amount")}
    if entity == "Subcontract":
        return {"SubcontractTotal": _total(row.get("Details"), "Amount"),
                "Status": row.get("Status") or "Open"}
    if entity == "PurchaseOrder":
        return {"OrderTotal": _total(row.get("Details"), "ExtendedCost"),
                "Status": row.get("Status") or "Open"}
    if entity == "Project":
        return {"Status": row.get("Status") or "Active",
                "Hold": row.get("Hold") if row.get("Hold") is not None else False}
    return {}


def _revised(row: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, Any]:
    """A new original budget moves the revised budget by the same change."""
    old, new = before.get("OriginalBudgetedAmount"), row.get("OriginalBudgetedAmount")
    if new is None or old == new or before.get("RevisedBudgetedAmount") is None:
        return {}
    if row.get("RevisedBudgetedAmount") != before.get("RevisedBudgetedAmount"):
        return {}  # the body set the revised amount itself
    change = Decimal(str(new)) - Decimal(str(old or 0))
    return {"RevisedBudgetedAmount": Decimal(str(before["RevisedBudgetedAmount"])) + change}


def project_tasks(project_id: str) -> list[dict[str, Any]]:
    """The tasks a new project gets from the default template (values by ProjectTask field)."""
    return [{"id": str(uuid.uuid4()), "ProjectID": project_id, "ProjectTaskID": task,
             "Description": f"Task {task}", "Status": "Active", "Default": task == "01"}
            for task in TEMPLATE_TASKS]
