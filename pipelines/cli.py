"""The ``costbridge`` command: sandbox, run, demo, app, bench, report, queue, accept, reject,
push."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines import config
from pipelines.cli_exports import add_parsers as add_export_parsers

if TYPE_CHECKING:  # the report modules load polars and duckdb: only `report` imports them
    import duckdb
    import polars as pl

    from reports.catalog import Report
    from reports.export import ExportContext
    from reports.snapshot import Snapshot

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_TOKENS = {"SOURCES__XERO__ACCESS_TOKEN": "sandbox-xero-token",
                  "SOURCES__PROCORE__ACCESS_TOKEN": "sandbox-procore-token",
                  "SOURCES__NETSUITE__CONSUMER_KEY": "sandbox-netsuite-consumer",
                  "SOURCES__NETSUITE__CONSUMER_SECRET": "sandbox-netsuite-consumer-secret",
                  "SOURCES__NETSUITE__TOKEN_ID": "sandbox-netsuite-token",
                  "SOURCES__NETSUITE__TOKEN_SECRET": "sandbox-netsuite-token-secret",
                  "SOURCES__ACUMATICA__USERNAME": "sandbox-acumatica",
                  "SOURCES__ACUMATICA__PASSWORD": "sandbox-acumatica-password"}


def _say(msg: str) -> None:
    print(f"[costbridge] {msg}", flush=True)


def sandbox_config(url: str, world, base: Path) -> dict:
    """A costbridge.toml (as a dict) pointing at a running sandbox for every connection."""
    conns = []
    for c in world.connections().iter_rows(named=True):
        conns.append({
            "id": c["connection_id"], "erp": c["erp"],
            "procore_company_id": c["procore_company_id"], "company_name": c["company_name"],
            "erp_base_url": _erp_base_url(url, c["erp"], c["erp_tenant_id"]),
            "erp_tenant_id": c["erp_tenant_id"],
            "tracking_category": c["tracking_category"], "retainage_item": c["retainage_item"],
        })
    return {
        "warehouse": {"path": str(base / "warehouse.duckdb"),
                      "published": str(base / "published"), "keep_snapshots": 10,
                      "ops_store": str(base / "ops.sqlite"),
                      "users_file": str(base / "users.toml")},
        "sandbox": {"embedded": True},
        "procore": {"base_url": f"{url}/procore"},
        "extract": {"page_size": 1000, "lag_seconds": 300},
        "connections": conns,
    }


def _erp_base_url(url: str, erp: str, tenant: str) -> str:
    if erp == "netsuite":  # the account rides in the path on loopback (sandbox/netsuite.py)
        from pipelines.sandbox.netsuite import account_slug  # the sandbox only, not every run

        return f"{url}/netsuite/{account_slug(tenant)}/services/rest"
    if erp == "acumatica":  # the instance is the tenant in lower case (sandbox/acumatica.py)
        return f"{url}/acumatica/{tenant.lower()}"
    return f"{url}/{erp}"


# The demo's sign-in users (docs/exports.md §9): sandbox-only passwords, hashed on first load.
DEMO_USERS = (("alex", "Alex Approver", "demo-approver", "admin", True, ()),
              ("sam", "Sam Sender", "demo-sender", "none", False,
               ("directory", "projects", "budget", "commitments", "invoicing")),
              ("robin", "Robin Reader", "demo-reader", "read_only", False, ()))


def write_sandbox_config(url: str, world, base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    path = base / "costbridge.toml"
    path.write_text(config.render(sandbox_config(url, world, base.resolve())))
    users = base / "users.toml"
    if not users.exists():
        users.write_text(demo_users_toml([c["connection_id"]
                                          for c in world.connections().iter_rows(named=True)]))
    return path


def demo_users_toml(connection_ids: list[str]) -> str:
    out = ["# Demo users for the embedded sandbox (docs/exports.md §9). Plain passwords are",
           "# hashed into the ops store on first load; use password_hash for real users.", ""]
    for login, name, password, level, can_push, tools in DEMO_USERS:
        out += ["[[users]]", f'login = "{login}"', f'name = "{name}"',
                f'password = "{password}"', "roles = ["]
        out += [f'  {{connection = "{c}", erp_level = "{level}", can_push = '
                f'{"true" if can_push else "false"}, tool_admin = {list(tools)!r}}},'
                .replace("'", '"') for c in connection_ids]
        out += ["]", ""]
    return "\n".join(out)


def _use_sandbox_secrets() -> None:
    for key, value in SANDBOX_TOKENS.items():
        os.environ.setdefault(key, value)


def use_config_secrets(settings: config.Settings) -> None:
    """A config that points at the embedded sandbox ([sandbox] embedded = true) uses its
    built-in credentials, unless the environment sets others."""
    if settings.sandbox:
        _use_sandbox_secrets()


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cmd_sandbox(args: argparse.Namespace) -> int:
    from pipelines.sandbox.server import serve_forever

    serve_forever(seed=args.seed, size=args.size, host=args.host, port=args.port)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from pipelines.run import run

    settings = config.load(Path(args.config))
    use_config_secrets(settings)
    summary = run(settings, log=_say, full_refresh=args.full_refresh)
    print(summary.render())
    return 0


def start_app(published: Path, port: int, config_path: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "COSTBRIDGE_PUBLISHED_DIR": str(published.resolve())}
    if config_path is not None:  # the approver workspace: ops store, users, writers
        env["COSTBRIDGE_CONFIG"] = str(config_path.resolve())
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        env=env, cwd=ROOT)


def cmd_app(args: argparse.Namespace) -> int:
    settings = config.load(Path(args.config))
    use_config_secrets(settings)
    proc = start_app(settings.published, args.port, Path(args.config))
    _say(f"app on http://127.0.0.1:{args.port} (Ctrl-C stops it)")
    return _wait(proc)


def _wait(proc: subprocess.Popen) -> int:
    try:
        return proc.wait()
    except KeyboardInterrupt:
        _say("stopping …")
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.run import run
    from pipelines.sandbox import world as world_mod
    from pipelines.sandbox.server import SandboxServer

    base = Path(args.dir)
    if base.exists():  # a demo starts from an empty warehouse, but only ever wipes its own
        if any(base.iterdir()) and not (base / "costbridge.toml").exists():
            raise config.ConfigError(f"--dir {base} is not empty and holds no demo: "
                                     "choose another directory")
        shutil.rmtree(base)
    _say(f"generating the {args.size!r} world (seed {args.seed}) …")
    world = world_mod.generate(args.seed, args.size)
    server = SandboxServer(world)
    server.start()
    _say(f"sandbox APIs on {server.url} (/xero, /netsuite, /acumatica, /procore)")
    try:
        cfg = write_sandbox_config(server.url, world, base)
        _use_sandbox_secrets()
        settings = config.load(cfg)
        summary = run(settings, log=_say)
        print(summary.render())
        _say(f"warehouse: {settings.warehouse.resolve()}")
        _say(f"published snapshots: {settings.published.resolve()}")
        _say(f"config: {cfg.resolve()}")
        if args.no_app:
            return 0
        port = args.port or free_port()
        proc = start_app(settings.published, port, cfg)
        _say(f"app on http://127.0.0.1:{port} — Ctrl-C stops the app and the sandbox")
        return _wait(proc)
    finally:
        server.stop()


def cmd_bench(args: argparse.Namespace) -> int:
    from pipelines.bench import bench

    print(bench(args.size, args.seed))
    return 0


class ReportUsageError(Exception):
    """A ``costbridge report`` request that cannot be answered: one line, exit status 2."""


def cmd_report(args: argparse.Namespace) -> int:
    try:
        return _report(args)
    except ReportUsageError as exc:
        print(f"costbridge: {exc}", file=sys.stderr)
        return 2


def _report(args: argparse.Namespace) -> int:
    from reports import catalog

    if args.list:
        for r in catalog.REPORTS.values():
            print(f"{r.name:<25} {r.title}")
        return 0
    report = _pick_report(args.name)
    target = _report_target(report.name, args.format, args.output)
    settings = config.load(Path(args.config))
    snap = _report_snapshot(settings.published, args.as_of, settings.keep_snapshots)
    project = _report_project(report, args.project)
    rows, totals = _report_rows(snap, report, args.connection, project)
    print(f"costbridge: {report.name} from snapshot {snap.snapshot_id} "
          f"(created {snap.created_at})", file=sys.stderr)
    filters = {"connection": args.connection, "project": project}
    filters = {key: value for key, value in filters.items() if value is not None}
    _write_report(report, rows, totals, _export_context(snap, filters), args.format, target)
    if target is not None:
        print(f"costbridge: wrote {rows.height} rows to {target}", file=sys.stderr)
    return 0


def _pick_report(name: str | None) -> Report:
    from reports.catalog import REPORTS

    if name is None:
        raise ReportUsageError(f"name a report ({', '.join(REPORTS)}) or use --list")
    if name not in REPORTS:
        raise ReportUsageError(f"unknown report {name!r}; reports: {', '.join(REPORTS)}")
    return REPORTS[name]


def _report_target(name: str, fmt: str, output: str | None) -> Path | None:
    """Where to write (None: stdout). xlsx is binary: a file, never a terminal."""
    if fmt == "xlsx":
        if output is None:
            return Path(f"{name}.xlsx")
        if output == "-" and sys.stdout.isatty():
            raise ReportUsageError("xlsx is binary and stdout is a terminal: give --output FILE "
                                   f"(without --output it goes to {name}.xlsx)")
    return None if output in (None, "-") else Path(output)


def _report_snapshot(published: Path, as_of: str | None, keep: int) -> Snapshot:
    from pipelines.publish import snapshots
    from reports.snapshot import SnapshotNotFound, current_snapshot

    try:
        return current_snapshot(published, as_of)
    except SnapshotNotFound as exc:
        kept = snapshots(published)
        hint = (f"; the oldest kept is {kept[0]['snapshot_id']} (created "
                f"{kept[0]['created_at']}, warehouse.keep_snapshots = {keep})"
                if as_of and kept else "")
        raise ReportUsageError(f"{exc}{hint}") from exc
    except ValueError as exc:  # a bad --as-of
        raise ReportUsageError(str(exc)) from exc


def _report_project(report: Report, project: str | None) -> str | None:
    """The project filter, unless the report has no project columns (then it says so)."""
    if project is not None and not report.has_project:
        print(f"costbridge: report {report.name} has no project columns: --project is "
              "ignored", file=sys.stderr)
        return None
    return project


def _report_rows(snap: Snapshot, report: Report, connection: str | None,
                 project: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The report's rows and totals, after checking the filters against the snapshot."""
    from reports import catalog
    from reports.snapshot import connect

    con = connect(snap)
    try:
        _check_filters(con, snap, connection, project)
        rows = catalog.fetch(con, report, connection, project)
        return rows, catalog.totals(con, report, connection, project)
    except catalog.ReportUnavailable as exc:
        raise ReportUsageError(f"snapshot {snap.snapshot_id}: {exc}") from exc
    finally:
        con.close()


