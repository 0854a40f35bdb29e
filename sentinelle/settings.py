"""Settings, declared once with a default and a help line.

Values come from the defaults, then from ``SENTINELLE_<NAME>`` environment variables,
then from command-line options. Every problem is reported at once, naming the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from sentinelle.errors import SettingsError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env_var(self) -> str:
        return "SENTINELLE_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "sentinelle.duckdb", "Path of the DuckDB warehouse file."),
    Setting(
        "memory_limit",
        "3GB",
        "Most memory DuckDB may use; larger work spills to disk (DuckDB size syntax).",
    ),
    Setting("threads", 0, "Threads DuckDB may use; 0 means one per core."),
    Setting("engine", "duckdb", "Engine `sentinelle ingest`, `resolve` and `detect` run on: "
            "duckdb (the warehouse "
            "file) or spark (Parquet in and out, `--input`/`--output`; needs "
            "`pip install 'sentinelle[spark]'` and Java 17)."),
    Setting("spark_driver_memory", "4g", "Memory of the Spark driver when Sentinelle starts "
            "its own local Spark session, where the driver does all the work (Spark size "
            "syntax: 4g, 512m). Ignored under spark-submit: pass --driver-memory there."),
    Setting("spark_cores", 0, "Cores Sentinelle's own local Spark session uses; 0 means one "
            "per core. Ignored under spark-submit, where the cluster's executors work."),
    Setting("spark_shuffle_partitions", 0, "Partitions each Spark shuffle writes "
            "(spark.sql.shuffle.partitions); 0 means two per core of the local session, "
            "and under spark-submit leaves the session's own value. On a cluster, about "
            "three per executor core, or one per 128 MB shuffled."),
    Setting("resolve_threshold", 0.9, "Match probability from which `sentinelle resolve` "
            "takes two records to be the same person (0-1); `--threshold` wins."),
    Setting("rates", "", "CSV of dated EUR reference rates replacing the shipped table."),
    Setting(
        "provider",
        "unspecified",
        "Provider name given to transactions whose `provider` column is empty.",
    ),
    Setting("user", "", "Who runs the command, for provenance; empty means the login name."),
    Setting("reporting_entity", "", "YAML file of the reporting entity's settings for goAML and "
            "FinCEN reports (`sentinelle report settings` prints an example)."),
    Setting("web_linger_ms", 1000, "Milliseconds the web application keeps the warehouse "
            "open after the last request ends (an analyst's next click usually comes "
            "sooner; a writer in another process takes the file at once: it declares itself "
            "and readers let go); 0 closes it at once."),
    Setting("lexicon", "", "Your organisation's term list (UTF-8, one term per line) whose "
            "matches the web application's timeline highlights; none is shipped."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def resolve(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, overlaid by environment variables, overlaid by ``overrides``."""
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    problems: list[str] = []
    for s in SETTINGS:
        raw = os.environ.get(s.env_var)
        if raw is None:
            continue
        if isinstance(s.default, int):
            try:
                values[s.name] = int(raw)
            except ValueError:
                problems.append(f"{s.env_var}={raw!r} is not a whole number")
        elif isinstance(s.default, float):
            try:
                values[s.name] = float(raw)
            except ValueError:
                problems.append(f"{s.env_var}={raw!r} is not a number")
        else:
            values[s.name] = raw
    for key, value in (overrides or {}).items():
        if key not in _BY_NAME:
            problems.append(f"unknown setting {key!r}")
        elif value is not None:
            values[key] = value
    if problems:
        raise SettingsError(
            "some settings are not valid",
            details=problems,
            fix="known settings: " + ", ".join(_BY_NAME),
        )
    if not values["user"]:
        values["user"] = _login_name()
    return values


def _login_name() -> str:
    for var in ("SENTINELLE_USER", "USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "unknown"
