"""Deterministic world generator: Procore companies paired with ERPs, and the ERP ledgers.

The world is a set of polars frames built from ``(seed, size)`` with numpy, so the ``large`` size
(over a million ERP cost lines) builds in seconds. Every ERP cost line carries the generator's own
truth about it (``is_*_ok`` flags and ``intent``), set when the line is drawn, never derived from
the connector rules the warehouse applies, so tests can compare the warehouse with ``ledger()``.

Money is integer cents in the frames; serializers and the ledger turn it into Decimal.
"""

from __future__ import annotations

import uuid
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
# Xero-only items: never exported from Procore, so lines on them are unsyncable (XE-11).
XERO_ONLY_ITEMS = ("GEN-OVERHEAD", "FUEL", "OFFICE-SUPPLIES", "TOOLS-SMALL")
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


SIZES: dict[str, Size] = {
    "tiny": Size(("xero", "netsuite", "acumatica"), 4, 6, 8, 80, 10),
    "demo": Size(("xero", "netsuite", "acumatica", "xero"), 14, 40, 80, 4500, 30),
    "large": Size(ERP_KINDS * 3, 60, 120, 400, 45000, 60),
}


def _guid(rng: np.random.Generator, n: int) -> list[str]:
    hi = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    lo = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    return [str(uuid.UUID(int=(int(a) << 65 | int(b) << 1) & (2**128 - 1), version=4))
            for a, b in zip(hi, lo, strict=True)]


def _ts(base: datetime, seconds: np.ndarray) -> pl.Series:
    start = np.datetime64(base.replace(tzinfo=None), "us")
    return pl.Series(start + seconds.astype("timedelta64[s]")).dt.replace_time_zone("UTC")