def _check_filters(con: duckdb.DuckDBPyConnection, snap: Snapshot, connection: str | None,
                   project: str | None) -> None:
    """A connection or project the snapshot does not know is a typo, not an empty report."""
    from reports import catalog

    known = catalog.connection_ids(con)
    if connection is not None and connection not in known:
        raise ReportUsageError(f"unknown connection {connection!r}: snapshot "
                               f"{snap.snapshot_id} has {', '.join(known) or 'none'}")
    if project is not None and catalog.find_projects(con, project, connection).height == 0:
        where = f" on connection {connection}" if connection else ""
        raise ReportUsageError(f"project {project!r} (id, number or name) not found{where} "
                               f"in snapshot {snap.snapshot_id}")


def _export_context(snap: Snapshot, filters: dict[str, str]) -> ExportContext:
    from reports.export import ExportContext

    labels = tuple((key.capitalize(), value) for key, value in filters.items())
    return ExportContext(snap.snapshot_id, snap.created_at, labels)


def _write_report(report: Report, rows: pl.DataFrame, totals: pl.DataFrame,
                  context: ExportContext, fmt: str, target: Path | None) -> None:
    from reports import export

    if fmt == "xlsx":
        export.write_xlsx(report, rows, totals, context, target or sys.stdout.buffer)
        return
    if fmt == "csv":
        text = export.to_csv(report, rows)
    else:
        filtered = [label.lower() for label, _ in context.filters]
        text = export.to_html(report, rows, totals, context, filtered)
    if target is None:
        sys.stdout.write(text)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="costbridge", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sandbox", help="serve the sandbox Xero and Procore APIs")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.set_defaults(func=cmd_sandbox)
    r = sub.add_parser("run", help="extract-load → dbt build → publish")
    r.add_argument("--config", default=str(config.DEFAULT_CONFIG))
    r.add_argument("--full-refresh", action="store_true",
                   help="ignore incremental cursors and re-read everything")
    r.set_defaults(func=cmd_run)
    d = sub.add_parser("demo", help="sandbox + run on the demo world + the app")
    d.add_argument("--seed", type=int, default=42)
    d.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    d.add_argument("--dir", default="var/demo")
    d.add_argument("--port", type=int, default=0, help="app port (default: a free one)")
    d.add_argument("--no-app", action="store_true", help="stop after the run (for scripts)")
    d.set_defaults(func=cmd_demo)
    a = sub.add_parser("app", help="serve the Streamlit app on the published snapshot")
    a.add_argument("--config", default=str(config.DEFAULT_CONFIG))
    a.add_argument("--port", type=int, default=8501)
    a.set_defaults(func=cmd_app)
    b = sub.add_parser("bench", help="extract-load and dbt build figures for a world size")
    b.add_argument("--size", default="demo", choices=["tiny", "demo", "large"])
    b.add_argument("--seed", type=int, default=42)
    b.set_defaults(func=cmd_bench)
    rp = sub.add_parser("report", help="export a report from the published snapshot",
                        description="Export one report of the catalogue (see --list) from the "
                                    "published snapshot: CSV to stdout, or xlsx / printable "
                                    "html to a file.")
    rp.add_argument("name", nargs="?", help="report name (see --list)")
    rp.add_argument("--list", action="store_true", help="list the reports and stop")
    rp.add_argument("--connection", help="only this connection id")
    rp.add_argument("--project", help="only this project (Procore id, number or name)")
    rp.add_argument("--format", default="csv", choices=["csv", "xlsx", "html"])
    rp.add_argument("--as-of", help="read the newest snapshot published on or before this "
                                    "date (YYYY-MM-DD) or ISO timestamp, UTC")
    rp.add_argument("--output", help="file to write (default: stdout; xlsx: NAME.xlsx)")
    rp.add_argument("--config", default=str(config.DEFAULT_CONFIG))
    rp.set_defaults(func=cmd_report)
    add_export_parsers(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Progress of long extracts: one line per resource and connection.
    progress = logging.StreamHandler()
    progress.setFormatter(logging.Formatter("[costbridge] %(message)s"))
    extract_log = logging.getLogger("costbridge.extract")
    extract_log.setLevel(logging.INFO)
    extract_log.addHandler(progress)
    extract_log.propagate = False
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except config.ConfigError as exc:
        print(f"costbridge: config error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # RunFailed, ApiError: one clear line, no traceback
        print(f"costbridge: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
