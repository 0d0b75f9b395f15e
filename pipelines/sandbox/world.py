"""Deterministic world generator: Procore companies paired with ERPs, and the ERP ledgers.

The world is a set of polars frames built from ``(seed, size)`` with numpy, so the ``large`` size
(over a million ERP cost lines) builds in seconds. Every ERP cost line carries the generator's own
truth about it (``is_*_ok`` flags and ``intent``), set when the line is drawn, never derived from
the connector rules the warehouse applies, so tests can compare the warehouse with ``ledger()``.

Money is integer cents in the frames; serializers and the ledger turn it into Decimal.

For the export queue (issue 6) each connection also has Procore items not yet in the ERP, drawn
last from their own rng stream so no earlier draw moves (``_exports``): project addresses,
Procore-only projects with WBS codes, commitments and approved invoices, ``procore_only_vendors``,
every commitment's schedule of values (``procore_commitment_lines``) and the commitment payments
Procore imported (``procore_payments``; ``payments_pending_import`` lists the rest).
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl

ERP_KINDS = ("xero", "netsuite", "acumatica")
COST_TYPES = {"L": "Labor", "M": "Materials", "S": "Subcontract", "E": "Equipment", "O": "Other"}
DIVISIONS = {
    1: "General Requirements", 2: "Existing Conditions", 3: "Concrete", 4: "Masonry",
    5: "Metals", 6: "Wood and Plastics", 7: "Thermal and Moisture", 8: "Openings",
    9: "Finishes", 10: "Specialties", 22: "Plumbing", 23: "HVAC", 26: "Electrical",
    31: "Earthwork", 32: "Exterior Improvements", 33: "Utilities",
}
# ERP-only items: never exported from Procore, so lines on them are unsyncable (XE-11, NS-14).
ERP_ONLY_ITEMS = ("GEN-OVERHEAD", "FUEL", "OFFICE-SUPPLIES", "TOOLS-SMALL")
# NetSuite items of types other than Other Charge, which cannot stand for WBS codes (NS-7).
NS_OTHER_TYPE_ITEMS = (("CONCRETE-MIX-C30", "InvtPart"), ("SAFETY-GEAR", "NonInvtPart"),
                       ("SURVEY-SERVICES", "Service"))
# Transaction kinds per ERP: which count in JTD cost and which are commitment invoiced.
CREDIT_KINDS = ("credit_note", "subinv_credit")
JTD_KINDS = {"xero": ("bill", "subinv_bill", "spend"),  # XE-12
             "netsuite": ("bill", "subinv_bill", "spend", "credit_note", "subinv_credit",
                          "journal"),  # docs/netsuite.md: every retrieved cost, signed
             # AC-21: all four amount types (AC-22: payroll too), debit adjustments negative.
             "acumatica": ("bill", "subinv_bill", "spend", "credit_note", "subinv_credit",
                           "payroll")}
CI_KINDS = ("subinv_bill", "subinv_credit")
ELIGIBLE_KINDS = {"xero": ("bill", "subinv_bill", "spend", "credit_note"),  # XE-11
                  "netsuite": JTD_KINDS["netsuite"], "acumatica": JTD_KINDS["acumatica"]}
# World kind -> the ERP's own transaction type.
ERP_TYPES = {
    "xero": {"bill": "ACCPAY", "subinv_bill": "ACCPAY", "spend": "SPEND",
             "credit_note": "ACCPAYCREDIT", "receive": "RECEIVE"},
    "netsuite": {"bill": "VendBill", "subinv_bill": "VendBill", "spend": "Check",
                 "credit_note": "VendCred", "subinv_credit": "VendCred", "receive": "Deposit",
                 "journal": "Journal"},
    # Acumatica: the bill type for AP documents, the project ledger module for the rest.
    "acumatica": {"bill": "Bill", "subinv_bill": "Bill", "credit_note": "Debit Adj.",
                  "subinv_credit": "Debit Adj.", "spend": "GL", "payroll": "PR",
                  "receive": "AR"},
}
# Acumatica account groups, which Procore imports as cost types (cost type code = group id).
AC_COST_TYPES = {"LABOR": "Labor", "MATERIAL": "Materials", "SUBCON": "Subcontract",
                 "EQUIP": "Equipment", "OTHER": "Other"}
AC_AMOUNT_TYPES = ("subcontract_invoice", "invoice", "expense", "payroll")  # AC-21
AC_CASES = {  # case: probability (own Acumatica project transactions)
    "ok": 0.83,
    "unsynced_project": 0.05,  # C-4's project or the overhead project
    "sub_job_unsynced": 0.04,  # AC-9: a task of a sub job Procore does not have
    "code_not_synced": 0.04,  # AC-3: a code added in Acumatica after the last import
    "code_off_project": 0.04,  # a synced code this project's WBS lacks: still syncs
}
RETAINAGE_ITEM = "RETAINAGE"
COMPANY_NAMES = ("Harbour", "Summit", "Ridge", "Cascade", "Pioneer", "Granite", "Meridian",
                 "Beacon", "Keystone")
PROJECT_NAMES = ("Harbour View", "Lakeside", "Northgate", "Riverbend", "Hillcrest", "Westfield")
WORLD_START = datetime(2025, 1, 1, tzinfo=UTC)
LIVE_DATE = datetime(2025, 3, 1, tzinfo=UTC)  # connections go live here (C-4)
WORLD_NOW = datetime(2026, 6, 30, tzinfo=UTC)
PROCORE_LAST_SYNC = datetime(2026, 6, 15, tzinfo=UTC)  # last job-cost import into Procore

# Names longer than the ERPs' limits, on purpose (XE-6: 41, AC-7: 30, Xero tracking: 100).
LONG_SUFFIX = " Construction Services and Specialty Subcontracting Group International Holdings"


@dataclass(frozen=True)
class Size:
    kinds: tuple[str, ...]
    projects: int
    cost_codes: int
    vendors: int
    txns: int  # ERP cost transactions per connection
    wbs_per_project: int
    # Connections (by index) whose Procore cost code list has one tier (NS-5).
    single_tier: tuple[int, ...] = ()


SIZES: dict[str, Size] = {
    "tiny": Size(("xero", "netsuite", "acumatica", "netsuite"), 4, 6, 8, 80, 10, (3,)),
    "demo": Size(("xero", "netsuite", "acumatica", "xero", "netsuite"), 14, 40, 80, 3600, 30,
                 (4,)),
    "large": Size(ERP_KINDS * 3, 60, 120, 400, 45000, 60, (7,)),
}


def _guid(rng: np.random.Generator, n: int) -> list[str]:
    hi = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    lo = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    return [str(uuid.UUID(int=(int(a) << 65 | int(b) << 1) & (2**128 - 1), version=4))
            for a, b in zip(hi, lo, strict=True)]


def _ids(rng: np.random.Generator, erp: str, n: int, start: int) -> list[str]:
    """Record ids as the ERP mints them: Xero GUIDs; NetSuite integer internal ids (as text),
    from ``start`` so they stay unique across the world's connections."""
    if erp == "netsuite":
        return [str(start + k) for k in range(n)]
    return _guid(rng, n)


def _ts(base: datetime, seconds: np.ndarray) -> pl.Series:
    start = np.datetime64(base.replace(tzinfo=None), "us")
    return pl.Series(start + seconds.astype("timedelta64[s]")).dt.replace_time_zone("UTC")


@dataclass
class World:
    """All entities, keyed by table name; ``now`` is the world's clock.

    Procore frames for exports (``_exports``; money in cents): ``procore_projects`` has
    ``address``, ``city``; ``procore_only_vendors`` (``vendors``' columns, no ERP contact);
    ``procore_commitment_lines`` (connection_id, commitment_id, line_id, wbs_code_id,
    flat_code, description, quantity, unit_cost, amount); ``procore_payments``
    (connection_id, payment_id, project_id, commitment_id, requisition_id, invoice_number,
    origin_id = the ERP payment id, amount, payment_date, reference, created_at, updated_at,
    deleted_at). ``advance()`` leaves them as they are (Procore keeps a payment deleted in the
    ERP, XE-10). CCOs, budget changes and Procore Pay payments (``CHANGE_FRAMES``) are
    described in ``_changes``; ``advance()`` leaves them alone too."""

    seed: int
    size: str
    now: datetime = WORLD_NOW
    t: dict[str, pl.DataFrame] = field(default_factory=dict)
    step: int = 0

    # -- views -------------------------------------------------------------------------------
    def connections(self, erp: str | None = None) -> pl.DataFrame:
        c = self.t["connections"]
        return c if erp is None else c.filter(pl.col("erp") == erp)

    def connection(self, connection_id: str) -> dict:
        return self.t["connections"].filter(pl.col("connection_id") == connection_id).row(
            0, named=True)

    def ledger(self, connection_id: str | None = None) -> pl.DataFrame:
        """Expected job costs per connection, project, cost code and cost type.

        Built only from the generator's own flags: a line counts when it was drawn with an
        approved status, an eligible type, a synced project and a synced item. JTD is the
        ERP's job-cost kinds (``JTD_KINDS``: Xero bills and spend money, XE-12; NetSuite every
        retrieved cost, credits negative); commitment invoiced is what was exported from
        Procore (subcontractor invoices, and NetSuite vendor credits for negative ones).
        """
        lines = self.cost_lines(connection_id).filter(pl.col("is_syncable"))
        jtd = pl.lit(False)
        for erp, kinds in JTD_KINDS.items():
            jtd = jtd | ((pl.col("erp") == erp) & pl.col("txn_kind").is_in(kinds))
        # Acumatica: commitment invoiced is the subcontract invoices amount type (AC-21), which
        # includes bills entered in Acumatica against a synced subcontract.
        ci = (pl.when(pl.col("erp") == "acumatica")
              .then(pl.col("amount_type") == "subcontract_invoice")
              .otherwise(pl.col("txn_kind").is_in(CI_KINDS)))
        by_type = {f"{t}_cents": pl.col("signed_amount").filter(pl.col("amount_type") == t).sum()
                   for t in AC_AMOUNT_TYPES}
        return (
            lines.filter(jtd)
            .group_by("connection_id", "procore_project_id", "cost_code", "cost_type")
            .agg(
                jtd_cents=pl.col("signed_amount").sum(),
                ci_cents=pl.col("signed_amount").filter(ci).sum(),
                **by_type,
            )
            .with_columns(direct_cents=pl.col("jtd_cents") - pl.col("ci_cents"))
            .sort("connection_id", "procore_project_id", "cost_code", "cost_type")
        )

    def cost_lines(self, connection_id: str | None = None) -> pl.DataFrame:
        """ERP cost lines joined to their transaction, with the generator's truth flags and
        the line's signed amount (credit documents negative)."""
        lines = self.t["erp_lines"]
        txns = self.t["erp_txns"].select(
            "txn_id", "txn_kind", "status", "erp_type", "is_status_ok", "is_type_ok",
            "posts_to_ledger")
        erps = self.t["connections"].select("connection_id", "erp")
        if "amount_type" not in lines.columns:
            lines = lines.with_columns(amount_type=pl.lit(None, pl.String))
        out = lines.join(txns, on="txn_id", maintain_order="left").join(
            erps, on="connection_id", maintain_order="left").with_columns(
            is_syncable=pl.col("is_status_ok") & pl.col("is_type_ok")
            & pl.col("is_project_ok") & pl.col("is_item_ok"),
            signed_amount=_signed("txn_kind", "line_amount"),
        ).filter(pl.col("posts_to_ledger"))
        if connection_id:
            out = out.filter(pl.col("connection_id") == connection_id)
        return out

    # -- changes, for incremental tests ------------------------------------------------------
    def advance(self, n: int = 3) -> dict[str, list]:
        """Move the clock one day and change a few records on both sides.

        Returns the ids changed per entity, so a test knows what an incremental run must see.
        """
        self.step += 1
        rng = np.random.default_rng([self.seed, 7919, self.step])
        self.now = self.now + timedelta(days=1)
        stamp = self.now - timedelta(minutes=5)
        changed: dict[str, list] = {}
        txns = self.t["erp_txns"]
        xero_conn = self.connections("xero")["connection_id"].to_list()
        ns_conn = self.connections("netsuite")["connection_id"].to_list()
        ac_conn = self.connections("acumatica")["connection_id"].to_list()
        paid = self.t["erp_payments"]["txn_id"].implode()
        void_ids, bump_ids, gone_ids = [], [], []
        for erp, cid in ([("xero", c) for c in xero_conn] + [("netsuite", c) for c in ns_conn]
                         + [("acumatica", c) for c in ac_conn]):
            first_void, first_bump = len(void_ids), len(bump_ids)
            mine = txns.filter(pl.col("connection_id") == cid)
            live = mine.filter((pl.col("txn_kind") == "bill") & (pl.col("status") == "AUTHORISED")
                               & ~pl.col("txn_id").is_in(paid))
            void_ids += live.sample(n=min(n, live.height),
                                    seed=int(rng.integers(1 << 30)))["txn_id"].to_list()
            spend = mine.filter((pl.col("txn_kind") == "spend")
                                & (pl.col("status") == "AUTHORISED"))
            bump_ids += spend.sample(n=min(n, spend.height),
                                     seed=int(rng.integers(1 << 30)))["txn_id"].to_list()
            prefix = "" if erp == "xero" else f"{erp}_"
            changed.setdefault(f"{prefix}bills_voided", []).extend(void_ids[first_void:])
            changed.setdefault(f"{prefix}spend_changed", []).extend(bump_ids[first_bump:])
        # NetSuite: a check already synced to Procore is deleted (NS-18: never detected).
        synced = self.t["procore_direct_costs"].filter(pl.col("deleted_at").is_null())["txn_id"]
        checks = txns.filter(pl.col("connection_id").is_in(ns_conn)
                             & (pl.col("txn_kind") == "spend") & (pl.col("status") == "AUTHORISED")
                             & pl.col("txn_id").is_in(synced.implode())
                             & ~pl.col("txn_id").is_in(pl.Series(bump_ids, dtype=pl.String)
                                                       .implode()))
        gone_ids = checks.head(1)["txn_id"].to_list()
        touched = pl.Series(void_ids + bump_ids + gone_ids, dtype=pl.String).implode()
        voided = pl.col("txn_id").is_in(pl.Series(void_ids, dtype=pl.String).implode())
        deleted = pl.col("txn_id").is_in(pl.Series(gone_ids, dtype=pl.String).implode())
        bump_ids = pl.Series(bump_ids, dtype=pl.String)
        self.t["erp_txns"] = txns.with_columns(
            status=pl.when(voided).then(pl.lit("VOIDED")).when(deleted).then(pl.lit("DELETED"))
            .otherwise(pl.col("status")),
            is_status_ok=pl.when(voided | deleted).then(False).otherwise(pl.col("is_status_ok")),
            updated_at=pl.when(pl.col("txn_id").is_in(touched))
            .then(pl.lit(stamp)).otherwise(pl.col("updated_at")),
        )
        # Spend money edited in Xero: every line of those transactions grows by 100.00.
        self.t["erp_lines"] = self.t["erp_lines"].with_columns(
            line_amount=pl.when(pl.col("txn_id").is_in(bump_ids.implode()))
            .then(pl.col("line_amount") + 10_000).otherwise(pl.col("line_amount")),
            unit_amount=pl.when(pl.col("txn_id").is_in(bump_ids.implode()))
            .then(pl.col("line_amount") + 10_000).otherwise(pl.col("unit_amount")),
            quantity=pl.when(pl.col("txn_id").is_in(bump_ids.implode()))
            .then(pl.lit(1.0)).otherwise(pl.col("quantity")),
        )
        pays = self.t["erp_payments"]
        live_pay = pays.filter((pl.col("status") == "AUTHORISED")
                               & pl.col("connection_id").is_in(xero_conn))
        del_pay = live_pay.sample(n=min(1, live_pay.height), seed=self.step)["payment_id"]
        self.t["erp_payments"] = pays.with_columns(
            status=pl.when(pl.col("payment_id").is_in(del_pay.implode())).then(pl.lit("DELETED"))
            .otherwise(pl.col("status")),
            updated_at=pl.when(pl.col("payment_id").is_in(del_pay.implode())).then(pl.lit(stamp))
            .otherwise(pl.col("updated_at")),
        )
        projects = self.t["procore_projects"]
        ren = projects.filter(pl.col("connection_id").is_in(xero_conn)).head(1)["project_id"]
        self.t["procore_projects"] = projects.with_columns(
            name=pl.when(pl.col("project_id").is_in(ren.implode()))
            .then(pl.col("name") + f" (rev {self.step})").otherwise(pl.col("name")),
            updated_at=pl.when(pl.col("project_id").is_in(ren.implode())).then(pl.lit(stamp))
            .otherwise(pl.col("updated_at")),
        )
        # A user deletes a synced direct cost in Procore by hand (C-7's remedy).
        dcs = self.t["procore_direct_costs"]
        gone = dcs.filter(pl.col("deleted_at").is_null()
                          & pl.col("connection_id").is_in(xero_conn)).head(1)["direct_cost_id"]
        self.t["procore_direct_costs"] = dcs.with_columns(
            deleted_at=pl.when(pl.col("direct_cost_id").is_in(gone.implode()))
            .then(pl.lit(stamp)).otherwise(pl.col("deleted_at")),
            synced_at=pl.when(pl.col("direct_cost_id").is_in(gone.implode()))
            .then(pl.lit(stamp)).otherwise(pl.col("synced_at")),
        )
        # Acumatica: a vendor's phone is changed in Acumatica (AC-1: flows to Procore).
        vendors = self.t["vendors"]
        edit = vendors.filter(pl.col("connection_id").is_in(ac_conn) & pl.col("is_linked")
                              ).head(1)["contact_id"].implode()
        self.t["vendors"] = vendors.with_columns(
            erp_phone=pl.when(pl.col("contact_id").is_in(edit))
            .then(pl.format("+64 9 888 {}", self.step)).otherwise(pl.col("erp_phone")),
            erp_updated_at=pl.when(pl.col("contact_id").is_in(edit)).then(pl.lit(stamp))
            .otherwise(pl.col("erp_updated_at")))
        changed["acumatica_vendors_edited"] = edit.explode().to_list()
        changed["direct_costs_deleted"] = gone.to_list()
        changed["netsuite_transactions_deleted"] = gone_ids
        changed["payments_deleted"] = del_pay.to_list()
        changed["projects_renamed"] = ren.to_list()
        return changed