@dataclass
class World:
    """All entities, keyed by table name; ``now`` is the world's clock."""

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
        approved status, an eligible type, a synced project and a synced item. JTD is bills plus
        spend money (XE-12); commitment invoiced is bills exported from Procore.
        """
        lines = self.cost_lines(connection_id).filter(pl.col("is_syncable"))
        jtd_kinds = ["bill", "subinv_bill", "spend"]
        out = (
            lines.filter(pl.col("txn_kind").is_in(jtd_kinds))
            .group_by("connection_id", "procore_project_id", "cost_code", "cost_type")
            .agg(
                jtd_cents=pl.col("line_amount").sum(),
                ci_cents=pl.col("line_amount").filter(pl.col("txn_kind") == "subinv_bill").sum(),
            )
            .with_columns(direct_cents=pl.col("jtd_cents") - pl.col("ci_cents"))
            .sort("connection_id", "procore_project_id", "cost_code", "cost_type")
        )
        return out

    def cost_lines(self, connection_id: str | None = None) -> pl.DataFrame:
        """ERP cost lines joined to their transaction, with the generator's truth flags."""
        lines = self.t["erp_lines"]
        txns = self.t["erp_txns"].select(
            "txn_id", "txn_kind", "status", "erp_type", "is_status_ok", "is_type_ok")
        out = lines.join(txns, on="txn_id", maintain_order="left").with_columns(
            is_syncable=pl.col("is_status_ok") & pl.col("is_type_ok")
            & pl.col("is_project_ok") & pl.col("is_item_ok")
        )
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
        live = txns.filter(
            pl.col("connection_id").is_in(xero_conn)
            & (pl.col("txn_kind") == "bill") & (pl.col("status") == "AUTHORISED")
            & ~pl.col("txn_id").is_in(self.t["erp_payments"]["txn_id"].implode())
        )
        void_ids = live.sample(n=min(n, live.height), seed=int(rng.integers(1 << 30)))["txn_id"]
        spend = txns.filter(
            pl.col("connection_id").is_in(xero_conn) & (pl.col("txn_kind") == "spend")
            & (pl.col("status") == "AUTHORISED") & ~pl.col("txn_id").is_in(void_ids.implode())
        )
        bump_ids = spend.sample(n=min(n, spend.height), seed=int(rng.integers(1 << 30)))["txn_id"]
        self.t["erp_txns"] = txns.with_columns(
            status=pl.when(pl.col("txn_id").is_in(void_ids.implode())).then(pl.lit("VOIDED"))
            .otherwise(pl.col("status")),
            is_status_ok=pl.when(pl.col("txn_id").is_in(void_ids.implode())).then(False)
            .otherwise(pl.col("is_status_ok")),
            updated_at=pl.when(pl.col("txn_id").is_in(pl.concat([void_ids, bump_ids]).implode()))
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
        changed["direct_costs_deleted"] = gone.to_list()
        changed["bills_voided"] = void_ids.to_list()
        changed["spend_changed"] = bump_ids.to_list()
        changed["payments_deleted"] = del_pay.to_list()
        changed["projects_renamed"] = ren.to_list()
        return changed


def cents(v: int) -> Decimal:
    return (Decimal(int(v)) / 100).quantize(Decimal("0.01"))


# -- generation ----------------------------------------------------------------------------------

def generate(seed: int = 42, size: str = "tiny") -> World:
    if size not in SIZES:
        raise ValueError(f"unknown world size {size!r}: choose one of {', '.join(SIZES)}")
    spec = SIZES[size]
    rng = np.random.default_rng(seed)
    parts: dict[str, list[pl.DataFrame]] = {}
    conns = []
    for i, kind in enumerate(spec.kinds):
        cid = f"{kind}-{sum(1 for k in spec.kinds[:i] if k == kind) + 1}"
        conns.append({
            "connection_id": cid, "erp": kind, "procore_company_id": 4000 + i + 1,
            "company_name": f"{COMPANY_NAMES[i % len(COMPANY_NAMES)]} Builders {i + 1}",
            "erp_tenant_id": _guid(rng, 1)[0], "live_date": LIVE_DATE,
            "retainage_item": RETAINAGE_ITEM, "tracking_category": "Job",
        })
        sub = _generate_connection(rng, spec, conns[-1], i)
        for k, v in sub.items():
            parts.setdefault(k, []).append(v)
    w = World(seed=seed, size=size)
    w.t["connections"] = pl.DataFrame(conns)
    for k, frames in parts.items():
        w.t[k] = pl.concat(frames, how="vertical")
    return w


def _generate_connection(rng: np.random.Generator, spec: Size, conn: dict, ci: int) -> dict:
    cid, company = conn["connection_id"], conn["procore_company_id"]
    base = (ci + 1) * 1_000_000
    out: dict[str, pl.DataFrame] = {}

    # Vendors: Procore companies (directory) and ERP contacts. Some only on one side.
    nv = spec.vendors
    vnames = [f"Vendor {cid.upper()} {j + 1:04d} Ltd" for j in range(nv)]
    for j in rng.choice(nv, size=max(1, nv // 10), replace=False):
        vnames[j] = vnames[j].replace(" Ltd", LONG_SUFFIX)
    contact_ids = _guid(rng, nv)
    in_procore = rng.random(nv) < 0.9
    in_procore[:3] = True
    linked = in_procore & (rng.random(nv) < 0.85)
    linked[:2] = True
    created = rng.integers(0, 400 * 86400, nv)
    out["vendors"] = pl.DataFrame({
        "connection_id": cid, "vendor_index": np.arange(nv), "contact_id": contact_ids,
        "name": vnames, "in_procore": in_procore, "is_linked": linked,
        "procore_vendor_id": np.where(in_procore, base + 10_000 + np.arange(nv), -1),
        "address": [f"{10 + j} Quay Street" for j in range(nv)],
        "city": "Auckland", "phone": [f"+64 9 555 {j:04d}" for j in range(nv)],
        "created_at": _ts(WORLD_START, created),
        "updated_at": _ts(WORLD_START, created + rng.integers(0, 100 * 86400, nv)),
    })

    # Company cost code list and the items exported to the ERP (one per code and cost type).
    divs = list(DIVISIONS)
    codes = []
    for j in range(spec.cost_codes):
        d = divs[j % len(divs)]
        codes.append((f"{d:02d}-{100 + 10 * (j // len(divs)) + j % 7:03d}", DIVISIONS[d]))
    codes = list(dict.fromkeys(codes))
    # Projects: synced ones are Xero tracking options linked in Procore; one pre-existing
    # project (created before the connection went live) was never linked (C-4).
    np_ = spec.projects
    pnames = [f"{PROJECT_NAMES[j % len(PROJECT_NAMES)]} {('Residences', 'Tower')[j % 2]} {j + 1}"
              for j in range(np_)]
    pnames[1] = pnames[1] + " Stage Two Mixed-Use Redevelopment and Civil Works"
    created_p = np.where(np.arange(np_) == np_ - 1, 0, rng.integers(60, 400, np_)) * 86400
    is_synced = np.ones(np_, dtype=bool)
    is_synced[np_ - 1] = False  # pre-existing, unlinked (C-4)
    option_ids = _guid(rng, np_)
    out["projects"] = None  # placeholder, keeps key order readable
    procore_projects = pl.DataFrame({
        "connection_id": cid, "company_id": company, "project_id": base + 100 + np.arange(np_),
        "project_number": [f"P-{ci + 1}{j + 1:03d}" for j in range(np_)],
        "name": pnames, "is_synced": is_synced, "erp_option_id": option_ids,
        "active": True,
        "created_at": _ts(WORLD_START, created_p),
        "updated_at": _ts(WORLD_START, created_p + 86400 * 3),
    })
    out.pop("projects")
    out["procore_projects"] = procore_projects

    # WBS codes per project (cost code x cost type); flat code doubles as the Xero item code.
    combos = [(c, n, t) for c, n in codes for t in COST_TYPES]
    item_ids = dict(zip([f"{c}.{t}" for c, _, t in combos], _guid(rng, len(combos)),
                        strict=True))
    wbs_rows = []
    wid = base + 200_000
    for p in range(np_):
        pick = rng.choice(len(combos), size=min(spec.wbs_per_project, len(combos)), replace=False)
        for j, k in enumerate(sorted(pick)):
            c, n, t = combos[k]
            # A few codes were added to a synced project after its export and not resent
            # (XE-5, ready to update): no item exists for them yet.
            exported = bool(is_synced[p]) and not (j == len(pick) - 1 and p % 3 == 0)
            wbs_rows.append((cid, company, base + 100 + p, wid, c, n, t, f"{c}.{t}",
                             item_ids[f"{c}.{t}"] if exported else None))
            wid += 1
    wbs = pl.DataFrame(wbs_rows, orient="row", schema=[
        "connection_id", "company_id", "project_id", "wbs_code_id", "cost_code",
        "cost_code_name", "cost_type", "flat_code", "erp_item_id"])
    wbs = wbs.with_columns(
        description=pl.col("cost_code_name") + " - " + pl.col("cost_type").replace(COST_TYPES),
        budget_cents=pl.Series(np.where(rng.random(wbs.height) < 0.1, 0,
                                        rng.integers(5_000, 900_000, wbs.height) * 100)),
        created_at=pl.lit(WORLD_START + timedelta(days=30)),
        updated_at=pl.lit(WORLD_START + timedelta(days=31)),
    )
    out["wbs_codes"] = wbs
    exported_codes = sorted({r[7] for r in wbs_rows if r[8] is not None})
    items = [(cid, item_ids[c], c, _item_name(c, codes), True) for c in exported_codes]
    items += [(cid, g, c, c.replace("-", " ").title(), False)
              for c, g in zip((*XERO_ONLY_ITEMS, RETAINAGE_ITEM),
                              _guid(rng, len(XERO_ONLY_ITEMS) + 1), strict=True)]
    out["erp_items"] = pl.DataFrame(items, orient="row", schema=[
        "connection_id", "item_id", "code", "name", "from_procore"]).with_columns(
        updated_at=pl.lit(WORLD_START + timedelta(days=32)))
    # ERP tracking options: every project plus an ERP-only overhead option.
    overhead_opt = _guid(rng, 1)[0]
    out["erp_options"] = pl.concat([
        procore_projects.select("connection_id", option_id="erp_option_id", name="name",
                                project_id="project_id", is_synced="is_synced"),
        pl.DataFrame({"connection_id": [cid], "option_id": [overhead_opt],
                      "name": ["Head Office Overhead"], "project_id": [-1],
                      "is_synced": [False]}),
    ], how="vertical_relaxed")

    commits, reqs, req_lines = _commitments(rng, spec, cid, company, base, procore_projects,
                                            wbs, out["vendors"])
    out["procore_commitments"], out["procore_requisitions"] = commits, reqs
    out["procore_requisition_lines"] = req_lines
    txns, lines = _erp_transactions(rng, spec, conn, base, procore_projects, wbs,
                                    out["vendors"], out["erp_options"], reqs, req_lines)
    out["erp_txns"], out["erp_lines"] = txns, lines
    out["erp_payments"] = _payments(rng, cid, txns, lines)
    dc, dcl = _procore_direct_costs(cid, base, txns, lines)
    out["procore_direct_costs"], out["procore_direct_cost_lines"] = dc, dcl
    return out


def _item_name(code: str, codes: list[tuple[str, str]]) -> str:
    cc, t = code.split(".")
    return f"{dict(codes)[cc]} {COST_TYPES[t]}"[:50]


def _commitments(rng, spec, cid, company, base, projects, wbs, vendors):
    """Subcontracts and their subcontractor invoices (requisitions), some exported to the ERP."""
    synced = projects.filter(pl.col("is_synced"))
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
        "created_at": _ts(WORLD_START, created), "updated_at": _ts(WORLD_START, created + 86400),
    })
    # Requisitions: about a quarter of ERP transactions are subcontractor invoices.
    n_r = max(4, spec.txns // 4)
    rc = rng.integers(0, n_c, n_r)
    status = np.where(rng.random(n_r) < 0.85, "approved", "pending")
    negative = rng.random(n_r) < 0.04  # negative invoices never export (XE-9)
    negative[0] = True
    status[0] = "approved"
    exported = (status == "approved") & ~negative
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
        "retainage_pct": 10,
    })
    # Lines: 1-3 per requisition on the project's exported WBS codes.
    per = rng.integers(1, 4, n_r)
    rid = np.repeat(np.arange(n_r), per)
    wbs_ok = wbs.filter(pl.col("erp_item_id").is_not_null())
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


