"""One run: extract-load every system → dbt build → publish, with progress and a summary."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dlt
from dlt.common.configuration.exceptions import ConfigFieldMissingException
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import publish
from pipelines.config import Settings
from pipelines.http import STATS
from pipelines.sources.acumatica import AcumaticaCredentialsMissing, acumatica_source
from pipelines.sources.netsuite import NetSuiteCredentialsMissing, netsuite_source
from pipelines.sources.ops import ops_source
from pipelines.sources.procore import procore_source
from pipelines.sources.xero import xero_source

DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project"


class RunFailed(RuntimeError):
    """A step failed; nothing was published."""


@dataclass
class RunSummary:
    run_id: str
    durations: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # "<dataset>.<table>" → rows loaded
    calls: dict[str, int] = field(default_factory=dict)  # "<system>.<resource>" → API calls
    retries: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # scopes left out, with why
    snapshot: str | None = None

    def render(self) -> str:
        out = [f"run {self.run_id}"]
        out += [f"  {k:<28} {v:8.2f} s" for k, v in self.durations.items()]
        out.append("  rows loaded:")
        out += [f"    {k:<40} {v:>9,}" for k, v in sorted(self.rows.items())]
        out.append("  API calls (retries):")
        out += [f"    {k:<40} {v:>9,} ({self.retries.get(k, 0)})"
                for k, v in sorted(self.calls.items())]
        if self.skipped:
            out.append(f"  SKIPPED {len(self.skipped)} scope(s), their data is from earlier runs:")
            out += [f"    {why}" for why in self.skipped]
        if self.snapshot:
            out.append(f"  published snapshot: {self.snapshot}")
        return "\n".join(out)


def _pipeline(name: str, settings: Settings) -> dlt.Pipeline:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    # Arrow pages skip dlt's normaliser, which would otherwise add _dlt_load_id; keep it so
    # every raw row says which load wrote it (and partial loads can be found and removed).
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    return dlt.pipeline(
        pipeline_name=f"costbridge_{name}",
        destination=dlt.destinations.duckdb(str(settings.warehouse)),
        dataset_name=f"raw_{name}",
        pipelines_dir=str(settings.warehouse.parent / ".dlt_pipelines"),
        progress="log" if os.environ.get("COSTBRIDGE_PROGRESS") == "log" else None,
    )


def sources(settings: Settings, full_refresh: bool = False) -> dict[str, object]:
    """The dlt sources of a run, keyed by dataset suffix."""
    common = {"page_size": settings.page_size, "lag_seconds": settings.lag_seconds,
              "full_refresh": full_refresh}
    out: dict[str, object] = {"ops": ops_source(settings)}
    try:
        xero = settings.active("xero")
        if xero:
            out["xero"] = xero_source(xero, **common)
        netsuite = settings.active("netsuite")
        if netsuite:
            out["netsuite"] = netsuite_source(netsuite, **common)
        acumatica = settings.active("acumatica")
        if acumatica:
            out["acumatica"] = acumatica_source(acumatica, **common)
        out["procore"] = procore_source(settings.active(), settings.procore_base_url, **common)
    except ConfigFieldMissingException as exc:
        raise RunFailed(f"a credential is missing ({', '.join(exc.fields)}): set "
                        "SOURCES__XERO__ACCESS_TOKEN and SOURCES__PROCORE__ACCESS_TOKEN, or "
                        "[sources.xero] / [sources.procore] access_token in "
                        ".dlt/secrets.toml") from exc
    except (NetSuiteCredentialsMissing, AcumaticaCredentialsMissing) as exc:
        raise RunFailed(f"a credential is missing: {exc}") from exc
    return out


def extract_load(settings: Settings, summary: RunSummary, log: Callable[[str], None],
                 full_refresh: bool = False) -> None:
    for name, source in sources(settings, full_refresh).items():
        t0 = time.perf_counter()
        log(f"extract-load {name} …")
        pipeline = _pipeline(name, settings)
        try:
            pipeline.run(source, loader_file_format="parquet")
        except PipelineStepFailed as exc:
            raise RunFailed(f"extract-load {name} failed at {exc.step}: {_root_cause(exc)}; "
                            "nothing was published") from exc
        trace = pipeline.last_trace
        counts = trace.last_normalize_info.row_counts if trace.last_normalize_info else {}
        for table, n in counts.items():
            if not table.startswith("_dlt"):
                summary.rows[f"raw_{name}.{table}"] = n
        summary.durations[f"extract-load {name}"] = time.perf_counter() - t0
        log(f"extract-load {name}: {sum(counts.values()):,} rows "
            f"in {summary.durations[f'extract-load {name}']:.1f} s")


def _root_cause(exc: BaseException) -> str:
    """The innermost error's message: dlt wraps extraction errors in several layers."""
    while exc.__cause__ is not None or exc.__context__ is not None:
        exc = exc.__cause__ or exc.__context__
    return str(exc)


def _dbt_target(settings: Settings) -> Path:
    return settings.warehouse.parent / "dbt_target"


def dbt_build(settings: Settings, log: Callable[[str], None], select: str | None = None,
              quiet: bool = False, unit_tests: bool = False) -> None:
    """``dbt build`` in its own process: dbt-duckdb keeps its DuckDB handle open for the life of
    the process, which would lock the file against the publisher and the next run.

    A run leaves dbt's unit tests out: they check the models' logic on fixed inputs, not the
    data, so they belong to the test suite (``unit_tests=True`` runs only them, with
    ``dbt test``) and would otherwise take over half of every build. Data tests, the
    conservation check among them, always run and fail the build."""
    target = _dbt_target(settings)
    env = {**os.environ, "COSTBRIDGE_WAREHOUSE": str(settings.warehouse.resolve()),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = Path(sys.executable).with_name("dbt")
    command = "test" if unit_tests else "build"
    args = [str(dbt), command, "--project-dir", str(DBT_PROJECT),
            "--profiles-dir", str(DBT_PROJECT), "--target-path", str(target),
            "--log-path", str(target / "logs")]
    if unit_tests:
        args += ["--select", f"test_type:unit,{select}" if select else "test_type:unit"]
    else:
        args += [*(["--select", select] if select else []),
                 "--exclude-resource-type", "unit_test"]
    log(f"dbt {command} …")
    result = subprocess.run(args, env=env, capture_output=quiet, text=True)
    if result.returncode != 0:
        detail = (result.stdout or "")[-3000:] if quiet else "see the failures above"
        raise RunFailed(f"dbt {command} failed; nothing was published. {detail}")


def run(settings: Settings, log: Callable[[str], None] = print, full_refresh: bool = False,
        publish_result: bool = True) -> RunSummary:
    """extract-load → dbt build → publish. Raises RunFailed and publishes nothing on failure."""
    STATS.reset()
    summary = RunSummary(run_id=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    start = time.perf_counter()
    extract_load(settings, summary, log, full_refresh)
    t0 = time.perf_counter()
    dbt_build(settings, log)
    summary.durations["dbt build"] = time.perf_counter() - t0
    if publish_result:
        t0 = time.perf_counter()
        snap = publish.publish(settings.warehouse, settings.published, summary.run_id,
                               keep=settings.keep_snapshots,
                               only=publish.built_tables(_dbt_target(settings)))
        summary.snapshot = snap.name
        summary.durations["publish"] = time.perf_counter() - t0
    summary.durations["total"] = time.perf_counter() - start
    summary.calls = {f"{s}.{r}": n for (s, r), n in STATS.calls.items()}
    summary.retries = {f"{s}.{r}": n for (s, r), n in STATS.retries.items()}
    summary.skipped = list(STATS.skipped)
    return summary
