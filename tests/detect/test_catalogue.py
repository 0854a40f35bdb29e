"""The catalogue: declarations checked at load, every problem at once; overrides; an
organisation's own indicators go through the same path as the built-in ones."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sentinelle.detect import load_catalogue
from sentinelle.detect.catalogue import ROLES, Catalogue
from sentinelle.detect.compiler import PAYMENT_COLUMNS
from sentinelle.errors import CatalogueError
from tests.detect.conftest import payment


def test_the_built_in_catalogue_covers_the_issue() -> None:
    cat = load_catalogue()
    ids = {i.id for i in cat.indicators}
    assert {"small_corridor_payments", "night_share", "unrelated_beneficiaries",
            "new_beneficiaries", "escalation", "irregular_rhythm", "cover_descriptions",
            "round_amounts", "bursts", "pays_suspected_facilitators",
            "foreign_unrelated_senders", "small_received_share", "senders_night_share",
            "shared_identifiers", "paid_by_suspected_buyers"} <= ids
    for i in cat.indicators:
        assert i.source and i.rationale and i.title, i.id
        assert i.party in ROLES
    for p in cat.parameters.values():
        assert p.help and p.source, p.name
    assert set(cat.calibration) == set(ROLES)


def test_measures_use_only_the_prepared_columns() -> None:
    """Every identifier in a measure or evidence is a prepared column, a parameter or SQL."""
    import re

    sql_words = {"sum", "case", "when", "then", "else", "end", "and", "or", "not", "avg",
                 "count", "distinct", "max", "min", "is", "null", "coalesce", "corr",
                 "stddev_samp", "stddev_pop", "nullif"}
    cat = load_catalogue()
    for i in cat.indicators:
        for text in (i.measure, i.evidence):
            words = set(re.findall(r"[a-z_][a-z0-9_]*", re.sub(r"\{\w+\}", "", text.lower())))
            unknown = words - sql_words - set(PAYMENT_COLUMNS)
            assert not unknown, f"{i.id}: {unknown}"


def _broken(tmp_path: Path, indicators: list[dict]) -> CatalogueError:
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump({"indicators": indicators}), "utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue([path])
    return info.value


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    error = _broken(tmp_path, [
        {"id": "x1", "party": "seller"},
        {"id": "Bad Id", "party": "buyer", "kind": "aggregate", "title": "t", "rationale": "r",
         "source": "s", "fires_from": 1, "full_at": 1, "weight": -1, "reason": "{nope}",
         "measure": "count(*)", "evidence": "true"},
        {"id": "night_share", "party": "buyer", "kind": "referral", "title": "t",
         "rationale": "r", "source": "s", "fires_from": 0, "full_at": 1, "weight": 1,
         "reason": "r"},
    ])
    text = "\n".join(error.details)
    assert "'x1' lacks" in text
    assert "lower_snake_case" in text
    assert "full_at (1.0) must be greater" in text
    assert "unknown {nope}" in text
    assert "'night_share' is declared twice" in text
    assert error.file and error.file.endswith("mine.yaml")


def test_an_organisations_own_indicator_is_scored_and_explained(tmp_path: Path, score) -> None:
    path = tmp_path / "ours.yaml"
    path.write_text(yaml.safe_dump({
        "parameters": {"large_eur": {"default": 1000, "help": "A large payment.",
                                     "source": "our policy"}},
        "indicators": [{
            "id": "large_payments", "party": "buyer", "kind": "aggregate",
            "title": "Large payments", "rationale": "Our own rule.", "source": "our policy",
            "measure": "sum(CASE WHEN amount_eur >= {large_eur} THEN 1 ELSE 0 END)",
            "evidence": "amount_eur >= {large_eur}", "fires_from": 0, "full_at": 2,
            "weight": 2.0, "reason": "{value:.0f} payments of EUR {large_eur} or more"}]}),
        "utf-8")
    rows = [payment(i, "S1", "B1", f"2024-03-0{i + 1}T12:00:00+01:00", amount=a,
                    txn_id=f"T{i}") for i, a in enumerate(["1500.00", "1200.00", "20.00"])]
    got = score(rows, extra=[path])("buyer", "S1")
    assert got.value["large_payments"] == 2
    assert "2 payments of EUR 1000 or more" in got.reasons


def test_overrides_of_parameters_and_indicators() -> None:
    cat = load_catalogue(params=["small_eur=150", "high_risk_corridors=PH, TH",
                                 "night_share.weight=3.5", "bursts.support=2"])
    assert cat.values["small_eur"] == 150
    assert cat.values["high_risk_corridors"] == ["PH", "TH"]
    assert cat.get("night_share").weight == 3.5
    assert cat.get("bursts").support == 2
    assert load_catalogue().get("night_share").weight != 3.5  # the built-in is untouched


@pytest.mark.parametrize("bad,expected", [
    ("small_eur=lots", "is not a value of the right kind"),
    ("nothing=1", "no parameter named 'nothing'"),
    ("night_share.title=x", "only fires_from, full_at, weight and support"),
    ("nobody.weight=1", "no indicator named 'nobody'"),
    ("night_share.full_at=0.1", "must be greater than fires_from"),
    ("small_eur", "is not NAME=VALUE"),
])
def test_bad_overrides_are_named(bad: str, expected: str) -> None:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(params=[bad])
    assert expected in "\n".join(info.value.details)


def test_the_digest_changes_with_what_shapes_scores() -> None:
    assert load_catalogue().digest() == load_catalogue().digest()
    assert load_catalogue().digest() != load_catalogue(params=["small_eur=150"]).digest()


def test_a_catalogue_is_built_through_one_path() -> None:
    cat = Catalogue()
    cat.add({"parameters": {"p": {"default": 1, "help": "h"}}}, "test", "inline")
    assert cat.values == {"p": 1}