def _erp_transactions(rng, spec, conn, base, projects, wbs, vendors, options, reqs, req_lines):
    """ERP cost transactions and lines, each line drawn with its truth flags."""
    cid = conn["connection_id"]
    n_sub = int(reqs["is_exported"].sum())
    n_own = spec.txns - n_sub if spec.txns > n_sub else spec.txns // 2
    # Own transactions: bills, spend money, credit notes, and some receive money (not costs).
    kind = rng.choice(["bill", "spend", "credit_note", "receive"], size=n_own,
                      p=[0.55, 0.33, 0.07, 0.05])
    kind[:4] = ["bill", "spend", "credit_note", "receive"]
    status = np.empty(n_own, dtype=object)
    u = rng.random(n_own)
    bill_like = np.isin(kind, ["bill", "credit_note"])
    status[bill_like] = np.select(
        [u[bill_like] < 0.06, u[bill_like] < 0.10, u[bill_like] < 0.14, u[bill_like] < 0.17],
        ["DRAFT", "SUBMITTED", "VOIDED", "DELETED"], "AUTHORISED")
    status[~bill_like] = np.where(u[~bill_like] < 0.05, "DELETED", "AUTHORISED")
    # Every awkward bill status at least once, on bills (bank transactions have no drafts).
    first_bills = np.flatnonzero(kind == "bill")[:4]
    status[first_bills] = ["DRAFT", "SUBMITTED", "VOIDED", "DELETED"][:first_bills.size]
    erp_type = np.select([kind == "bill", kind == "spend", kind == "credit_note"],
                         ["ACCPAY", "SPEND", "ACCPAYCREDIT"], "RECEIVE")
    txn_date = rng.integers(60, 545, n_own)
    vend_idx = rng.integers(0, vendors.height, n_own)
    own = pl.DataFrame({
        "txn_kind": kind, "erp_type": erp_type, "status": status.astype(str),
        "vendor_index": vend_idx, "day": txn_date, "requisition_id": np.full(n_own, -1),
        "reference": [f"REF-{j + 1:06d}" for j in range(n_own)],
        "invoice_number": [f"SUP-{cid[:2].upper()}{j + 1:06d}" for j in range(n_own)],
    })
    exp = reqs.filter(pl.col("is_exported"))
    vmap = dict(zip(vendors["procore_vendor_id"], vendors["vendor_index"], strict=True))
    sub_status = np.where(rng.random(n_sub) < 0.5, "PAID", "AUTHORISED")
    sub = pl.DataFrame({
        "txn_kind": "subinv_bill", "erp_type": "ACCPAY", "status": sub_status,
        "vendor_index": [vmap[v] for v in exp["vendor_id"]],
        "day": ((exp["billing_date"].cast(pl.Date) - WORLD_START.date()).dt.total_days()),
        "requisition_id": exp["requisition_id"],
        "reference": exp["invoice_number"], "invoice_number": exp["invoice_number"],
    }).cast({"vendor_index": pl.Int64, "day": pl.Int64})
    txns = pl.concat([own.cast({"vendor_index": pl.Int64, "day": pl.Int64}), sub])
    n = txns.height
    ids = _guid(rng, n)
    day = txns["day"].to_numpy()
    upd = day * 86400 + rng.integers(3600, 20 * 86400, n)
    upd = np.minimum(upd, int((WORLD_NOW - WORLD_START).total_seconds()) - 86400)
    txns = txns.with_columns(
        connection_id=pl.lit(cid), txn_id=pl.Series(ids),
        contact_id=pl.Series(vendors["contact_id"].to_numpy()[txns["vendor_index"].to_numpy()]),
        contact_name=pl.Series(vendors["name"].to_numpy()[txns["vendor_index"].to_numpy()]),
        txn_date=_ts(WORLD_START, day * 86400).dt.date(),
        due_date=_ts(WORLD_START, (day + 30) * 86400).dt.date(),
        created_at=_ts(WORLD_START, day * 86400 + 3600),
        updated_at=_ts(WORLD_START, upd),
        is_status_ok=pl.col("status").is_in(["AUTHORISED", "PAID"]),
        is_type_ok=pl.col("erp_type").is_in(["ACCPAY", "SPEND", "ACCPAYCREDIT"]),
    )
    # Lines for own transactions: 1-5 each, most on synced project + exported item.
    own_n = own.height
    per = rng.integers(1, 6, own_n)
    t_idx = np.repeat(np.arange(own_n), per)
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
    own_lines = pl.DataFrame({
        "txn_id": np.array(ids[:own_n], dtype=object)[t_idx], "line_no": _line_no(t_idx),
        "item_code": item, "wbs_code_id": wbs_id, "tracking_option_id": opt,
        "procore_project_id": proj_id, "quantity": qty,
        "line_amount": amt, "case": case, "is_retainage": False,
    })
    # Subcontractor-invoice bills: one line per requisition line plus a retainage line.
    req_map = dict(zip(exp["requisition_id"], ids[own_n:], strict=True))
    rl = req_lines.filter(pl.col("requisition_id").is_in(exp["requisition_id"].implode())).join(
        reqs.select("requisition_id", "project_id", "retainage_pct"), on="requisition_id",
        maintain_order="left")
    rl = rl.join(projects.select("project_id", "erp_option_id"), on="project_id",
                 maintain_order="left")
    sub_lines = pl.DataFrame({
        "txn_id": [req_map[r] for r in rl["requisition_id"]],
        "line_no": _line_no(rl["requisition_id"].to_numpy()),
        "item_code": rl["flat_code"], "wbs_code_id": rl["wbs_code_id"],
        "tracking_option_id": rl["erp_option_id"], "procore_project_id": rl["project_id"],
        "quantity": 1.0, "line_amount": rl["amount"], "case": "ok", "is_retainage": False,
    })
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
    })
    lines = pl.concat([own_lines, sub_lines.cast(own_lines.schema),
                       ret_lines.cast(own_lines.schema)])
    qty = lines["quantity"].to_numpy()
    la = lines["line_amount"].to_numpy()
    lines = lines.with_columns(
        connection_id=pl.lit(cid),
        line_id=pl.Series(_guid(rng, lines.height)),
        unit_amount=pl.Series(np.where(la % np.maximum(qty, 1).astype(np.int64) == 0,
                                       la // np.maximum(qty, 1).astype(np.int64), la)),
        quantity=pl.Series(np.where(la % np.maximum(qty, 1).astype(np.int64) == 0, qty, 1.0)),
        is_project_ok=pl.col("case").is_in(["ok", "erp_item", "code_off_project", "retainage"]),
        # The item was exported from Procore (company-level), whatever project it is coded to.
        is_item_ok=pl.col("case").is_in(["ok", "code_off_project", "unsynced_project",
                                         "no_tracking"]),
        # The line's item is a WBS code of the project it is coded to (informational: XE-11
        # asks only for a synced item; Procore adds a $0 budget line for such costs).
        is_code_on_project_ok=pl.col("case") == "ok",
    ).join(wbs.select("wbs_code_id", "cost_code", "cost_type"), on="wbs_code_id", how="left",
            maintain_order="left")
    # An exported item is a cost code + cost type (XE-4), whichever project it is coded to.
    parts = pl.col("item_code").str.split_exact(".", 1)
    lines = lines.with_columns(
        description=pl.format("{} work, line {}", pl.col("item_code"), pl.col("line_no")),
        cost_code=pl.when(pl.col("is_item_ok")).then(parts.struct.field("field_0"))
        .otherwise(pl.col("cost_code")),
        cost_type=pl.when(pl.col("is_item_ok")).then(parts.struct.field("field_1"))
        .otherwise(pl.col("cost_type")),
    )
    totals = lines.group_by("txn_id", maintain_order=True).agg(
        total=pl.col("line_amount").sum())
    txns = txns.join(totals, on="txn_id", how="left", maintain_order="left").with_columns(
        pl.col("total").fill_null(0))
    return txns.drop("day", "vendor_index"), lines


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
            item[i] = XERO_ONLY_ITEMS[int(u[i] * len(XERO_ONLY_ITEMS))]
            continue
        pool = codes_by_proj.get(int(p))
        if c == "code_off_project":
            mine = set(pool) if pool is not None else set()
            others = [x for x in all_codes if x not in mine]
            item[i] = others[int(u[i] * len(others))] if others else XERO_ONLY_ITEMS[0]
            continue
        if pool is None:  # unsynced project or no tracking: any company code
            pool, pids = codes_by_proj[any_proj], np.full(len(codes_by_proj[any_proj]), -1)
        else:
            pids = ids_by_proj[int(p)]
        k = int(u[i] * len(pool))
        item[i], wid[i] = pool[k], pids[k]
    return item, wid


def _payments(rng, cid, txns: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """Bill payments: full (bill PAID), partial, and some deleted in the ERP after sync."""
    payable = txns.filter(pl.col("erp_type") == "ACCPAY")
    paid = payable.filter(pl.col("status") == "PAID")
    partial = payable.filter(pl.col("status") == "AUTHORISED").sample(
        fraction=0.3, seed=int(rng.integers(1 << 30)))
    full = paid.select("txn_id", "total", "txn_date", "updated_at")
    part = partial.select("txn_id", pl.col("total") // 2, "txn_date", "updated_at")
    pays = pl.concat([full, part])
    n = pays.height
    status = np.where(rng.random(n) < 0.05, "DELETED", "AUTHORISED")
    return pays.with_columns(
        connection_id=pl.lit(cid), payment_id=pl.Series(_guid(rng, n)),
        amount=pl.col("total"), status=pl.Series(status),
        # Paid 20 days after the bill, but never after the world's clock.
        payment_date=pl.min_horizontal(pl.col("txn_date") + pl.duration(days=20),
                                       pl.lit(WORLD_NOW.date() - timedelta(days=2))),
        reference=pl.format("EFT {}", pl.int_range(pl.len()) + 1),
        updated_at=pl.min_horizontal(pl.col("updated_at") + pl.duration(days=21),
                                     pl.lit(WORLD_NOW - timedelta(days=1))),
        is_partial=pl.col("txn_id").is_in(partial["txn_id"].implode()),
    ).drop("total")


def _procore_direct_costs(cid, base, txns, lines):
    """What Procore holds after its last job-cost import: syncable ERP transactions as of
    PROCORE_LAST_SYNC, including some the ERP has since deleted (C-7), which stay."""
    synced_lines = lines.filter(pl.col("is_project_ok") & pl.col("is_item_ok"))
    t = txns.filter(
        pl.col("is_type_ok") & (pl.col("created_at") < PROCORE_LAST_SYNC)
        & (pl.col("txn_kind") != "subinv_bill")  # subcontractor invoices stay out (NS-16 kin)
        & (pl.col("is_status_ok") | (pl.col("status") == "DELETED"))
        & pl.col("txn_id").is_in(synced_lines["txn_id"].implode())
    )
    dc = t.select(
        "connection_id", "txn_id", "txn_kind", "erp_type", "status", "contact_name",
        "txn_date", "reference", "invoice_number", "created_at",
    ).with_columns(
        direct_cost_id=base + 600_000 + pl.int_range(pl.len()),
        direct_cost_type=pl.col("txn_kind").replace_strict(
            {"bill": "invoice", "spend": "expense", "credit_note": "invoice"}, default="invoice"),
        synced_at=pl.lit(PROCORE_LAST_SYNC - timedelta(hours=2)),
        deleted_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")),
        erp_deleted_after_sync=pl.col("status") == "DELETED",
    )
    dcl = synced_lines.join(dc.select("txn_id", "direct_cost_id", "erp_type"), on="txn_id",
                            maintain_order="left").select(
        "connection_id", "direct_cost_id", "line_id", "item_code", "wbs_code_id",
        "procore_project_id", "description", "quantity", "unit_amount",
        amount=pl.when(pl.col("erp_type") == "ACCPAYCREDIT").then(-pl.col("line_amount"))
        .otherwise(pl.col("line_amount")),
    )
    proj = dcl.group_by("direct_cost_id", maintain_order=True).agg(
        pl.col("procore_project_id").first())
    dc = dc.join(proj, on="direct_cost_id", maintain_order="left")
    return dc, dcl