def _signed(kind: str, amount: str) -> pl.Expr:
    """A credit document's lines reduce cost; the world keeps them positive, like Xero."""
    return (pl.when(pl.col(kind).is_in(CREDIT_KINDS)).then(-pl.col(amount))
            .otherwise(pl.col(amount)))


def cents(v: int) -> Decimal:
    return (Decimal(int(v)) / 100).quantize(Decimal("0.01"))


# -- generation ----------------------------------------------------------------------------------

def generate(seed: int = 42, size: str = "tiny", exports: bool = True) -> World:
    """The world; ``exports=False`` leaves out the export queue's Procore items (``_exports``),
    which tests use to prove those additions moved no other draw."""
    if size not in SIZES:
        raise ValueError(f"unknown world size {size!r}: choose one of {', '.join(SIZES)}")
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    parts: dict[str, list[pl.DataFrame]] = {}
    conns = []
    for i, kind in enumerate(spec.kinds):
        cid = f"{kind}-{sum(1 for k in spec.kinds[:i] if k == kind) + 1}"
        tenant = _guid(rng, 1)[0]
        if kind == "netsuite":  # the account id, which is also the OAuth realm
            tenant = f"{7_100_000 + i + 1}_SB1"
        elif kind == "acumatica":  # the tenant (company) name sent at login
            tenant = f"{COMPANY_NAMES[i % len(COMPANY_NAMES)]}{i + 1}"
        conns.append({
            "connection_id": cid, "erp": kind, "procore_company_id": 4000 + i + 1,
            "company_name": f"{COMPANY_NAMES[i % len(COMPANY_NAMES)]} Builders {i + 1}",
            "erp_tenant_id": tenant, "live_date": LIVE_DATE,
            "retainage_item": RETAINAGE_ITEM, "tracking_category": "Job",
            "cost_code_tiers": 1 if i in spec.single_tier else 2,
        })
        sub = _generate_connection(rng, spec, conns[-1], i, seed, exports)
        for k, v in sub.items():
            parts.setdefault(k, []).append(v)
    w = World(seed=seed, size=size)
    w.t["connections"] = pl.DataFrame(conns)
    for k, frames in parts.items():
        w.t[k] = pl.concat(frames, how="diagonal_relaxed")
    return w


def _generate_connection(rng: np.random.Generator, spec: Size, conn: dict, ci: int,
                         seed: int = 0, exports: bool = True) -> dict:
    cid, company, erp = conn["connection_id"], conn["procore_company_id"], conn["erp"]
    single_tier = conn["cost_code_tiers"] == 1
    base = (ci + 1) * 1_000_000
    ns_base = (ci + 1) * 10_000_000  # NetSuite internal ids, unique across the world
    out: dict[str, pl.DataFrame] = {}
    out["vendors"] = _vendors(rng, spec, cid, erp, base, ns_base)

    # Company cost code list; two tiers (division-code) unless the list is single-tier (NS-5).
    divs = list(DIVISIONS)
    codes = []
    for j in range(spec.cost_codes):
        d = divs[j % len(divs)]
        sep = "" if single_tier else "-"
        # Acumatica's list shows in Procore as division-code.sub (AC-4: 10600.000 → 10-600.000).
        sub = ".000" if erp == "acumatica" else ""
        codes.append((f"{d:02d}{sep}{100 + 10 * (j // len(divs)) + j % 7:03d}{sub}",
                       DIVISIONS[d]))
    codes = list(dict.fromkeys(codes))
    # Projects: synced ones are ERP projects (Xero tracking options, NetSuite jobs) linked in
    # Procore; one pre-existing project (created before the connection went live) was never
    # linked (C-4). On NetSuite one project does not use the standard cost code list (NS-9),
    # and nothing syncs on a single-tier list (NS-5).
    np_ = spec.projects
    pnames = [f"{PROJECT_NAMES[j % len(PROJECT_NAMES)]} {('Residences', 'Tower')[j % 2]} {j + 1}"
              for j in range(np_)]
    pnames[1] = pnames[1] + " Stage Two Mixed-Use Redevelopment and Civil Works"
    created_p = np.where(np.arange(np_) == np_ - 1, 0, rng.integers(60, 400, np_)) * 86400
    is_synced = np.ones(np_, dtype=bool)
    is_synced[np_ - 1] = False  # pre-existing, unlinked (C-4)
    standard_list = np.ones(np_, dtype=bool)
    if erp == "netsuite" and not single_tier:
        standard_list[np_ - 2] = is_synced[np_ - 2] = False  # NS-9
    if single_tier:
        is_synced[:] = False
    option_ids = _ids(rng, erp, np_, ns_base + 2000)
    if erp == "acumatica":  # AC-7: the ERP Job ID is the Procore project number
        option_ids = [f"P-{ci + 1}{j + 1:03d}" for j in range(np_)]
    procore_projects = pl.DataFrame({
        "connection_id": cid, "company_id": company, "project_id": base + 100 + np.arange(np_),
        "project_number": [f"P-{ci + 1}{j + 1:03d}" for j in range(np_)],
        "name": pnames, "is_synced": is_synced, "erp_option_id": option_ids,
        "uses_standard_list": standard_list, "active": True,
        "created_at": _ts(WORLD_START, created_p),
        "updated_at": _ts(WORLD_START, created_p + 86400 * 3),
    })
    out["procore_projects"] = procore_projects
    wbs = _wbs_codes(rng, spec, conn, ns_base, base, codes, procore_projects)
    # ERP projects: every project the ERP has (NS-9's project never became a NetSuite job),
    # plus an ERP-only overhead project, and on NetSuite a sub job under each synced job (NS-6).
    ns9 = ~pl.col("uses_standard_list") if erp == "netsuite" else pl.lit(False)
    options = [
        procore_projects.filter(~ns9).select(
            "connection_id", option_id="erp_option_id", name="name", project_id="project_id",
            is_synced="is_synced"),
        pl.DataFrame({"connection_id": [cid],
                      "option_id": ["OVERHEAD"] if erp == "acumatica"
                      else _ids(rng, erp, 1, ns_base + 2900),
                      "name": ["Head Office Overhead"], "project_id": [-1],
                      "is_synced": [False]}),
    ]
    if erp == "netsuite":
        parents = procore_projects.filter(pl.col("is_synced"))
        options.append(parents.select(
            "connection_id", option_id=pl.Series(_ids(rng, erp, parents.height, ns_base + 3000)),
            name=pl.col("name") + " : Phase 2 Fit-out", project_id=pl.lit(-1),
            is_synced=pl.lit(False), parent_option_id="erp_option_id"))
    out["erp_options"] = pl.concat(options, how="diagonal_relaxed")

    commits, reqs, req_lines = _commitments(rng, spec, conn, base, procore_projects, wbs,
                                            out["vendors"])
    if erp == "netsuite":  # exporting an invoice creates its codes' missing items (NS-4)
        wbs = _items_from_invoices(wbs, reqs, req_lines, ns_base)
    out["wbs_codes"] = wbs
    if erp != "acumatica":  # Acumatica's list is cost codes (erp_cost_codes), not items
        out["erp_items"] = _erp_items(rng, conn, ns_base, codes, wbs, procore_projects)
    out["procore_commitments"], out["procore_requisitions"] = commits, reqs
    out["procore_requisition_lines"] = req_lines
    if erp == "acumatica":
        out["erp_cost_codes"] = _ac_cost_codes(cid, codes)
        out["erp_purchase_orders"] = _ac_purchase_orders(rng, cid, procore_projects,
                                                         out["vendors"])
        out["procore_standard_cost_codes"] = _ac_standard_codes(
            base, company, out["erp_cost_codes"])
    txns, lines = _erp_transactions(rng, spec, conn, base, ns_base, procore_projects, wbs,
                                    out["vendors"], out["erp_options"], out.get("erp_items"),
                                    reqs, req_lines, out)
    out["erp_txns"], out["erp_lines"] = txns, lines
    out["erp_payments"] = _payments(rng, conn, ns_base, txns)
    out["procore_users"] = _procore_users(cid, company, base)
    dc, dcl = _procore_direct_costs(cid, erp, base, txns, lines)
    # Its own rng, so the draws above (and every later connection's) stay as they were.
    out["erp_txns"], out["erp_lines"], dc, dcl = _draw_findings(
        np.random.default_rng([seed, 104_729, ci]), txns, lines, out["erp_payments"], dc, dcl)
    out["procore_direct_costs"], out["procore_direct_cost_lines"] = dc, dcl
    if exports:  # appended last, from their own stream: nothing above moves
        out.update(_exports(_exports_rng(seed, cid), conn, ci, out))
        out.update(_changes(_changes_rng(seed, cid), conn, out))
    return out


DRAWN_AMOUNT_DELTA = 25_000  # cents added to each line of the bill edited after the import


