"""Measure entity resolution on the labelled public set Splink's demonstrations use.

    python -m sentinelle.resolve.reference [CSV]

reads ``fake_1000_from_splink_demos.csv`` (1,000 people-records; its ``cluster`` column
is the truth) from ``../shared/reference/entity-resolution/`` beside the repository — it
is never copied into the project — maps each row onto the record layout of
``records.COLUMNS``, runs the same model as ``sentinelle resolve`` (``linkage.link``) at
the default threshold and prints the figures of ``quality.cluster_quality``.

The mapping: the name is ``surname, first_name`` folded as at ingest (``fold_name``);
``dob`` is the birth date; ``email`` the email. ``city`` has no field in the layout
(country is the nearest, and every row is British), so it is left out, as are phone,
account and country: the model sees them missing.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pyarrow as pa

from sentinelle.normalise.names import fold_name
from sentinelle.resolve.linkage import link
from sentinelle.resolve.quality import ClusterQuality, cluster_quality
from sentinelle.resolve.records import COLUMNS
from sentinelle.resolve.run import DEFAULT_THRESHOLD

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "entity-resolution"
FAKE_1000 = REFERENCE / "fake_1000_from_splink_demos.csv"
SOURCE = "splink-fake-1000"


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def reference_records(path: Path = FAKE_1000) -> tuple[pa.Table, dict[str, str]]:
    """The set's rows as er_records (records.COLUMNS) and the truth: record id → cluster."""
    rows: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    truth: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            record_id = f"reference:{SOURCE}:{row['unique_id']}"
            first, last = _text(row["first_name"]), _text(row["surname"])
            folded = fold_name(f"{last}, {first}" if first and last else (first or last))
            birth = _text(row["dob"])
            email = _text(row["email"])
            values: dict[str, str | None] = {
                "record_id": record_id, "kind": "reference", "source": SOURCE,
                "source_id": row["unique_id"],
                "name": folded.folded if folded else None,
                "name_key": folded.key if folded else None,
                "surname": (folded.surname or None) if folded else None,
                "given": (folded.given or None) if folded else None,
                "birth_date": birth, "birth_year": birth[:4] if birth else None,
                "phone": None, "email": email.lower() if email else None,
                "account": None, "country": None, "counterparties": None, "strangers": None,
                "side": None, "first_seen": None, "last_seen": None, "near": None,
            }
            for column in COLUMNS:
                rows[column].append(values[column])
            truth[record_id] = row["cluster"]
    lists = ("counterparties", "strangers", "near")
    types = {c: pa.list_(pa.string()) for c in lists} | {
        c: pa.timestamp("us") for c in ("first_seen", "last_seen")}
    table = pa.table({c: pa.array(v, type=types.get(c, pa.string()))
                      for c, v in rows.items()})
    return table, truth


def measure_reference(path: Path = FAKE_1000, threshold: float = DEFAULT_THRESHOLD,
                      threads: int = 2) -> ClusterQuality:
    """Link the set with the production model and score its clusters against the truth."""
    records, truth = reference_records(path)
    linkage = link(records, threshold, threads)
    predicted = {str(r): str(c) for r, c in zip(
        linkage.clusters.column("record_id").to_pylist(),
        linkage.clusters.column("cluster_id").to_pylist(), strict=True)}
    return cluster_quality(predicted, truth)


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else FAKE_1000
    if not path.is_file():
        sys.exit(f"{path} is absent: the labelled set lives in "
                 "../shared/reference/entity-resolution/ beside the repository")
    q = measure_reference(path)
    print("records true_pairs predicted_pairs pairwise_P pairwise_R bcubed_P bcubed_R ARI")
    print(f"{q.records} {q.true_pairs} {q.predicted_pairs} {q.pairwise_precision:.3f} "
          f"{q.pairwise_recall:.3f} {q.bcubed_precision:.4f} {q.bcubed_recall:.4f} "
          f"{q.adjusted_rand:.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
