"""costbridge.toml: connections, warehouse locations and settings. Never credentials.

Credentials come the dlt way: ``.dlt/secrets.toml`` or environment variables such as
``SOURCES__XERO__ACCESS_TOKEN``, ``SOURCES__PROCORE__ACCESS_TOKEN`` and
``SOURCES__NETSUITE__CONSUMER_KEY`` (``…CONSUMER_SECRET``, ``…TOKEN_ID``, ``…TOKEN_SECRET``) and
``SOURCES__ACUMATICA__USERNAME`` (``…PASSWORD``, optional ``…BRANCH``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ERP_KINDS = ("xero", "netsuite", "acumatica")
SUPPORTED_ERPS = ("xero", "netsuite", "acumatica")  # ERPs whose extract exists
DEFAULT_CONFIG = Path("costbridge.toml")
# A NetSuite account id: production digits, a sandbox or release-preview suffix (_SB1, _RP2),
# or a test drive / developer account (TSTDRV1234567). It is also the OAuth realm.
NETSUITE_ACCOUNT = re.compile(r"\d+(_(SB|RP)\d+)?|[A-Z]+\d+")


class ConfigError(ValueError):
    """Bad configuration; the message names the key."""


@dataclass(frozen=True)
class Connection:
    """One Procore company paired with one ERP company (C-1)."""

    id: str
    erp: str
    procore_company_id: int
    company_name: str
    erp_base_url: str
    erp_tenant_id: str
    tracking_category: str = "Job"  # Xero: the category whose options are projects (XE-5)
    retainage_item: str = "RETAINAGE"  # Xero: the item retainage lines post to (XE-9)
    enabled: bool = True


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    published: Path
    keep_snapshots: int
    procore_base_url: str
    connections: tuple[Connection, ...]
    page_size: int = 1000
    lag_seconds: int = 300
    source: Path | None = field(default=None, compare=False)
    ops_store: Path | None = None  # the SQLite ops store (docs/exports.md §7)
    sandbox: bool = False  # [sandbox] embedded = true: use the embedded sandbox's credentials
    users_file: Path | None = None  # users.toml: sign-in users and roles (docs/exports.md §9)

    @property
    def ops_store_path(self) -> Path:
        """The ops store: as configured, else ``ops.sqlite`` beside the warehouse."""
        return self.ops_store or self.warehouse.parent / "ops.sqlite"

    def active(self, erp: str | None = None) -> list[Connection]:
        return [c for c in self.connections
                if c.enabled and c.erp in SUPPORTED_ERPS and (erp is None or c.erp == erp)]


def _get(table: dict, key: str, kind: type, where: str, default: Any = ...) -> Any:
    if key not in table:
        if default is ...:
            raise ConfigError(f"{where}.{key} is missing")
        return default
    value = table[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{where}.{key} must be {kind.__name__}, got {value!r}")
    return value


KNOWN = {
    "": {"warehouse", "procore", "extract", "connections", "sandbox"},
    "sandbox": {"embedded"},
    "warehouse": {"path", "published", "keep_snapshots", "ops_store", "users_file"},
    "procore": {"base_url"},
    "extract": {"page_size", "lag_seconds"},
    "connections": {"id", "erp", "procore_company_id", "company_name", "erp_base_url",
                    "erp_tenant_id", "tracking_category", "retainage_item", "enabled"},
}


def _table(data: dict, key: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table, got {value!r}")
    _known(value, key, key)
    return value


def _known(table: dict, kind: str, where: str) -> None:
    """A misspelt key would silently fall back to a default: name it instead."""
    unknown = sorted(set(table) - KNOWN[kind])
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(KNOWN[kind]))})")


def _between(value: int, low: int, high: int | None, where: str) -> int:
    if value < low or (high is not None and value > high):
        raise ConfigError(f"{where} must be {low}..{high if high else ''}, got {value}")
    return value


def parse(data: dict, base: Path = Path(".")) -> Settings:
    _known(data, "", "costbridge.toml")
    wh, procore = _table(data, "warehouse"), _table(data, "procore")
    extract = _table(data, "extract")
    sandbox = _table(data, "sandbox")
    conns = []
    seen: set[str] = set()
    raw = data.get("connections", [])
    if not isinstance(raw, list) or not raw:
        raise ConfigError("[[connections]] must list at least one connection")
    for i, c in enumerate(raw):
        where = f"connections[{i}]"
        if not isinstance(c, dict):
            raise ConfigError(f"{where} must be a table")
        _known(c, "connections", where)
        cid = _get(c, "id", str, where)
        if cid in seen:
            raise ConfigError(f"{where}.id {cid!r} is used twice")
        seen.add(cid)
        erp = _get(c, "erp", str, where)
        if erp not in ERP_KINDS:
            raise ConfigError(f"{where}.erp must be one of {', '.join(ERP_KINDS)}, got {erp!r}")
        conns.append(Connection(
            id=cid, erp=erp,
            procore_company_id=_get(c, "procore_company_id", int, where),
            company_name=_get(c, "company_name", str, where, cid),
            erp_base_url=_base_url(c, erp, where),
            erp_tenant_id=_tenant_id(c, erp, where),
            tracking_category=_get(c, "tracking_category", str, where, "Job"),
            retainage_item=_get(c, "retainage_item", str, where, "RETAINAGE"),
            enabled=_get(c, "enabled", bool, where, True),
        ))
    _check_pairing(conns)
    return Settings(
        warehouse=base / _get(wh, "path", str, "warehouse", "var/warehouse.duckdb"),
        published=base / _get(wh, "published", str, "warehouse", "var/published"),
        # Two at least: a reader may be opening the previous snapshot as a new one lands.
        keep_snapshots=_between(_get(wh, "keep_snapshots", int, "warehouse", 10), 2, None,
                                "warehouse.keep_snapshots"),
        procore_base_url=_get(procore, "base_url", str, "procore").rstrip("/"),
        connections=tuple(conns),
        page_size=_between(_get(extract, "page_size", int, "extract", 1000), 1, 1000,
                           "extract.page_size"),
        lag_seconds=_between(_get(extract, "lag_seconds", int, "extract", 300), 0, 86_400,
                             "extract.lag_seconds"),
        ops_store=_path(wh, "ops_store", base),
        users_file=_path(wh, "users_file", base),
        sandbox=_get(sandbox, "embedded", bool, "sandbox", False),
    )


def _path(table: dict, key: str, base: Path) -> Path | None:
    value = _get(table, key, str, "warehouse", None)
    return None if value is None else base / value


def _tenant_id(c: dict, erp: str, where: str) -> str:
    tenant = _get(c, "erp_tenant_id", str, where)
    if erp == "netsuite" and not NETSUITE_ACCOUNT.fullmatch(tenant):
        raise ConfigError(f"{where}.erp_tenant_id must be a NetSuite account id such as "
                          f"1234567, 1234567_SB1 or TSTDRV1234567 (as in the OAuth realm), "
                          f"got {tenant!r}")
    if erp == "acumatica" and not tenant.strip():
        raise ConfigError(f"{where}.erp_tenant_id must be the Acumatica tenant (company) name "
                          f"sent at login, such as Cascade3; got an empty string")
    return tenant


def _base_url(c: dict, erp: str, where: str) -> str:
    url = _get(c, "erp_base_url", str, where).rstrip("/")
    # The extract appends /entity/...: a URL that already has it would double it.
    if erp == "acumatica" and re.search(r"/entity(/|$)", url):
        raise ConfigError(f"{where}.erp_base_url must be the Acumatica site and instance "
                          f"without /entity (https://acme.acumatica.com/acme), got {url!r}")
    return url


def _check_pairing(conns: list[Connection]) -> None:
    """C-1 / XE-1: a Procore company pairs with exactly one ERP company, and an ERP company
    (Xero organisation, NetSuite account, Acumatica tenant) with exactly one Procore company."""
    by_company: dict[int, str] = {}
    by_tenant: dict[tuple[str, str], str] = {}
    for i, c in enumerate(conns):
        other = by_company.setdefault(c.procore_company_id, c.id)
        if other != c.id:
            raise ConfigError(f"connections[{i}].procore_company_id {c.procore_company_id} is "
                              f"already paired by connection {other!r} (C-1)")
        other = by_tenant.setdefault((c.erp, c.erp_tenant_id), c.id)
        if other != c.id:
            raise ConfigError(f"connections[{i}].erp_tenant_id {c.erp_tenant_id!r} is already "
                              f"paired by connection {other!r} (C-1, XE-1)")


def load(path: Path = DEFAULT_CONFIG) -> Settings:
    if not path.exists():
        raise ConfigError(f"config file {path} not found: run `costbridge demo` or write one")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    settings = parse(data, base=path.parent)
    return Settings(**{**settings.__dict__, "source": path})


def render(settings_data: dict) -> str:
    """TOML text for a config dict (flat tables and one array of tables, enough for ours)."""
    lines: list[str] = []
    for key, value in settings_data.items():
        if isinstance(value, dict):
            lines.append(f"[{key}]")
            lines += [f"{k} = {_toml(v)}" for k, v in value.items()]
            lines.append("")
    for conn in settings_data.get("connections", []):
        lines.append("[[connections]]")
        lines += [f"{k} = {_toml(v)}" for k, v in conn.items()]
        lines.append("")
    return "\n".join(lines)


def _toml(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