def _draw_findings(rng, txns, lines, pays, dc, dcl):
    """A few deliberate discrepancies between Procore and the ERP after Procore's last import
    (C-7), one of each per connection, recorded as ``drawn_finding`` on the ERP transaction
    and on the direct cost Procore holds for it (none for ``erp_only``: Procore lacks it):

    - ``amount_differs``: a partly paid bill's lines edited in the ERP (+DRAWN_AMOUNT_DELTA
      each); Procore keeps the old amounts.
    - ``date_differs``: a paid bill's date edited in the ERP; Procore keeps the old date.
    - ``vendor_differs``: Procore holds a paid bill under the vendor's former name.
    - ``erp_only``: a paid bill, unchanged since before the import, the import skipped.
    - ``voided_after_sync``: an unpaid bill voided in the ERP; Procore keeps it.

    Only plain bills (not subcontractor invoices) that Procore holds live, unchanged since
    its import, are picked: they name a vendor, and the paid ones are never picked by
    ``advance()``, which voids unpaid bills, edits and deletes spend money and deletes the
    connection's first direct cost by hand (so that one is left out here)."""
    no_finding = pl.lit(None, pl.String)
    if dc.height == 0:  # NS-5: nothing syncs, nothing to differ
        return (txns.with_columns(drawn_finding=no_finding), lines,
                dc.with_columns(drawn_finding=no_finding), dcl)
    info = txns.select("txn_id", "contact_id", "updated_at")
    cand = dc.slice(1).join(info, on="txn_id").filter(
        (pl.col("txn_kind") == "bill") & (pl.col("status") != "DELETED")
        & pl.col("contact_id").is_not_null() & (pl.col("updated_at") <= pl.col("synced_at")))
    paid = pays.filter(pl.col("status") == "AUTHORISED")
    partial = paid.filter(pl.col("is_partial"))["txn_id"].implode()
    paid_ids = pays["txn_id"].implode()
    order = rng.permutation(cand.height)
    cand = cand[order.tolist()] if cand.height else cand
    picks: dict[str, str] = {}
    pools = (("amount_differs", pl.col("txn_id").is_in(partial)),
             ("date_differs", pl.col("txn_id").is_in(paid_ids)),
             ("vendor_differs", pl.col("txn_id").is_in(paid_ids)),
             ("erp_only", pl.col("txn_id").is_in(paid_ids)),
             ("voided_after_sync", ~pl.col("txn_id").is_in(paid_ids)
              & (pl.col("status") == "AUTHORISED")))
    for finding, pool in pools:
        taken = pl.Series(list(picks), dtype=pl.String).implode()
        left = cand.filter(pool & ~pl.col("txn_id").is_in(taken))
        if left.height:
            picks[left["txn_id"][0]] = finding
    drawn = pl.col("txn_id").replace_strict(picks, default=None, return_dtype=pl.String)
    # ERP edits land after the import and before the world's clock.
    edited_at = [PROCORE_LAST_SYNC + timedelta(days=int(d), hours=int(h))
                 for d, h in zip(rng.integers(1, 14, 3), rng.integers(0, 24, 3), strict=True)]
    stamp = (pl.when(drawn == "amount_differs").then(pl.lit(edited_at[0]))
             .when(drawn == "date_differs").then(pl.lit(edited_at[1]))
             .when(drawn == "voided_after_sync").then(pl.lit(edited_at[2])))
    bumped = drawn == "amount_differs"
    n_lines = lines.filter(bumped).height
    voided = drawn == "voided_after_sync"
    txns = txns.with_columns(
        drawn_finding=drawn,
        txn_date=pl.when(drawn == "date_differs").then(pl.col("txn_date") + timedelta(days=3))
        .otherwise(pl.col("txn_date")),
        total=pl.when(bumped).then(pl.col("total") + DRAWN_AMOUNT_DELTA * n_lines)
        .otherwise(pl.col("total")),
        status=pl.when(voided).then(pl.lit("VOIDED")).otherwise(pl.col("status")),
        is_status_ok=pl.when(voided).then(False).otherwise(pl.col("is_status_ok")),
        updated_at=pl.coalesce(stamp, pl.col("updated_at")),
    )
    # Every line of the edited bill grows, as advance() edits spend money.
    lines = lines.with_columns(
        line_amount=pl.when(bumped).then(pl.col("line_amount") + DRAWN_AMOUNT_DELTA)
        .otherwise(pl.col("line_amount")),
        unit_amount=pl.when(bumped).then(pl.col("line_amount") + DRAWN_AMOUNT_DELTA)
        .otherwise(pl.col("unit_amount")),
        quantity=pl.when(bumped).then(pl.lit(1.0)).otherwise(pl.col("quantity")),
    )
    skipped = dc.filter(drawn == "erp_only")["direct_cost_id"].implode()
    dc = dc.with_columns(
        drawn_finding=drawn,
        contact_name=pl.when(drawn == "vendor_differs")
        .then(pl.col("contact_name") + " Trading")  # the vendor's former name
        .otherwise(pl.col("contact_name")),
    ).filter(~pl.col("direct_cost_id").is_in(skipped))
    return txns, lines, dc, dcl.filter(~pl.col("direct_cost_id").is_in(skipped))


# Procore users per company: (ERP Integrations level, Can Push to Accounting, active). Only
# Standard or Admin with the privilege make an accounting approver (C-2, R-3).
PROCORE_USERS = (("admin", True, True), ("standard", True, True), ("standard", False, True),
                 ("read_only", True, True), ("none", False, True), ("admin", True, False))


def _procore_users(cid: str, company: int, base: int) -> pl.DataFrame:
    n = len(PROCORE_USERS)
    return pl.DataFrame({
        "connection_id": cid, "company_id": company, "user_id": base + 900_000 + np.arange(n),
        "name": [f"User {j + 1} of {cid}" for j in range(n)],
        "email": [f"user{j + 1}@{cid}.example" for j in range(n)],
        "erp_integrations_permission": [u[0] for u in PROCORE_USERS],
        "can_push_to_accounting": [u[1] for u in PROCORE_USERS],
        "is_active": [u[2] for u in PROCORE_USERS],
        "is_accounting_approver": [u[0] in ("standard", "admin") and u[1] and u[2]
                                   for u in PROCORE_USERS],
        "updated_at": _ts(WORLD_START, np.full(n, 10 * 86400)),
    })


def _vendors(rng, spec: Size, cid: str, erp: str, base: int, ns_base: int) -> pl.DataFrame:
    """Procore companies (directory) and ERP vendors; some only on one side. On NetSuite some
    linked vendors were since edited in NetSuite (the change flows to Procore on the next
    sync) and some in Procore (never flows to NetSuite): NS-10."""
    nv = spec.vendors
    vnames = [f"Vendor {cid.upper()} {j + 1:04d} Ltd" for j in range(nv)]
    for j in rng.choice(nv, size=max(1, nv // 10), replace=False):
        vnames[j] = vnames[j].replace(" Ltd", LONG_SUFFIX)
    contact_ids = _ids(rng, erp, nv, ns_base + 1000)
    if erp == "acumatica":  # Acumatica vendor ids: the segmented key, e.g. V003012
        contact_ids = [f"V{(base // 1000) + j:06d}" for j in range(nv)]
    in_procore = rng.random(nv) < 0.9
    in_procore[:3] = True
    linked = in_procore & (rng.random(nv) < 0.85)
    linked[:2] = True
    created = rng.integers(0, 400 * 86400, nv)
    updated = created + rng.integers(0, 100 * 86400, nv)
    phones = [f"+64 9 555 {j:04d}" for j in range(nv)]
    edited = np.full(nv, None, dtype=object)
    if erp in ("netsuite", "acumatica"):  # NS-10, AC-1
        u = rng.random(nv)
        edited[linked & (u < 0.08)] = "erp"
        edited[linked & (u >= 0.08) & (u < 0.16)] = "procore"
        edited[np.flatnonzero(linked)[:2]] = ["erp", "procore"]
    late = int((PROCORE_LAST_SYNC - WORLD_START).total_seconds()) + 86400
    erp_phones = [f"+64 9 777 {j:04d}" if e == "erp" else p
                  for j, (p, e) in enumerate(zip(phones, edited, strict=True))]
    procore_phones = [f"+64 21 444 {j:04d}" if e == "procore" else p
                      for j, (p, e) in enumerate(zip(phones, edited, strict=True))]
    return pl.DataFrame({
        "connection_id": cid, "vendor_index": np.arange(nv), "contact_id": contact_ids,
        "name": vnames, "in_procore": in_procore, "is_linked": linked,
        "procore_vendor_id": np.where(in_procore, base + 10_000 + np.arange(nv), -1),
        "address": [f"{10 + j} Quay Street" for j in range(nv)],
        "city": "Auckland", "phone": procore_phones, "erp_phone": erp_phones,
        "edited_in": pl.Series(edited.tolist(), dtype=pl.String),
        # Exported from Procore (the connector sets the external id) or imported from the ERP.
        "exported_from_procore": linked & (np.arange(nv) % 2 == 0),
        "created_at": _ts(WORLD_START, created),
        "updated_at": _ts(WORLD_START, np.where(edited == "procore", late, updated)),
        "erp_updated_at": _ts(WORLD_START, np.where(edited == "erp", late, updated)),
    })


def _wbs_codes(rng, spec: Size, conn: dict, ns_base: int, base: int, codes: list,
               projects: pl.DataFrame) -> pl.DataFrame:
    """WBS codes per project (cost code x cost type [+ custom segment]) and their ERP items.

    Xero: the flat code is the company-level item code (XE-4). NetSuite: an Other Charge item
    per project WBS code, named ``[project number]-[flat code]`` (NS-3); some projects carry a
    custom Phase segment, appended after the cost type. A few codes were budgeted after the
    last export (XE-5 ready to update; NS-4 awaiting *Export Cost Codes*): no item yet. On
    NetSuite some codes are not on the budget at all; they get an item only if an exported
    subcontractor invoice uses them (``_items_from_invoices``)."""
    cid, company, erp = conn["connection_id"], conn["procore_company_id"], conn["erp"]
    types = AC_COST_TYPES if erp == "acumatica" else COST_TYPES
    combos = [(c, n, t) for c, n in codes for t in types]
    item_ids = dict(zip([f"{c}.{t}" for c, _, t in combos], _guid(rng, len(combos)),
                        strict=True))
    rows = []
    wid = base + 200_000
    numbers = projects["project_number"].to_list()
    synced = projects["is_synced"].to_list()
    for p in range(projects.height):
        pick = rng.choice(len(combos), size=min(spec.wbs_per_project, len(combos)), replace=False)
        phased = erp == "netsuite" and p % 4 == 1
        for j, k in enumerate(sorted(pick)):
            c, n, t = combos[k]
            flat = f"{c}.{t}.{('01', '02')[j % 2]}" if phased else f"{c}.{t}"
            task = sub_job = None
            if erp == "acumatica":  # Task segment (AC-6), and a sub job on some (AC-9)
                task = ("01", "02")[j % 2]
                sub_job = "B1" if p % 3 == 1 and j % 4 == 3 else None
                flat = f"{sub_job + '.' if sub_job else ''}{task}.{c}.{t}"
            on_budget = erp != "netsuite" or j % 10 != 7
            exported = synced[p] and on_budget and not (j == len(pick) - 1 and p % 3 == 0)
            rows.append((cid, company, base + 100 + p, wid, c, n, t, flat,
                         item_ids[f"{c}.{t}"] if exported else None, on_budget,
                         f"{numbers[p]}-{flat}" if erp == "netsuite" else flat, task, sub_job))
            wid += 1
    if erp == "acumatica" and projects.height > 1:
        # AC-5 broken on purpose: a project-specific code typed in Procore, not on the list.
        rows.append((cid, company, base + 101, wid, "01-990.000", "Project Specific Allowance",
                     "OTHER", "01.01-990.000.OTHER", None, True, "01.01-990.000.OTHER", "01",
                     None))
    wbs = pl.DataFrame(rows, orient="row", schema=[
        "connection_id", "company_id", "project_id", "wbs_code_id", "cost_code",
        "cost_code_name", "cost_type", "flat_code", "erp_item_id", "on_budget", "item_name",
        "task", "sub_job"])
    if erp == "netsuite":  # one item per project WBS code, with NetSuite's own id
        wbs = wbs.with_columns(erp_item_id=pl.when(pl.col("erp_item_id").is_not_null())
                               .then(_ns_item_id(ns_base)))
    return wbs.with_columns(
        segment=pl.col("flat_code").str.split(".").list.get(2, null_on_oob=True)
        if erp == "netsuite" else pl.lit(None, pl.String),
        description=pl.col("cost_code_name") + " - "
        + pl.col("cost_type").replace({**COST_TYPES, **AC_COST_TYPES}),
        budget_cents=pl.Series(np.where(rng.random(wbs.height) < 0.1, 0,
                                        rng.integers(5_000, 900_000, wbs.height) * 100)),
        created_at=pl.lit(WORLD_START + timedelta(days=30)),
        updated_at=pl.lit(WORLD_START + timedelta(days=31)),
    )


def _items_from_invoices(wbs: pl.DataFrame, reqs: pl.DataFrame, req_lines: pl.DataFrame,
                         ns_base: int) -> pl.DataFrame:
    """NS-4: exporting a subcontractor invoice creates the items its codes still lack."""
    used = req_lines.join(reqs.filter(pl.col("is_exported")).select("requisition_id"),
                          on="requisition_id")["wbs_code_id"].unique().implode()
    return wbs.with_columns(erp_item_id=pl.when(
        pl.col("erp_item_id").is_null() & pl.col("wbs_code_id").is_in(used))
        .then(_ns_item_id(ns_base)).otherwise(pl.col("erp_item_id")))


def _ns_item_id(ns_base: int) -> pl.Expr:
    """The NetSuite internal id of a WBS code's Other Charge item: one per WBS code."""
    return (pl.lit(ns_base + 5000) + pl.col("wbs_code_id") % 1_000_000 - 200_000).cast(pl.String)


def _erp_items(rng, conn: dict, ns_base: int, codes: list, wbs: pl.DataFrame,
               projects: pl.DataFrame) -> pl.DataFrame:
    """The ERP's item list: items exported from Procore plus ERP-only ones."""
    cid, erp = conn["connection_id"], conn["erp"]
    extra = [(c, "OthCharge") for c in (*ERP_ONLY_ITEMS, RETAINAGE_ITEM)]
    if erp == "netsuite":
        extra += list(NS_OTHER_TYPE_ITEMS)
    own = pl.DataFrame({
        "connection_id": cid, "item_id": _ids(rng, erp, len(extra), ns_base + 4000),
        "code": [c for c, _ in extra], "name": [c.replace("-", " ").title() for c, _ in extra],
        "from_procore": False, "item_type": [t for _, t in extra],
        "project_id": -1, "wbs_code_id": -1,
    })
    synced = wbs.filter(pl.col("erp_item_id").is_not_null())
    if erp == "netsuite":  # one Other Charge item per project WBS code (NS-3)
        exported = synced.select(
            "connection_id", item_id="erp_item_id", code="item_name",
            name=pl.col("description").str.slice(0, 50), from_procore=pl.lit(True),
            item_type=pl.lit("OthCharge"), project_id="project_id", wbs_code_id="wbs_code_id")
    else:  # one company-level item per code and cost type (XE-4)
        exported = synced.unique("flat_code", keep="first", maintain_order=True).sort(
            "flat_code").select(
            "connection_id", item_id="erp_item_id", code="flat_code",
            name=pl.col("flat_code").map_elements(lambda c: _item_name(c, codes),
                                                  return_dtype=pl.String),
            from_procore=pl.lit(True), item_type=pl.lit("OthCharge"), project_id=pl.lit(-1),
            wbs_code_id=pl.lit(-1))
    return pl.concat([exported, own], how="vertical_relaxed").with_columns(
        updated_at=pl.lit(WORLD_START + timedelta(days=32)))


def _item_name(code: str, codes: list[tuple[str, str]]) -> str:
    cc, t = code.split(".")
    return f"{dict(codes)[cc]} {COST_TYPES[t]}"[:50]


def _commitments(rng, spec, conn, base, projects, wbs, vendors):
    """Subcontracts and their subcontractor invoices (requisitions), some exported to the ERP.

    Xero never receives negative invoices (XE-9); NetSuite receives them as vendor credits
    (NS-13). Nothing exports from a project that is not synced (C-4, NS-5, NS-9)."""
    cid, company, erp = conn["connection_id"], conn["procore_company_id"], conn["erp"]
    synced = projects.filter(pl.col("is_synced"))
    if synced.height == 0:  # a single-tier list (NS-5): commitments exist, nothing exports
        synced = projects
    linked_vendors = vendors.filter(pl.col("is_linked"))
    n_c = max(2, synced.height * 2)
    proj = synced["project_id"].to_numpy()[np.arange(n_c) % synced.height]
    vend = linked_vendors["procore_vendor_id"].to_numpy()[
        rng.integers(0, linked_vendors.height, n_c)]
    created = rng.integers(70, 300, n_c) * 86400
    commits = pl.DataFrame({
        "connection_id": cid, "company_id": company,
        "commitment_id": base + 300_000 + np.arange(n_c),
        "project_id": proj, "vendor_id": vend,
        "number": [f"SC-{j + 1:03d}" for j in range(n_c)],
        "title": [f"Subcontract package {j + 1}" for j in range(n_c)],
        "status": "Approved",
        # Exported to Acumatica as a Subcontract (AC-14): Procore keeps its record id.
        "erp_commitment_id": pl.Series(
            _guid(rng, n_c) if erp == "acumatica" else [None] * n_c, dtype=pl.String),
        "created_at": _ts(WORLD_START, created), "updated_at": _ts(WORLD_START, created + 86400),
    })
    if erp == "acumatica":  # nothing exports from a project that is not synced
        commits = commits.with_columns(erp_commitment_id=pl.when(
            pl.col("project_id").is_in(projects.filter(pl.col("is_synced"))["project_id"]
                                       .implode())).then(pl.col("erp_commitment_id")))
    # Requisitions: about a quarter of ERP transactions are subcontractor invoices.
    n_r = max(4, spec.txns // 4)
    rc = rng.integers(0, n_c, n_r)
    status = np.where(rng.random(n_r) < 0.85, "approved", "pending")
    negative = rng.random(n_r) < 0.04
    negative[0] = True
    status[0] = "approved"
    exportable = projects.filter(pl.col("is_synced"))["project_id"].to_numpy()
    exported = (status == "approved") & np.isin(proj[rc], exportable)
    if erp == "xero":
        exported &= ~negative  # XE-9 (NetSuite: vendor credit, NS-13; Acumatica: Debit Adj.)
    billing = rng.integers(90, 540, n_r)
    reqs = pl.DataFrame({
        "connection_id": cid, "requisition_id": base + 400_000 + np.arange(n_r),
        "commitment_id": commits["commitment_id"].to_numpy()[rc],
        "project_id": proj[rc], "vendor_id": vend[rc],
        "invoice_number": [f"INV-{cid[:2].upper()}{j + 1:05d}" for j in range(n_r)],
        "status": status, "is_negative": negative, "is_exported": exported,
        "billing_date": _ts(WORLD_START, billing * 86400).dt.date(),
        "payment_date": _ts(WORLD_START, (billing + 30) * 86400).dt.date(),
        "created_at": _ts(WORLD_START, billing * 86400),
        "updated_at": _ts(WORLD_START, billing * 86400 + 3600),
        "retainage_pct": 10 if erp == "xero" else 0,
    })
    # Lines: 1-3 per requisition on the project's codes that have an item or (NetSuite) that
    # are off the budget, whose item the export then creates (NS-4).
    per = rng.integers(1, 4, n_r)
    rid = np.repeat(np.arange(n_r), per)
    usable = pl.col("erp_item_id").is_not_null()
    if erp == "netsuite":
        usable = usable | ~pl.col("on_budget")
    wbs_ok = wbs.filter(usable)
    if wbs_ok.height == 0:
        wbs_ok = wbs
    by_proj = {p: g for (p,), g in wbs_ok.group_by("project_id", maintain_order=True)}
    pick = rng.random(rid.size)
    flat, wid = [], []
    for r, u in zip(rid, pick, strict=True):
        g = by_proj[int(proj[rc[r]])]
        k = int(u * g.height)
        flat.append(g["flat_code"][k])
        wid.append(g["wbs_code_id"][k])
    amt = rng.integers(500, 60_000, rid.size) * 100
    amt = np.where(negative[rid], -amt // 10, amt)
    req_lines = pl.DataFrame({
        "connection_id": cid, "requisition_line_id": base + 500_000 + np.arange(rid.size),
        "requisition_id": reqs["requisition_id"].to_numpy()[rid], "wbs_code_id": wid,
        "flat_code": flat, "amount": amt,
    })
    return commits, reqs, req_lines


def _erp_transactions(rng, spec, conn, base, ns_base, projects, wbs, vendors, options, items,
                      reqs, req_lines, extra):
    """ERP cost transactions and lines, each line drawn with its truth flags."""
    cid, erp = conn["connection_id"], conn["erp"]
    ac = erp == "acumatica"
    exp = reqs.filter(pl.col("is_exported"))
    n_sub = exp.height
    n_own = spec.txns - n_sub if spec.txns > n_sub else spec.txns // 2
    own = _own_headers(rng, n_own, cid, erp, vendors)
    vmap = dict(zip(vendors["procore_vendor_id"], vendors["vendor_index"], strict=True))
    sub_status = np.where(rng.random(n_sub) < 0.5, "PAID", "AUTHORISED")
    sub = pl.DataFrame({
        # A negative invoice reaches NetSuite as a vendor credit (NS-13).
        "txn_kind": np.where(exp["is_negative"].to_numpy(), "subinv_credit", "subinv_bill"),
        "status": sub_status,
        "vendor_index": [vmap[v] for v in exp["vendor_id"]],
        "day": ((exp["billing_date"].cast(pl.Date) - WORLD_START.date()).dt.total_days()),
        "requisition_id": exp["requisition_id"],
        "reference": exp["invoice_number"], "invoice_number": exp["invoice_number"],
    }).cast({"vendor_index": pl.Int64, "day": pl.Int64, "txn_kind": pl.String})
    txns = pl.concat([own.cast({"vendor_index": pl.Int64, "day": pl.Int64}), sub])
    n = txns.height
    ids = _ids(rng, erp, n, ns_base + 100_000)
    day = txns["day"].to_numpy()
    upd = day * 86400 + rng.integers(3600, 20 * 86400, n)
    upd = np.minimum(upd, int((WORLD_NOW - WORLD_START).total_seconds()) - 86400)
    txns = txns.with_columns(
        connection_id=pl.lit(cid), txn_id=pl.Series(ids),
        erp_type=pl.col("txn_kind").replace_strict(ERP_TYPES.get(erp, ERP_TYPES["xero"])),
        contact_id=pl.Series(vendors["contact_id"].to_numpy()[txns["vendor_index"].to_numpy()]),
        contact_name=pl.Series(vendors["name"].to_numpy()[txns["vendor_index"].to_numpy()]),
        txn_date=_ts(WORLD_START, day * 86400).dt.date(),
        due_date=_ts(WORLD_START, (day + 30) * 86400).dt.date(),
        created_at=_ts(WORLD_START, day * 86400 + 3600),
        updated_at=_ts(WORLD_START, upd),
        is_status_ok=pl.col("status").is_in(["AUTHORISED", "PAID"]),
        is_type_ok=pl.col("txn_kind").is_in(ELIGIBLE_KINDS.get(erp, ELIGIBLE_KINDS["xero"])),
    )
    own_ids = np.array(ids[:n_own], dtype=object)
    if ac:
        txns = _ac_documents(rng, txns, reqs, extra["procore_commitments"],
                             extra["erp_purchase_orders"])
        own_lines = _acumatica_lines(rng, own, own_ids, projects, wbs, extra["erp_cost_codes"])
        sub_lines = [_ac_subinvoice_lines(exp, ids[n_own:], req_lines, wbs, projects)]
    elif erp == "netsuite":
        own_lines = _netsuite_lines(rng, conn, own, own_ids, projects, wbs, options, items)
    else:
        own_lines = _xero_lines(rng, own, own_ids, projects, wbs, options)
    if not ac:
        sub_lines = _subinvoice_lines(conn, exp, ids[n_own:], reqs, req_lines, projects)
    lines = pl.concat([own_lines, *(x.select(own_lines.columns).cast(own_lines.schema)
                                    for x in sub_lines)])
    if ac:  # what Procore shows: the WBS flat code [sub job.]task.code.cost type
        task = pl.col("task_id").str.split(" - ")
        lines = lines.with_columns(item_code=pl.concat_str(
            [task.list.join("."), pl.col("cost_code"), pl.col("cost_type")],
            separator="."))
    qty = lines["quantity"].to_numpy()
    la = lines["line_amount"].to_numpy()
    divides = la % np.maximum(qty, 1).astype(np.int64) == 0
    lines = lines.with_columns(
        connection_id=pl.lit(cid),
        line_id=(pl.col("txn_id") + "-" + pl.col("line_no").cast(pl.String)
                 if erp == "netsuite" else pl.Series(_guid(rng, lines.height))),
        unit_amount=pl.Series(np.where(divides, la // np.maximum(qty, 1).astype(np.int64), la)),
        quantity=pl.Series(np.where(divides, qty, 1.0)),
    )
    if not ac:  # Acumatica lines carry their own code and account group
        lines = lines.join(wbs.select("wbs_code_id", "cost_code", "cost_type"), on="wbs_code_id",
                           how="left", maintain_order="left")
    if erp == "xero":
        # An exported Xero item is a cost code + cost type (XE-4), whichever project it is on.
        parts = pl.col("item_code").str.split_exact(".", 1)
        lines = lines.with_columns(
            cost_code=pl.when(pl.col("is_item_ok")).then(parts.struct.field("field_0"))
            .otherwise(pl.col("cost_code")),
            cost_type=pl.when(pl.col("is_item_ok")).then(parts.struct.field("field_1"))
            .otherwise(pl.col("cost_type")),
        )
    lines = lines.with_columns(
        description=pl.format("{} work, line {}", pl.col("item_code").fill_null("Expense"),
                              pl.col("line_no")))
    totals = lines.group_by("txn_id", maintain_order=True).agg(
        # A journal's total is its debits: the balancing line is left out.
        total=pl.col("line_amount").filter(pl.col("case") != "journal_offset").sum())
    txns = txns.join(totals, on="txn_id", how="left", maintain_order="left").with_columns(
        pl.col("total").fill_null(0))
    if ac:  # the line's amount type is its document's (AC-21)
        lines = lines.join(txns.select("txn_id", "amount_type"), on="txn_id", how="left",
                           maintain_order="left")
    else:
        txns = txns.with_columns(posts_to_ledger=pl.lit(True),
                                 amount_type=pl.lit(None, pl.String))
    return txns.drop("day", "vendor_index"), lines


def _own_headers(rng, n_own: int, cid: str, erp: str, vendors: pl.DataFrame) -> pl.DataFrame:
    """Transactions entered in the ERP: bills, spend money / checks, credits, money received
    (not a cost) and, on NetSuite, journal entries (NS-17)."""
    kinds = ["bill", "spend", "credit_note", "receive"]
    prob = [0.55, 0.33, 0.07, 0.05]
    if erp == "netsuite":
        kinds, prob = kinds + ["journal"], [0.5, 0.25, 0.07, 0.05, 0.13]
    elif erp == "acumatica":  # spend = GL expenses; payroll posts from Acumatica Payroll
        kinds, prob = kinds + ["payroll"], [0.45, 0.15, 0.07, 0.05, 0.28]
    kind = rng.choice(kinds, size=n_own, p=prob)
    kind[:len(kinds)] = kinds
    status = np.empty(n_own, dtype=object)
    u = rng.random(n_own)
    bill_like = np.isin(kind, ["bill", "credit_note"])
    status[bill_like] = np.select(
        [u[bill_like] < 0.06, u[bill_like] < 0.10, u[bill_like] < 0.14, u[bill_like] < 0.17],
        ["DRAFT", "SUBMITTED", "VOIDED", "DELETED"], "AUTHORISED")
    # Acumatica cannot delete a released document: the rest stay unreleased (On Hold).
    status[~bill_like] = np.where(u[~bill_like] < 0.05,
                                  "DRAFT" if erp == "acumatica" else "DELETED", "AUTHORISED")
    # Every awkward bill status at least once, on bills (bank transactions have no drafts).
    first_bills = np.flatnonzero(kind == "bill")[:4]
    status[first_bills] = ["DRAFT", "SUBMITTED", "VOIDED", "DELETED"][:first_bills.size]
    return pl.DataFrame({
        "txn_kind": kind, "status": status.astype(str),
        "vendor_index": rng.integers(0, vendors.height, n_own), "day": rng.integers(60, 545, n_own),
        "requisition_id": np.full(n_own, -1),
        "reference": [f"REF-{j + 1:06d}" for j in range(n_own)],
        "invoice_number": [f"SUP-{cid[:2].upper()}{j + 1:06d}" for j in range(n_own)],
    })


def _xero_lines(rng, own, own_ids, projects, wbs, options) -> pl.DataFrame:
    """1-5 lines per own Xero transaction, most on a synced project and an exported item."""
    per = rng.integers(1, 6, own.height)
    t_idx = np.repeat(np.arange(own.height), per)
    m = t_idx.size
    case = rng.choice(["ok", "no_project", "unsynced_project", "erp_item", "code_off_project",
                       "no_tracking"], size=m, p=[0.86, 0.0, 0.04, 0.05, 0.02, 0.03])
    case[:6] = ["ok", "unsynced_project", "erp_item", "code_off_project", "no_tracking", "ok"]
    synced_p = projects.filter(pl.col("is_synced"))
    p_pick = rng.integers(0, synced_p.height, m)
    proj_id = synced_p["project_id"].to_numpy()[p_pick]
    opt = synced_p["erp_option_id"].to_numpy()[p_pick].astype(object)
    unsynced = projects.filter(~pl.col("is_synced"))
    overhead = options.filter(pl.col("project_id") == -1)["option_id"][0]
    u_opt = np.where(rng.random(m) < 0.5, unsynced["erp_option_id"][0], overhead)
    u_proj = np.where(u_opt == overhead, -1, unsynced["project_id"][0])
    opt = np.where(case == "unsynced_project", u_opt, opt)
    proj_id = np.where(case == "unsynced_project", u_proj, proj_id)
    opt = np.where(case == "no_tracking", None, opt)
    proj_id = np.where(case == "no_tracking", -1, proj_id)
    item, wbs_id = _pick_items(rng, wbs, proj_id, case)
    amt = rng.integers(20, 25_000, m) * 100 + rng.integers(0, 100, m)
    qty = rng.integers(1, 10, m).astype(float)
    qty = np.where(amt % int(qty.max()) == 0, qty, 1.0)
    return pl.DataFrame({
        "txn_id": own_ids[t_idx], "line_no": _line_no(t_idx),
        "item_code": item, "wbs_code_id": wbs_id, "tracking_option_id": opt,
        "procore_project_id": proj_id, "quantity": qty,
        "line_amount": amt, "case": case, "is_retainage": False,
    }).with_columns(
        is_project_ok=pl.col("case").is_in(["ok", "erp_item", "code_off_project"]),
        # The item was exported from Procore (company-level), whatever project it is coded to.
        is_item_ok=pl.col("case").is_in(["ok", "code_off_project", "unsynced_project",
                                         "no_tracking"]),
        # The line's item is a WBS code of the project it is coded to (informational: XE-11
        # asks only for a synced item; Procore adds a $0 budget line for such costs).
        is_code_on_project_ok=pl.col("case") == "ok",
    )


def _ac_cost_codes(cid: str, codes: list[tuple[str, str]]) -> pl.DataFrame:
    """Acumatica's cost code list (AC-3): every code Procore shows (AC-4: ``10600.000`` there
    is ``10-600.000`` here), plus two codes added in Acumatica after the last import."""
    late = [(f"{c[:2]}-9{k}0.000", f"{n} (added in Acumatica)")
            for k, (c, n) in enumerate(codes[:2], start=7)]
    rows = [(c, n, True) for c, n in codes] + [(c, n, False) for c, n in late]
    return pl.DataFrame(rows, orient="row", schema=["cost_code", "description", "in_procore"]
                        ).with_columns(
        connection_id=pl.lit(cid), erp_code=pl.col("cost_code").str.replace("-", "", literal=True),
        updated_at=pl.when(pl.col("in_procore")).then(pl.lit(WORLD_START + timedelta(days=20)))
        .otherwise(pl.lit(PROCORE_LAST_SYNC + timedelta(days=3))))


def _ac_standard_codes(base: int, company: int, codes: pl.DataFrame) -> pl.DataFrame:
    """Procore's company cost code list, imported from Acumatica (AC-3)."""
    return codes.filter(pl.col("in_procore")).select(
        "connection_id", "cost_code", "description", "erp_code",
        standard_cost_code_id=base + 800_000 + pl.int_range(pl.len()), company_id=pl.lit(company),
        updated_at=pl.lit(WORLD_START + timedelta(days=21)))


def _ac_purchase_orders(rng, cid: str, projects: pl.DataFrame, vendors: pl.DataFrame
                        ) -> pl.DataFrame:
    """Purchase orders raised in Acumatica itself: never synced with Procore, so bills on them
    are *Invoices*, not *Subcontract Invoices* (AC-21)."""
    n = max(2, projects.height)
    return pl.DataFrame({
        "connection_id": cid, "po_id": _guid(rng, n),
        "order_nbr": [f"PO{j + 1:06d}" for j in range(n)],
        "project_number": projects["project_number"].to_numpy()[np.arange(n) % projects.height],
        "contact_id": vendors["contact_id"].to_numpy()[rng.integers(0, vendors.height, n)],
        "total": rng.integers(1_000, 90_000, n) * 100,
        "order_date": _ts(WORLD_START, rng.integers(60, 300, n) * 86400).dt.date(),
        "updated_at": _ts(WORLD_START, rng.integers(300, 400, n) * 86400),
    })


def _ac_documents(rng, txns: pl.DataFrame, reqs: pl.DataFrame, commits: pl.DataFrame,
                  pos: pl.DataFrame) -> pl.DataFrame:
    """Acumatica document facts: the commitment an AP bill is on, its amount type (AC-21), and
    whether it reached the project ledger (released, or released and then voided)."""
    n = txns.height
    kind = txns["txn_kind"].to_numpy()
    synced = commits.filter(pl.col("erp_commitment_id").is_not_null())
    u = rng.random(n)
    pick = rng.integers(0, 1 << 30, n)
    po_type = np.full(n, None, dtype=object)
    po_nbr = np.full(n, None, dtype=object)
    own_bill = kind == "bill"
    on_sc = own_bill & (u < 0.2) & (synced.height > 0)  # entered in Acumatica on a synced SC
    on_po = own_bill & (u >= 0.2) & (u < 0.35)
    if synced.height:
        po_type[on_sc] = "Subcontract"
        po_nbr[on_sc] = synced["number"].to_numpy()[pick[on_sc] % synced.height]
    po_type[on_po] = "Normal"
    po_nbr[on_po] = pos["order_nbr"].to_numpy()[pick[on_po] % pos.height]
    numbers = dict(zip(commits["commitment_id"], commits["number"], strict=True))
    req_commit = dict(zip(reqs["requisition_id"], reqs["commitment_id"], strict=True))
    for i in np.flatnonzero(np.isin(kind, CI_KINDS)):
        po_type[i] = "Subcontract"
        po_nbr[i] = numbers[req_commit[int(txns["requisition_id"][int(i)])]]
    bill_like = np.isin(kind, ["bill", "subinv_bill", "credit_note", "subinv_credit"])
    amount_type = np.select(
        [po_type == "Subcontract", bill_like, kind == "spend", kind == "payroll"],
        ["subcontract_invoice", "invoice", "expense", "payroll"], "")
    return txns.with_columns(
        po_order_type=pl.Series(po_type.tolist(), dtype=pl.String),
        po_order_nbr=pl.Series(po_nbr.tolist(), dtype=pl.String),
        amount_type=pl.Series(amount_type).replace("", None),
        posts_to_ledger=pl.when(pl.col("txn_kind").is_in(
            ["bill", "subinv_bill", "credit_note", "subinv_credit"]))
        .then(pl.col("status").is_in(["AUTHORISED", "PAID", "VOIDED"]))
        .otherwise(pl.col("status") != "DELETED"),
    )


def _ac_line_frame(txn_ids, proj_id, project, task, code, ctype, wid, case) -> pl.DataFrame:
    return pl.DataFrame({
        "txn_id": txn_ids, "procore_project_id": proj_id, "tracking_option_id": project,
        "task_id": task, "cost_code": code, "cost_type": ctype, "wbs_code_id": wid,
        "case": case,
    }, schema_overrides={"tracking_option_id": pl.String, "task_id": pl.String,
                         "cost_code": pl.String, "cost_type": pl.String})


def _acumatica_lines(rng, own, own_ids, projects, wbs, cost_codes) -> pl.DataFrame:
    """1-5 project ledger lines per own Acumatica document, each drawn as one of ``AC_CASES``:
    project, task (``B1 - 02`` on a sub job, AC-9), cost code (Acumatica form) and account
    group (the Procore cost type)."""
    per = rng.integers(1, 6, own.height)
    t_idx = np.repeat(np.arange(own.height), per)
    m = t_idx.size
    names = list(AC_CASES)
    case = rng.choice(names, size=m, p=list(AC_CASES.values()))
    case[:len(names)] = names
    listed = cost_codes.filter(pl.col("in_procore"))["cost_code"]
    synced_p = projects.filter(pl.col("is_synced"))
    pw = wbs.filter(pl.col("project_id").is_in(synced_p["project_id"].implode())
                    & pl.col("cost_code").is_in(listed.implode()))
    numbers = dict(zip(projects["project_id"], projects["project_number"], strict=True))
    have = set(zip(pw["project_id"], pw["cost_code"], pw["cost_type"], strict=True))
    late = cost_codes.filter(~pl.col("in_procore"))["cost_code"].to_list()
    types = list(AC_COST_TYPES)
    elsewhere = [numbers[p] for p in projects.filter(~pl.col("is_synced"))["project_id"]]
    elsewhere.append("OVERHEAD")
    u = rng.random((m, 3))
    rows = {k: [] for k in ("proj_id", "project", "task", "code", "ctype", "wid")}
    cols = {k: pw[k].to_list() for k in ("project_id", "cost_code", "cost_type", "task",
                                          "sub_job", "wbs_code_id")}
    listed = listed.to_list()
    for i, c in enumerate(case):
        k = int(u[i, 0] * pw.height)
        p, code, ctype = cols["project_id"][k], cols["cost_code"][k], cols["cost_type"][k]
        task, sj, wid = cols["task"][k], cols["sub_job"][k], cols["wbs_code_id"][k]
        project = numbers[p]
        if c == "ok":
            task = f"{sj} - {task}" if sj else task
        elif c == "unsynced_project":
            project, p, wid, task = elsewhere[int(u[i, 1] * len(elsewhere))], -1, -1, "01"
            code = listed[int(u[i, 2] * len(listed))]
        elif c == "sub_job_unsynced":
            task, wid = f"B9 - {task}", -1
        elif c == "code_not_synced":
            task, wid, code = "01", -1, late[int(u[i, 1] * len(late))]
        else:  # code_off_project: a listed code and type this project's WBS does not have
            task, wid = "01", -1
            for _ in range(50):
                code = listed[int(rng.random() * len(listed))]
                ctype = types[int(rng.random() * len(types))]
                if (p, code, ctype) not in have:
                    break
        for key, v in zip(rows, (p, project, task, code, ctype, wid), strict=True):
            rows[key].append(v)
    out = _ac_line_frame(own_ids[t_idx], rows["proj_id"], rows["project"], rows["task"],
                         rows["code"], rows["ctype"], rows["wid"], case)
    return _ac_finish(rng, out, _line_no(t_idx))


def _ac_subinvoice_lines(exp, sub_ids, req_lines, wbs, projects) -> pl.DataFrame:
    """Bills exported from Procore subcontractor invoices (Debit Adj. when negative): one
    line per invoice line, on its WBS code's task and sub job."""
    req_map = dict(zip(exp["requisition_id"], sub_ids, strict=True))
    rl = req_lines.filter(pl.col("requisition_id").is_in(exp["requisition_id"].implode())).join(
        wbs.select("wbs_code_id", "project_id", "task", "sub_job", "cost_code", "cost_type"),
        on="wbs_code_id", maintain_order="left").join(
        projects.select("project_id", "project_number"), on="project_id", maintain_order="left")
    task = rl.select(pl.when(pl.col("sub_job").is_not_null())
                     .then(pl.col("sub_job") + " - " + pl.col("task"))
                     .otherwise(pl.col("task")))[:, 0]
    out = _ac_line_frame([req_map[r] for r in rl["requisition_id"]], rl["project_id"],
                         rl["project_number"], task, rl["cost_code"], rl["cost_type"],
                         rl["wbs_code_id"], ["ok"] * rl.height)
    return out.with_columns(
        line_no=pl.Series(_line_no(rl["requisition_id"].to_numpy())),
        line_amount=rl["amount"].abs(), quantity=pl.lit(1.0),
        item_code=pl.col("cost_code"), is_retainage=pl.lit(False),
        is_project_ok=pl.lit(True), is_item_ok=pl.lit(True), is_code_on_project_ok=pl.lit(True))


def _ac_finish(rng, out: pl.DataFrame, line_no: np.ndarray) -> pl.DataFrame:
    m = out.height
    amt = rng.integers(20, 25_000, m) * 100 + rng.integers(0, 100, m)
    qty = rng.integers(1, 10, m).astype(float)
    return out.with_columns(
        line_no=pl.Series(line_no), line_amount=pl.Series(amt),
        quantity=pl.Series(np.where(amt % int(qty.max()) == 0, qty, 1.0)),
        item_code=pl.col("cost_code"), is_retainage=pl.lit(False),
        is_project_ok=pl.col("case") != "unsynced_project",
        is_item_ok=pl.col("case").is_in(["ok", "code_off_project"]),
        is_code_on_project_ok=pl.col("case") == "ok",
    )


NS_CASES = {  # case: (probability, job is a synced project, item is that project's own item)
    "ok": (0.78, True, True),
    "unsynced_project": (0.04, False, False),  # C-4 / NS-9 / overhead job, company item
    "erp_item": (0.04, True, False),  # an Other Charge item the integration did not create
    "other_item_type": (0.03, True, False),  # NS-7
    "expense_line": (0.03, True, False),  # account-coded expense line, no item (NS-14)
    "code_off_project": (0.02, True, False),  # another project's item
    "no_tracking": (0.02, False, False),  # no customer:job on the line
    "sub_job": (0.04, False, True),  # NS-6: the parent project's item, on a sub job
}


def _netsuite_lines(rng, conn, own, own_ids, projects, wbs, options, items) -> pl.DataFrame:
    """1-5 lines per own NetSuite transaction, each drawn as one of ``NS_CASES``. Journal
    entries (NS-17) debit project items and credit one balancing line with no job or item.
    On a single-tier cost code list (NS-5) no item was ever created: every line is on an
    ERP-only item, and no job is linked."""
    per = rng.integers(1, 6, own.height)
    t_idx = np.repeat(np.arange(own.height), per)
    m = t_idx.size
    names = list(NS_CASES)
    case = rng.choice(names, size=m, p=[v[0] for v in NS_CASES.values()])
    case[:len(names)] = names
    single = conn["cost_code_tiers"] == 1
    if single:
        case[:] = "single_tier"
    synced_p = projects.filter(pl.col("is_synced"))
    pool_p = synced_p if synced_p.height else projects.filter(pl.col("uses_standard_list"))
    p_pick = rng.integers(0, pool_p.height, m)
    proj_id = pool_p["project_id"].to_numpy()[p_pick]
    job = pool_p["erp_option_id"].to_numpy()[p_pick].astype(object)
    unsynced_jobs = options.filter(~pl.col("is_synced") & pl.col("parent_option_id").is_null())
    u = rng.random(m)
    u_job = unsynced_jobs["option_id"].to_numpy()[(u * unsynced_jobs.height).astype(int)]
    subs = options.filter(pl.col("parent_option_id").is_not_null())
    sub_of = dict(zip(subs["parent_option_id"], subs["option_id"], strict=True))
    job = np.where(case == "unsynced_project", u_job, job)
    job = np.where(case == "no_tracking", None, job)
    job = np.array([sub_of.get(j, j) if c == "sub_job" else j
                    for j, c in zip(job, case, strict=True)], dtype=object)
    proj_id = np.where(np.isin(case, ["ok", "erp_item", "other_item_type", "expense_line",
                                      "code_off_project"]), proj_id, -1)
    item, wbs_id = _pick_ns_items(rng, wbs, items, pool_p["project_id"].to_numpy()[p_pick], case)
    amt = rng.integers(20, 25_000, m) * 100 + rng.integers(0, 100, m)
    qty = rng.integers(1, 10, m).astype(float)
    qty = np.where(amt % int(qty.max()) == 0, qty, 1.0)
    lines = pl.DataFrame({
        "txn_id": own_ids[t_idx], "line_no": _line_no(t_idx), "item_code": item,
        "wbs_code_id": wbs_id, "tracking_option_id": job, "procore_project_id": proj_id,
        "quantity": qty, "line_amount": amt, "case": case, "is_retainage": False,
    })
    journals = own_ids[own["txn_kind"].to_numpy() == "journal"]
    balancing = lines.filter(pl.col("txn_id").is_in(pl.Series(journals, dtype=pl.String)
                                                     .implode())).group_by(
        "txn_id", maintain_order=True).agg(line_no=pl.col("line_no").max() + 1,
                                           line_amount=-pl.col("line_amount").sum())
    balancing = balancing.with_columns(
        item_code=pl.lit(None, pl.String), wbs_code_id=pl.lit(-1),
        tracking_option_id=pl.lit(None, pl.String), procore_project_id=pl.lit(-1),
        quantity=pl.lit(1.0), case=pl.lit("journal_offset"), is_retainage=pl.lit(False),
    ).select(lines.columns)
    lines = pl.concat([lines, balancing.cast(lines.schema)]).sort("txn_id", "line_no",
                                                                   maintain_order=True)
    ok_job = ["ok", "erp_item", "other_item_type", "expense_line", "code_off_project"]
    return lines.with_columns(
        is_project_ok=pl.col("case").is_in(ok_job),
        is_item_ok=pl.col("case").is_in(["ok", "unsynced_project", "no_tracking", "sub_job"]),
        is_code_on_project_ok=pl.col("case") == "ok",
    )


def _pick_ns_items(rng, wbs, items, proj_id, case) -> tuple[np.ndarray, np.ndarray]:
    """The NetSuite item (name) and its WBS code per line, following the line's case."""
    own_items = items.filter(pl.col("from_procore"))
    by_proj = {int(p): g for (p,), g in own_items.group_by("project_id", maintain_order=True)}
    company = list(ERP_ONLY_ITEMS)
    other = [c for c, _ in NS_OTHER_TYPE_ITEMS]
    all_own = own_items["code"].to_numpy()
    all_wid = own_items["wbs_code_id"].to_numpy()
    u = rng.random(proj_id.size)
    item = np.empty(proj_id.size, dtype=object)
    wid = np.full(proj_id.size, -1, dtype=np.int64)
    for i, (p, c) in enumerate(zip(proj_id, case, strict=True)):
        g = by_proj.get(int(p))
        if c == "ok" and g is None:
            case[i] = c = "erp_item"  # keep the truth honest: this project has no items
        if c in ("ok", "sub_job", "no_tracking") and g is not None:
            k = int(u[i] * g.height)
            item[i], wid[i] = g["code"][k], g["wbs_code_id"][k]
        elif c == "code_off_project" and all_own.size:
            others = np.flatnonzero(own_items["project_id"].to_numpy() != p)
            k = others[int(u[i] * others.size)] if others.size else 0
            item[i], wid[i] = all_own[k], all_wid[k]
        elif c == "other_item_type":
            item[i] = other[int(u[i] * len(other))]
        elif c == "expense_line":
            item[i] = None
        else:  # erp_item, unsynced_project, single_tier, or a project without items
            item[i] = company[int(u[i] * len(company))]
    return item, wid


def _subinvoice_lines(conn, exp, sub_ids, reqs, req_lines, projects) -> list[pl.DataFrame]:
    """Bills (or NetSuite vendor credits) exported from Procore: one line per requisition
    line, plus (Xero) a retainage line to the retainage item (XE-9)."""
    if exp.height == 0:
        return []
    req_map = dict(zip(exp["requisition_id"], sub_ids, strict=True))
    rl = req_lines.filter(pl.col("requisition_id").is_in(exp["requisition_id"].implode())).join(
        reqs.select("requisition_id", "project_id", "retainage_pct", "is_negative"),
        on="requisition_id", maintain_order="left")
    rl = rl.join(projects.select("project_id", "erp_option_id"), on="project_id",
                 maintain_order="left")
    ns = conn["erp"] == "netsuite"
    item = rl["flat_code"]
    if ns:  # the project's own item (NS-3)
        names = projects.select("project_id", "project_number")
        item = rl.join(names, on="project_id", maintain_order="left").select(
            pl.col("project_number") + "-" + pl.col("flat_code"))["project_number"]
    flags = {"is_project_ok": True, "is_item_ok": True, "is_code_on_project_ok": True}
    sub_lines = pl.DataFrame({
        "txn_id": [req_map[r] for r in rl["requisition_id"]],
        "line_no": _line_no(rl["requisition_id"].to_numpy()),
        "item_code": item, "wbs_code_id": rl["wbs_code_id"],
        "tracking_option_id": rl["erp_option_id"], "procore_project_id": rl["project_id"],
        # A vendor credit carries its lines positive, like a credit note (sign by kind).
        "quantity": 1.0, "line_amount": rl["amount"].abs(), "case": "ok", "is_retainage": False,
        **flags,
    })
    if ns:
        return [sub_lines]
    ret = rl.group_by("requisition_id", maintain_order=True).agg(
        amt=pl.col("amount").sum(), pct=pl.col("retainage_pct").first(),
        opt=pl.col("erp_option_id").first(), proj=pl.col("project_id").first(),
        n=pl.len())
    ret_lines = pl.DataFrame({
        "txn_id": [req_map[r] for r in ret["requisition_id"]],
        "line_no": ret["n"].to_numpy() + 1, "item_code": conn["retainage_item"],
        "wbs_code_id": -1, "tracking_option_id": ret["opt"], "procore_project_id": ret["proj"],
        "quantity": 1.0, "line_amount": -(ret["amt"] * ret["pct"] // 100),
        "case": "retainage", "is_retainage": True,
        "is_project_ok": True, "is_item_ok": False, "is_code_on_project_ok": False,
    })
    return [sub_lines, ret_lines]


def _line_no(group_idx: np.ndarray) -> np.ndarray:
    order = np.arange(group_idx.size)
    starts = np.r_[0, np.flatnonzero(np.diff(group_idx)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, group_idx.size]))
    return order - first + 1


def _pick_items(rng, wbs: pl.DataFrame, proj_id: np.ndarray, case: np.ndarray):
    """Item code per line: an exported WBS code of the project, or an unsyncable item."""
    ok = wbs.filter(pl.col("erp_item_id").is_not_null())
    groups = ok.group_by("project_id", maintain_order=True)
    codes_by_proj = {int(p): g["flat_code"].to_numpy() for (p,), g in groups}
    ids_by_proj = {int(p): g["wbs_code_id"].to_numpy() for (p,), g in groups}
    all_codes = ok["flat_code"].unique().sort().to_numpy()
    u = rng.random(proj_id.size)
    item = np.empty(proj_id.size, dtype=object)
    wid = np.full(proj_id.size, -1, dtype=np.int64)
    any_proj = next(iter(codes_by_proj))
    for i, (p, c) in enumerate(zip(proj_id, case, strict=True)):
        if c == "erp_item":
            item[i] = ERP_ONLY_ITEMS[int(u[i] * len(ERP_ONLY_ITEMS))]
            continue
        pool = codes_by_proj.get(int(p))
        if c == "code_off_project":
            mine = set(pool) if pool is not None else set()
            others = [x for x in all_codes if x not in mine]
            item[i] = others[int(u[i] * len(others))] if others else ERP_ONLY_ITEMS[0]
            continue
        if pool is None:  # unsynced project or no tracking: any company code
            pool, pids = codes_by_proj[any_proj], np.full(len(codes_by_proj[any_proj]), -1)
        else:
            pids = ids_by_proj[int(p)]
        k = int(u[i] * len(pool))
        item[i], wid[i] = pool[k], pids[k]
    return item, wid


def _payments(rng, conn: dict, ns_base: int, txns: pl.DataFrame) -> pl.DataFrame:
    """Bill payments: full (bill PAID), partial, and some deleted in the ERP after sync."""
    payable = txns.filter(pl.col("txn_kind").is_in(["bill", "subinv_bill"]))
    paid = payable.filter(pl.col("status") == "PAID")
    partial = payable.filter(pl.col("status") == "AUTHORISED").sample(
        fraction=0.3, seed=int(rng.integers(1 << 30)))
    full = paid.select("txn_id", "total", "txn_date", "updated_at")
    part = partial.select("txn_id", pl.col("total") // 2, "txn_date", "updated_at")
    pays = pl.concat([full, part])
    n = pays.height
    status = np.where(rng.random(n) < 0.05, "DELETED", "AUTHORISED")
    return pays.with_columns(
        connection_id=pl.lit(conn["connection_id"]),
        payment_id=pl.Series(_ids(rng, conn["erp"], n, ns_base + 900_000), dtype=pl.String),
        amount=pl.col("total"), status=pl.Series(status),
        # Paid 20 days after the bill, but never after the world's clock.
        payment_date=pl.min_horizontal(pl.col("txn_date") + pl.duration(days=20),
                                       pl.lit(WORLD_NOW.date() - timedelta(days=2))),
        reference=pl.format("EFT {}", pl.int_range(pl.len()) + 1),
        updated_at=pl.min_horizontal(pl.col("updated_at") + pl.duration(days=21),
                                     pl.lit(WORLD_NOW - timedelta(days=1))),
        is_partial=pl.col("txn_id").is_in(partial["txn_id"].implode()),
    ).drop("total")


def _procore_direct_costs(cid, erp, base, txns, lines):
    """What Procore holds after its last job-cost import: syncable ERP transactions as of
    PROCORE_LAST_SYNC, including some the ERP has since deleted (C-7), which stay. NetSuite
    leaves subcontractor invoices out (NS-16: commitment invoiced); Xero shows its bills
    exported from Procore as Subcontractor Invoice (XE-13), Acumatica its Subcontract
    Invoices amount type (AC-21)."""
    synced_lines = lines.filter(pl.col("is_project_ok") & pl.col("is_item_ok"))
    # NS-17: journals arrive as expenses; XE-13: Xero bills exported from Procore arrive as
    # Subcontractor Invoice (NetSuite's are filtered out below, NS-16).
    kinds = {"bill": "invoice", "spend": "expense", "credit_note": "invoice",
             "journal": "expense", "payroll": "payroll", "subinv_bill": "subcontractor_invoice"}
    # Acumatica syncs transactional cost of all four amount types (AC-21).
    ac_kinds = {"subcontract_invoice": "subcontractor_invoice", "invoice": "invoice",
                "expense": "expense", "payroll": "payroll"}
    t = txns.filter(
        pl.col("is_type_ok") & (pl.col("created_at") < PROCORE_LAST_SYNC)
        & pl.col("posts_to_ledger")
        & (~pl.col("txn_kind").is_in(CI_KINDS) | pl.col("amount_type").is_not_null()
           | ((pl.col("txn_kind") == "subinv_bill") & pl.lit(erp == "xero")))
        & (pl.col("is_status_ok") | (pl.col("status") == "DELETED"))
        & pl.col("txn_id").is_in(synced_lines["txn_id"].implode())
    )
    dc = t.select(
        "connection_id", "txn_id", "txn_kind", "erp_type", "status", "contact_name",
        "txn_date", "reference", "invoice_number", "created_at", "amount_type",
    ).with_columns(
        direct_cost_id=base + 600_000 + pl.int_range(pl.len()),
        direct_cost_type=pl.when(pl.col("amount_type").is_not_null())
        .then(pl.col("amount_type").replace_strict(ac_kinds, default="invoice"))
        .otherwise(pl.col("txn_kind").replace_strict(kinds, default="invoice")),
        synced_at=pl.lit(PROCORE_LAST_SYNC - timedelta(hours=2)),
        deleted_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")),
        erp_deleted_after_sync=pl.col("status") == "DELETED",
    )
    dcl = synced_lines.join(dc.select("txn_id", "direct_cost_id", "txn_kind"), on="txn_id",
                            maintain_order="left").select(
        "connection_id", "direct_cost_id", "line_id", "item_code", "wbs_code_id",
        "procore_project_id", "description", "quantity", "unit_amount",
        amount=_signed("txn_kind", "line_amount"),
    )
    proj = dcl.group_by("direct_cost_id", maintain_order=True).agg(
        pl.col("procore_project_id").first())
    dc = dc.join(proj, on="direct_cost_id", maintain_order="left")
    return dc, dcl



# -- exports (issue 6): Procore items not yet in the ERP -----------------------------------------
EXPORTS_STREAM = 6  # the exports draws' own rng stream (see ``_exports_rng``)
# The second is over Acumatica's 30-character project name (AC-7: truncated, a warning).
NEW_PROJECT_NAMES = ("Kingsland Depot Upgrade", "Ellerslie Medical Centre Seismic Strengthening")
STREETS = ("Quay Street", "Karangahape Road", "Great North Road", "Dominion Road")
CITIES = ("Auckland", "Wellington", "Christchurch", "Hamilton")
NEW_WBS_PER_PROJECT = 5
SOV_MARKUP = (5, 4)  # an old commitment's SOV: 125% of what was invoiced on it


def _exports_rng(seed: int, cid: str) -> np.random.Generator:
    """Its own stream per connection, keyed by a stable hash of the id: no draw made before
    (or by any other connection) moves, so every frame the ERPs serve stays as it was."""
    return np.random.default_rng([seed, zlib.crc32(cid.encode()), EXPORTS_STREAM])


def _exports(rng: np.random.Generator, conn: dict, ci: int, out: dict) -> dict:
    """The Procore items the export queue works on (docs/exports.md), appended to the Procore
    frames of one connection; ERP-side frames and existing rows' values are left alone:

    - ``procore_projects`` gains ``address`` and ``city`` (a few addresses with commas, AC-7)
      and two Procore-only projects created after go-live (no ``erp_option_id``), the second
      named over 30 characters (AC-7), with ids below the drawn projects' so the last project
      is still the one that predates the connection (C-4).
    - ``wbs_codes``: five codes per new project from the connection's own code structure
      (copied from its first project), no ERP item, on the budget (one $0 line each).
    - ``procore_only_vendors``: two companies only Procore has (no ERP contact, not synced);
      the second named over 41 characters on Xero (XE-6). Same columns as ``vendors``.
    - ``procore_commitments``: two per new project on synced vendors, but the last on the
      first Procore-only vendor (``company_not_synced``, NS-10); on Acumatica the first
      number is over 15 characters (AC-14).
    - ``procore_commitment_lines``: every commitment's schedule of values (``_sov_lines``).
    - ``procore_requisitions`` / ``_lines``: approved invoices on the new commitments, not
      exported; the second is negative (XE-9; NetSuite vendor credit, NS-13); on Xero the
      third has no payment date (XE-9); the fourth is on the unsynced vendor's commitment.
    - ``procore_payments``: the commitment payments Procore imported (``_procore_payments``).
    """
    projects, wbs = out["procore_projects"], out["wbs_codes"]
    new_p = _new_projects(rng, conn, ci, projects)
    projects = _with_addresses(rng, pl.concat([projects, new_p], how="diagonal_relaxed"),
                               first_new=projects.height)
    only_v = _procore_only_vendors(conn, out["vendors"])
    new_w = _new_wbs_codes(rng, conn, wbs, new_p)
    new_c = _new_commitments(rng, conn, new_p, out["vendors"], only_v,
                             out["procore_commitments"])
    commits = pl.concat([out["procore_commitments"], new_c], how="diagonal_relaxed")
    sov = _sov_lines(rng, conn, commits, new_c, out["procore_requisitions"],
                     out["procore_requisition_lines"], pl.concat([wbs, new_w]))
    new_r, new_rl = _new_requisitions(rng, conn, new_c, sov, out["procore_requisitions"])
    return {
        "procore_projects": projects, "wbs_codes": pl.concat([wbs, new_w]),
        "procore_only_vendors": only_v, "procore_commitments": commits,
        "procore_commitment_lines": sov,
        "procore_requisitions": pl.concat([out["procore_requisitions"], new_r]),
        "procore_requisition_lines": pl.concat([
            out["procore_requisition_lines"],
            new_rl.select(out["procore_requisition_lines"].columns)
            .cast(out["procore_requisition_lines"].schema)]),
        "procore_payments": _procore_payments(conn, out["erp_txns"], out["erp_payments"],
                                              out["procore_requisitions"]),
    }


def _base(conn: dict) -> int:
    return (int(conn["procore_company_id"]) - 4000) * 1_000_000


def _new_projects(rng, conn: dict, ci: int, projects: pl.DataFrame) -> pl.DataFrame:
    n = len(NEW_PROJECT_NAMES)
    days = np.sort(rng.integers(430, 480, n)) * 86400  # 2026: well after go-live (C-4)
    return pl.DataFrame({
        "connection_id": conn["connection_id"], "company_id": conn["procore_company_id"],
        "project_id": _base(conn) + 90 + np.arange(n),
        "project_number": [f"P-{ci + 1}{projects.height + k + 1:03d}" for k in range(n)],
        "name": list(NEW_PROJECT_NAMES), "is_synced": False,
        "erp_option_id": pl.Series([None] * n, dtype=pl.String),
        "uses_standard_list": True, "active": True,
        "created_at": _ts(WORLD_START, days), "updated_at": _ts(WORLD_START, days + 86400 * 3),
    }).cast(projects.schema)


def _with_addresses(rng, projects: pl.DataFrame, first_new: int) -> pl.DataFrame:
    """A street address and city per project; about a quarter carry a unit ("Unit 4, 12 Quay
    Street": a comma, AC-7), always the first new one; the project that predates go-live
    has neither (nullable)."""
    n = projects.height
    number, street = rng.integers(1, 400, n), rng.integers(0, len(STREETS), n)
    unit, city = rng.integers(1, 20, n), rng.integers(0, len(CITIES), n)
    comma = rng.random(n) < 0.25
    comma[first_new] = True
    address = [f"Unit {u}, {a} {STREETS[s]}" if c else f"{a} {STREETS[s]}"
               for a, s, u, c in zip(number, street, unit, comma, strict=True)]
    cities = [CITIES[c] for c in city]
    address[first_new - 1] = cities[first_new - 1] = None  # the C-4 project
    return projects.with_columns(address=pl.Series(address, dtype=pl.String),
                                 city=pl.Series(cities, dtype=pl.String))


def _procore_only_vendors(conn: dict, vendors: pl.DataFrame) -> pl.DataFrame:
    """Companies added to Procore's directory after go-live, never in the ERP (not synced)."""
    cid, n = conn["connection_id"], 2
    names = [f"Vendor {cid.upper()} New {k + 1} Ltd" for k in range(n)]
    if conn["erp"] == "xero":  # XE-6: a Contact name is at most 41 characters
        names[1] = names[1].replace(" Ltd", LONG_SUFFIX)
    created = np.array([440, 445]) * 86400
    return pl.DataFrame({
        "connection_id": cid, "vendor_index": -1,
        "contact_id": pl.Series([None] * n, dtype=pl.String), "name": names,
        "in_procore": True, "is_linked": False,
        "procore_vendor_id": _base(conn) + 19_000 + np.arange(n),
        "address": [f"{k + 5} Fanshawe Street" for k in range(n)], "city": "Auckland",
        "phone": [f"+64 9 333 {k:04d}" for k in range(n)],
        "erp_phone": pl.Series([None] * n, dtype=pl.String),
        "edited_in": pl.Series([None] * n, dtype=pl.String), "exported_from_procore": False,
        "created_at": _ts(WORLD_START, created), "updated_at": _ts(WORLD_START, created + 3600),
        "erp_updated_at": pl.Series([None] * n, dtype=pl.Datetime("us", "UTC")),
    }).cast({k: v for k, v in vendors.schema.items() if k != "contact_id"})


def _new_wbs_codes(rng, conn: dict, wbs: pl.DataFrame, new_p: pl.DataFrame) -> pl.DataFrame:
    """The connection's first project's codes (on the list, no sub job or Phase segment) are
    its code structure; each new project budgets a few of them, none exported yet."""
    ref = wbs.filter(pl.col("project_id") == wbs["project_id"].min())
    parts = []
    for p in new_p.iter_rows(named=True):
        k = min(NEW_WBS_PER_PROJECT, ref.height)
        pick = np.sort(rng.choice(ref.height, size=k, replace=False))
        budget = rng.integers(5_000, 400_000, k) * 100
        budget[0] = 0  # a $0 budget line
        day = p["created_at"] + timedelta(days=1)
        parts.append(ref[pick.tolist()].with_columns(
            project_id=pl.lit(p["project_id"]), erp_item_id=pl.lit(None, pl.String),
            on_budget=pl.lit(True), budget_cents=pl.Series(budget),
            item_name=pl.format("{}-{}", pl.lit(p["project_number"]), "flat_code")
            if conn["erp"] == "netsuite" else pl.col("flat_code"),
            created_at=pl.lit(day), updated_at=pl.lit(day + timedelta(hours=1))))
    new = pl.concat(parts)
    return new.with_columns(
        wbs_code_id=_base(conn) + 290_000 + pl.int_range(pl.len())).cast(wbs.schema)


def _new_commitments(rng, conn: dict, new_p: pl.DataFrame, vendors: pl.DataFrame,
                     only_v: pl.DataFrame, commits: pl.DataFrame) -> pl.DataFrame:
    n = 2 * new_p.height
    proj = np.repeat(new_p["project_id"].to_numpy(), 2)
    numbers = dict(zip(new_p["project_id"], new_p["project_number"], strict=True))
    synced = vendors.filter(pl.col("is_linked"))["procore_vendor_id"].to_numpy()
    vend = synced[rng.integers(0, synced.size, n)]
    vend[-1] = only_v["procore_vendor_id"][0]  # NS-10/XE-7/XE-9/AC-13: company not synced
    number = [f"SC-{commits.height + j + 1:03d}" for j in range(n)]
    if conn["erp"] == "acumatica":  # AC-14: a number over 15 characters
        number[0] = f"{number[0]}-{numbers[int(proj[0])]}-REV1"
    created = dict(zip(new_p["project_id"], new_p["created_at"], strict=True))
    made = [created[int(p)] + timedelta(days=5 + j) for j, p in enumerate(proj)]
    return pl.DataFrame({
        "connection_id": conn["connection_id"], "company_id": conn["procore_company_id"],
        "commitment_id": _base(conn) + 390_000 + np.arange(n), "project_id": proj,
        "vendor_id": vend, "number": number,
        "title": [f"Subcontract package {commits.height + j + 1}" for j in range(n)],
        "status": "Approved", "erp_commitment_id": pl.Series([None] * n, dtype=pl.String),
        "created_at": made, "updated_at": [m + timedelta(days=1) for m in made],
    }).cast(commits.schema)


def _sov_lines(rng, conn: dict, commits: pl.DataFrame, new_c: pl.DataFrame,
               reqs: pl.DataFrame, req_lines: pl.DataFrame, wbs: pl.DataFrame) -> pl.DataFrame:
    """Every commitment's schedule of values: ``amount = quantity * unit_cost`` exactly (cents).

    A drawn commitment has one line per WBS code its invoices used, worth 125% of what was
    invoiced on it (the Acumatica Subcontract total, ``acumatica_tables._subcontracts``: the
    last line takes the rounding), or, never invoiced, one or two of its project's exported
    codes. A new commitment has two or three of its project's new codes."""
    used = req_lines.join(reqs.select("requisition_id", "commitment_id"), on="requisition_id"
                          ).group_by("commitment_id", "wbs_code_id").agg(
        invoiced=pl.col("amount").abs().sum()).sort("commitment_id", "wbs_code_id")
    total = used.group_by("commitment_id").agg(t=pl.col("invoiced").sum() * SOV_MARKUP[0]
                                               // SOV_MARKUP[1])
    old = used.join(total, on="commitment_id", maintain_order="left").with_columns(
        amount=pl.col("invoiced") * SOV_MARKUP[0] // SOV_MARKUP[1])
    last = pl.int_range(pl.len()).over("commitment_id") == pl.len().over("commitment_id") - 1
    old = old.with_columns(amount=pl.when(last).then(
        pl.col("t") - pl.col("amount").sum().over("commitment_id") + pl.col("amount"))
        .otherwise(pl.col("amount"))).select("commitment_id", "wbs_code_id", "amount")
    rows = []
    bare = commits.filter(~pl.col("commitment_id").is_in(used["commitment_id"].implode())
                          & ~pl.col("commitment_id").is_in(new_c["commitment_id"].implode()))
    for c in bare.iter_rows(named=True):
        pool = wbs.filter((pl.col("project_id") == c["project_id"])
                          & pl.col("erp_item_id").is_not_null())["wbs_code_id"]
        pool = pool if pool.len() else wbs.filter(pl.col("project_id") == c["project_id"]
                                                  )["wbs_code_id"]
        for w in np.sort(rng.choice(pool.to_numpy(), size=min(2, pool.len()), replace=False)):
            rows.append((c["commitment_id"], int(w), int(rng.integers(10, 5_000)) * 1_000))
    old = pl.concat([old, pl.DataFrame(rows, schema=old.schema, orient="row")])
    old = old.with_columns(quantity=_whole_divisor(pl.col("amount"))).with_columns(
        unit_cost=pl.col("amount") // pl.col("quantity"))
    new = []
    for c in new_c.iter_rows(named=True):
        pool = wbs.filter(pl.col("project_id") == c["project_id"])["wbs_code_id"].to_numpy()
        k = int(rng.integers(2, 4))
        for w in np.sort(rng.choice(pool, size=k, replace=False)):
            qty, unit = int(rng.integers(1, 25)), int(rng.integers(2_000, 400_000))
            new.append((c["commitment_id"], int(w), qty * unit, qty, unit))
    lines = pl.concat([old, pl.DataFrame(new, schema=old.schema, orient="row")]).sort(
        "commitment_id", "wbs_code_id", maintain_order=True)
    return lines.join(wbs.select("wbs_code_id", "flat_code", "description"), on="wbs_code_id",
                      maintain_order="left").select(
        connection_id=pl.lit(conn["connection_id"]), commitment_id="commitment_id",
        line_id=_base(conn) + 700_000 + pl.int_range(pl.len()), wbs_code_id="wbs_code_id",
        flat_code="flat_code", description="description",
        quantity=pl.col("quantity").cast(pl.Float64), unit_cost="unit_cost", amount="amount")


def _whole_divisor(amount: pl.Expr) -> pl.Expr:
    """The largest of 10, 5, 4, 2, 1 that divides the amount in cents: a whole quantity whose
    unit cost is exact to the cent."""
    out = pl.lit(1, pl.Int64)
    for d in (2, 4, 5, 10):
        out = pl.when(amount % d == 0).then(pl.lit(d, pl.Int64)).otherwise(out)
    return out


def _new_requisitions(rng, conn: dict, new_c: pl.DataFrame, sov: pl.DataFrame,
                      reqs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Approved invoices on the new commitments, one line per SOV line billing 10-40% of it;
    the second is negative (a tenth, as the drawn negative ones), on Xero the third has no
    payment date, and the fourth bills the commitment of the vendor no ERP has."""
    base, cid, xero = _base(conn), conn["connection_id"], conn["erp"] == "xero"
    ids = new_c["commitment_id"].to_list()
    on = [ids[0], ids[1], ids[2], ids[3], ids[2]]  # two on the first project, three on the next
    c = {r["commitment_id"]: r for r in new_c.iter_rows(named=True)}
    heads, lines = [], []
    for k, commitment in enumerate(on):
        billed = c[commitment]["created_at"] + timedelta(days=int(rng.integers(10, 40)))
        rid = base + 490_000 + k
        for s in sov.filter(pl.col("commitment_id") == commitment).iter_rows(named=True):
            amt = s["amount"] * int(rng.integers(10, 41)) // 100
            lines.append((cid, rid, s["wbs_code_id"], s["flat_code"],
                          -(amt // 10) if k == 1 else amt))
        pay = None if xero and k == 2 else (billed + timedelta(days=30)).date()
        heads.append((cid, rid, commitment, c[commitment]["project_id"],
                      c[commitment]["vendor_id"],
                      f"INV-{cid[:2].upper()}{reqs.height + k + 1:05d}", "approved", k == 1,
                      False, billed.date(), pay, billed, billed + timedelta(hours=1),
                      10 if xero else 0))
    r = pl.DataFrame(heads, orient="row", schema=reqs.columns).cast(reqs.schema)
    rl = pl.DataFrame(lines, orient="row", schema=[
        "connection_id", "requisition_id", "wbs_code_id", "flat_code", "amount"]).with_columns(
        requisition_line_id=base + 590_000 + pl.int_range(pl.len()))
    return r, rl


def _procore_payments(conn: dict, txns: pl.DataFrame, pays: pl.DataFrame,
                      reqs: pl.DataFrame) -> pl.DataFrame:
    """Commitment payments Procore holds: ERP payments on subcontractor invoices exported from
    Procore, made between go-live (XE-10: only payments after the sync was configured) and
    Procore's last import, live or since deleted in the ERP (XE-10: Procore keeps them) —
    the direct costs' rule. Later ones are pending import (``payment_imports``)."""
    held = payment_imports(txns, pays, reqs, conn["live_date"]).filter(
        pl.col("payment_date") < PROCORE_LAST_SYNC.date())
    return held.select(
        "connection_id", payment_id=_base(conn) + 750_000 + pl.int_range(pl.len()),
        project_id="project_id", commitment_id="commitment_id",
        requisition_id="requisition_id", invoice_number="invoice_number",
        origin_id="payment_id", amount="amount", payment_date="payment_date",
        reference="reference", created_at=pl.lit(PROCORE_LAST_SYNC - timedelta(hours=2)),
        updated_at=pl.lit(PROCORE_LAST_SYNC - timedelta(hours=2)),
        deleted_at=pl.lit(None, pl.Datetime("us", "UTC")))


def payment_imports(txns: pl.DataFrame, pays: pl.DataFrame, reqs: pl.DataFrame,
                    live_date: datetime) -> pl.DataFrame:
    """ERP payments Procore imports (XE-10, NS-12, AC-17): those on subcontractor invoices
    exported from Procore, made on or after go-live, with the invoice's Procore keys."""
    inv = txns.filter(pl.col("requisition_id") >= 0).select("txn_id", "requisition_id")
    keys = reqs.select("requisition_id", "commitment_id", "project_id", "invoice_number")
    return (pays.join(inv, on="txn_id", maintain_order="left")
            .join(keys, on="requisition_id", maintain_order="left")
            .filter(pl.col("payment_date") >= live_date.date()))


def payments_pending_import(w: World, connection_id: str | None = None) -> pl.DataFrame:
    """ERP payments on exported subcontractor invoices that Procore does not hold yet and
    that are still live in the ERP: the import candidates (``payment`` items)."""
    out = []
    for conn in w.connections().iter_rows(named=True):
        if connection_id and conn["connection_id"] != connection_id:
            continue
        mine = pl.col("connection_id") == conn["connection_id"]
        cand = payment_imports(w.t["erp_txns"].filter(mine), w.t["erp_payments"].filter(mine),
                               w.t["procore_requisitions"].filter(mine), conn["live_date"])
        held = w.t["procore_payments"].filter(mine)["origin_id"].implode()
        out.append(cand.filter(~pl.col("payment_id").is_in(held)
                               & (pl.col("status") == "AUTHORISED")))
    return pl.concat(out)


# -- changes and Procore Pay (issue 6): CCOs, budget changes, Procore Pay payments --------------
CHANGES_STREAM = 7  # their own rng stream (see ``_changes_rng``): nothing drawn before moves
CHANGE_ID_OFFSETS = {"cco": 800_000, "cco_line": 810_000, "budget_change": 820_000,
                     "budget_change_line": 830_000, "pay_payment": 840_000,
                     "disbursement": 850_000}
CHANGE_FRAMES = ("procore_change_orders", "procore_change_order_lines",
                 "procore_budget_changes", "procore_budget_change_lines",
                 "procore_pay_payments")


def _changes_rng(seed: int, cid: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(cid.encode()), CHANGES_STREAM])


def _changes(rng: np.random.Generator, conn: dict, out: dict) -> dict:
    """Commitment change orders, budget changes and Procore Pay payments of one connection,
    new frames only (money in cents; ``origin_id`` null: none is exported yet):

    - ``procore_change_orders`` (Xero and Acumatica; NetSuite has no commitments, NS-1):
      connection_id, change_order_id, project_id, commitment_id, number, title, status,
      created_at, updated_at. Four per connection: on commitment A (the first drawn one
      Acumatica holds, on Xero the first drawn one), approved; on commitment B, approved,
      changing one SOV line twice (XE-8: summed into one PO line); on the first new
      commitment, which no ERP holds (XE-8/AC-15 commitment_not_synced); on A again, on Xero
      ``Pending`` (XE-8 not Approved), on Acumatica approved with a line on a code the ERP
      does not have (AC-15) — a code of the project without ERP code, else no code at all.
    - ``procore_change_order_lines``: connection_id, change_order_id, line_id,
      commitment_line_id (the SOV line changed; null for a new line), wbs_code_id,
      flat_code, description, amount.
    - ``procore_budget_changes`` / ``_lines`` (Acumatica, AC-12): connection_id,
      budget_change_id, project_id, number, description, status, created_at, updated_at; lines
      connection_id, budget_change_id, line_id, wbs_code_id, flat_code, description, amount.
      Two on synced projects on exported codes (the second a reduction), one on a new project
      (project_not_synced, codes not exported), and, where a synced project has a code the ERP
      lacks, one on that code (budget_codes_not_exported).
    - ``procore_pay_payments`` (Acumatica, AC-17): connection_id, payment_id, disbursement_id,
      project_id, commitment_id, requisition_id, vendor_id, invoice_number, amount,
      payment_date, reference, status, created_at, updated_at. Half the total of the first two
      approved subcontractor invoices exported as a bill still Open; one on an approved
      invoice never exported (not synced); one on a pending invoice, where there is one.
    """
    frames: dict[str, pl.DataFrame] = {}
    if conn["erp"] in ("xero", "acumatica"):
        frames.update(_change_orders(rng, conn, out))
    if conn["erp"] == "acumatica":
        frames.update(_budget_changes(rng, conn, out))
        frames["procore_pay_payments"] = _pay_payments(conn, out)
    return frames


def _cco_commitments(conn: dict, out: dict) -> tuple[dict, dict, dict]:
    """Commitments A and B (drawn, the ERP's where it holds them) and the first new one."""
    commits = out["procore_commitments"]
    drawn = commits.filter(pl.col("commitment_id") < _base(conn) + 390_000)
    if conn["erp"] == "acumatica":
        drawn = drawn.filter(pl.col("erp_commitment_id").is_not_null())
    synced = out["procore_projects"].filter(pl.col("is_synced"))["project_id"].implode()
    drawn = drawn.filter(pl.col("project_id").is_in(synced)).sort("commitment_id")
    new = commits.filter(pl.col("commitment_id") >= _base(conn) + 390_000).sort("commitment_id")
    return (drawn.row(0, named=True), drawn.row(min(1, drawn.height - 1), named=True),
            new.row(0, named=True))


def _change_orders(rng, conn: dict, out: dict) -> dict[str, pl.DataFrame]:
    a, b, new = _cco_commitments(conn, out)
    sov, wbs = out["procore_commitment_lines"], out["wbs_codes"]
    heads, lines = [], []

    def sov_of(c: dict) -> list[dict]:
        return list(sov.filter(pl.col("commitment_id") == c["commitment_id"]).sort("line_id")
                    .iter_rows(named=True))

    def amount() -> int:
        return int(rng.integers(50, 20_000)) * 100

    def add_line(k: int, s: dict | None, w: dict | None, text: str) -> None:
        lines.append((k, s["line_id"] if s else None,
                      (s or w or {}).get("wbs_code_id"), (s or w or {}).get("flat_code"),
                      text, amount()))

    plan = [(a, "Approved"), (b, "Approved"), (new, "Approved"),
            (a, "Pending" if conn["erp"] == "xero" else "Approved")]
    for k, (c, status) in enumerate(plan):
        heads.append((k, c, status))
        rows = sov_of(c)
        if k == 1:  # one SOV line changed twice (XE-8), and maybe one more
            s = rows[int(rng.integers(0, len(rows)))]
            add_line(k, s, None, f"Added scope: {s['description']}")
            add_line(k, s, None, f"Further scope: {s['description']}")
        elif k == 3 and conn["erp"] == "acumatica":  # AC-15: a code the ERP does not have
            off = wbs.filter((pl.col("project_id") == c["project_id"])
                             & pl.col("erp_item_id").is_null()).sort("wbs_code_id")
            w = off.row(0, named=True) if off.height else None
            add_line(k, None, w, "New scope on a code not in Acumatica")
        else:
            n = min(len(rows), int(rng.integers(1, 3)))
            for i in np.sort(rng.choice(len(rows), size=n, replace=False)):
                add_line(k, rows[int(i)], None, f"Change to {rows[int(i)]['description']}")
    return _cco_frames(conn, heads, lines)


def _cco_frames(conn: dict, heads: list, lines: list) -> dict[str, pl.DataFrame]:
    base, cid = _base(conn), conn["connection_id"]
    made = [c["created_at"] + timedelta(days=20 + 3 * k) for k, c, _ in heads]
    orders = pl.DataFrame({
        "connection_id": cid, "change_order_id": [base + CHANGE_ID_OFFSETS["cco"] + k
                                                  for k, _, _ in heads],
        "project_id": [c["project_id"] for _, c, _ in heads],
        "commitment_id": [c["commitment_id"] for _, c, _ in heads],
        "number": [f"CCO-{k + 1:03d}" for k, _, _ in heads],
        "title": [f"{c['number']} change {k + 1}" for k, c, _ in heads],
        "status": [s for _, _, s in heads], "created_at": made,
        "updated_at": [m + timedelta(hours=2) for m in made],
    })
    line_frame = pl.DataFrame(lines, orient="row", schema={
        "k": pl.Int64, "commitment_line_id": pl.Int64, "wbs_code_id": pl.Int64,
        "flat_code": pl.String, "description": pl.String, "amount": pl.Int64})
    line_frame = line_frame.select(
        connection_id=pl.lit(cid), change_order_id=base + CHANGE_ID_OFFSETS["cco"] + pl.col("k"),
        line_id=base + CHANGE_ID_OFFSETS["cco_line"] + pl.int_range(pl.len()),
        commitment_line_id="commitment_line_id", wbs_code_id="wbs_code_id",
        flat_code="flat_code", description="description", amount="amount")
    return {"procore_change_orders": orders, "procore_change_order_lines": line_frame}


def _budget_changes(rng, conn: dict, out: dict) -> dict[str, pl.DataFrame]:
    projects, wbs = out["procore_projects"], out["wbs_codes"]
    synced = projects.filter(pl.col("is_synced")).sort("project_id")["project_id"].to_list()
    new = projects.filter(pl.col("erp_option_id").is_null()).sort("project_id")
    exported = wbs.filter(pl.col("erp_item_id").is_not_null())
    missing = wbs.filter(pl.col("erp_item_id").is_null()
                         & pl.col("project_id").is_in(pl.Series(synced).implode()))
    plan = [(synced[0], exported, 2, 1), (synced[min(1, len(synced) - 1)], exported, 1, -1),
            (new["project_id"][0], wbs, 2, 1)]
    if missing.height:
        plan.append((missing["project_id"][0], missing, 1, 1))
    heads, lines = [], []
    for k, (project, pool, n, sign) in enumerate(plan):
        codes = pool.filter(pl.col("project_id") == project).sort("wbs_code_id")
        pick = np.sort(rng.choice(codes.height, size=min(n, codes.height), replace=False))
        for i in pick:
            w = codes.row(int(i), named=True)
            lines.append((k, w["wbs_code_id"], w["flat_code"], f"Budget change: "
                          f"{w['description']}", sign * int(rng.integers(100, 30_000)) * 100))
        heads.append((k, project))
    base, cid = _base(conn), conn["connection_id"]
    made = [PROCORE_LAST_SYNC - timedelta(days=10 - 2 * k) for k, _ in heads]
    changes = pl.DataFrame({
        "connection_id": cid,
        "budget_change_id": [base + CHANGE_ID_OFFSETS["budget_change"] + k for k, _ in heads],
        "project_id": [p for _, p in heads], "number": [f"BC-{k + 1:03d}" for k, _ in heads],
        "description": [f"Budget change {k + 1}" for k, _ in heads], "status": "approved",
        "created_at": made, "updated_at": [m + timedelta(hours=1) for m in made]})
    line_frame = pl.DataFrame(lines, orient="row", schema={
        "k": pl.Int64, "wbs_code_id": pl.Int64, "flat_code": pl.String,
        "description": pl.String, "amount": pl.Int64}).select(
        connection_id=pl.lit(cid),
        budget_change_id=base + CHANGE_ID_OFFSETS["budget_change"] + pl.col("k"),
        line_id=base + CHANGE_ID_OFFSETS["budget_change_line"] + pl.int_range(pl.len()),
        wbs_code_id="wbs_code_id", flat_code="flat_code", description="description",
        amount="amount")
    return {"procore_budget_changes": changes, "procore_budget_change_lines": line_frame}


def _pay_payments(conn: dict, out: dict) -> pl.DataFrame:
    """Procore Pay payments (no draws: the invoices decide)."""
    reqs = out["procore_requisitions"].sort("requisition_id")
    totals = out["procore_requisition_lines"].group_by("requisition_id").agg(
        total=pl.col("amount").sum())
    open_bills = out["erp_txns"].filter((pl.col("txn_kind") == "subinv_bill")
                                        & (pl.col("status") == "AUTHORISED"))
    reqs = reqs.join(totals, on="requisition_id", how="left")
    ok = reqs.filter(pl.col("is_exported") & (pl.col("status") == "approved")
                     & pl.col("requisition_id").is_in(open_bills["requisition_id"].implode()))
    unsent = reqs.filter(~pl.col("is_exported") & (pl.col("status") == "approved")
                         & (pl.col("total") > 0))
    pending = reqs.filter((pl.col("status") == "pending") & (pl.col("total") > 0))
    picked = pl.concat([ok.head(2), unsent.head(1), pending.head(1)])
    base = _base(conn)
    paid = PROCORE_LAST_SYNC - timedelta(days=3)
    return picked.select(
        "connection_id",
        payment_id=base + CHANGE_ID_OFFSETS["pay_payment"] + pl.int_range(pl.len()),
        disbursement_id=pl.lit(base + CHANGE_ID_OFFSETS["disbursement"], pl.Int64),
        project_id="project_id", commitment_id="commitment_id",
        requisition_id="requisition_id", vendor_id="vendor_id",
        invoice_number="invoice_number", amount=pl.col("total") // 2,
        payment_date=pl.lit(paid.date()),
        reference=pl.format("Procore Pay disbursement {}", pl.lit(base // 1_000_000)),
        status=pl.lit("paid"), created_at=pl.lit(paid),
        updated_at=pl.lit(paid + timedelta(hours=1)))
