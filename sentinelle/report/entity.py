"""The reporting entity: who files a report, declared once with a default and a help line.

A goAML report names the entity the FIU registered (``rentity_id``), its reporting person
and the FIU's own codes (indicators, transmission modes, kinds of funds); a FinCEN SAR names
the filer, the transmitter and a contact office. These come from a YAML file the entity
writes once (``--entity FILE``, or the ``reporting_entity`` setting); ``sentinelle report
settings`` prints an annotated example made from the declarations below, and
``docs/reports.md`` shows the same table (a test keeps it true).

Every problem in the file is reported at once, naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sentinelle.errors import SettingsError

__all__ = ["ENTITY_FIELDS", "EntityField", "ReportingEntity", "example_yaml", "fields_table",
           "load_entity"]


@dataclass(frozen=True)
class EntityField:
    """One key of the reporting-entity file: dotted path, kind, default, meaning, and the
    formats that cannot be written without it (``required``)."""

    key: str
    kind: type
    default: Any
    help: str
    required: tuple[str, ...] = ()
    example: Any = None


ENTITY_FIELDS: tuple[EntityField, ...] = (
    EntityField("name", str, "", "Legal name of the reporting institution.",
                ("goaml", "fincen"), "Example Remit Ltd"),
    # goAML
    EntityField("goaml.rentity_id", int, None, "Reporting-entity id the FIU gave you "
                "(goAML `rentity_id`, a whole number).", ("goaml",), 1001),
    EntityField("goaml.rentity_branch", str, "", "Branch the report is filed from "
                "(`rentity_branch`); empty to leave it out.", (), "HQ"),
    EntityField("goaml.report_code", str, "STR", "Report type: STR (suspicious transaction "
                "report) or SAR (suspicious activity report), as your FIU asks."),
    EntityField("goaml.currency_code_local", str, "EUR", "The FIU's local currency "
                "(ISO 4217): every `amount_local` is in it; other currencies are given as "
                "`foreign_currency` beside it."),
    EntityField("goaml.reporting_person.first_name", str, "", "Reporting person (the "
                "compliance officer): first name.", ("goaml",), "Alex"),
    EntityField("goaml.reporting_person.last_name", str, "", "Reporting person: last name.",
                ("goaml",), "Example"),
    EntityField("goaml.reporting_person.email", str, "", "Reporting person: e-mail.", (),
                "compliance@example.org"),
    EntityField("goaml.reporting_person.occupation", str, "", "Reporting person: "
                "occupation (e.g. MLRO).", (), "MLRO"),
    EntityField("goaml.my_client_side", str, "", "Which side of a payment is your own "
                "client: sender, beneficiary, or empty for neither. A client with a row in "
                "the KYC file (--kyc) is written in goAML's client form (`t_from_my_client`, "
                "`t_to_my_client`)."),
    EntityField("goaml.transaction_location", str, "", "Where the transactions took place "
                "(`transaction_location`); empty: the provider named on each transaction.",
                (), "Online"),
    EntityField("goaml.action", str, "", "What the entity did about it (`action`); empty to "
                "leave it out.", (), "Customer relationship under review"),
    EntityField("goaml.indicator_codes", dict, {}, "Our indicator id -> the FIU's report "
                "indicator code(s) (`report_indicators`); an indicator that fired on a "
                "subject contributes its codes.", (),
                {"night_share": ["UNUSU"], "referred_buyer": ["RFIUR"]}),
    EntityField("goaml.default_indicator_codes", list, [], "Indicator codes every report "
                "carries (goAML requires at least one).", (), ["UNUSU"]),
    EntityField("goaml.transmode_codes", dict, {}, "Channel (remittance, card, ...) -> the "
                "FIU's transmission-mode code (`transmode_code`); unmapped channels get `-`.",
                (), {"bank_transfer": "ELCFT"}),
    EntityField("goaml.funds_codes", dict, {"cash": "CASH"}, "Channel -> the FIU's kind of "
                "funds code (`from_funds_code`, `to_funds_code`); unmapped channels get "
                "`goaml.default_funds_code`."),
    EntityField("goaml.default_funds_code", str, "ELCFT", "Kind of funds for channels not "
                "in `goaml.funds_codes` (ELCFT: electronic funds transfer)."),
    EntityField("goaml.institution_codes", dict, {}, "Provider -> the institution code or "
                "BIC the FIU knows it by (accounts' `institution_code`); unmapped: the "
                "provider's name.", (), {"Example Remit": "EXRMGB2L"}),
    # FinCEN
    EntityField("fincen.tin", str, "", "Filer's TIN (EIN), nine digits.", ("fincen",),
                "123456789"),
    EntityField("fincen.tin_type", str, "2", "Filer's TIN type (2: EIN, 4: TIN, 9: foreign)."),
    EntityField("fincen.organization_type", str, "4", "Filer's kind of institution "
                "(1 casino, 2 depository institution, 3 insurance, 4 MSB, 5 securities, "
                "11 loan or finance company, 999 other)."),
    EntityField("fincen.primary_regulator", str, "7", "Filer's federal regulator "
                "(1 Federal Reserve, 2 FDIC, 3 NCUA, 4 OCC, 6 SEC, 7 IRS, 9 CFTC, 13 FHFA, "
                "99 not applicable)."),
    EntityField("fincen.address.street", str, "", "Filer's street address.", ("fincen",),
                "1 Example Plaza"),
    EntityField("fincen.address.city", str, "", "Filer's city.", ("fincen",), "Springfield"),
    EntityField("fincen.address.state", str, "", "Filer's state (two letters).", ("fincen",),
                "VA"),
    EntityField("fincen.address.zip", str, "", "Filer's ZIP code.", ("fincen",), "22101"),
    EntityField("fincen.address.country", str, "US", "Filer's country (two letters)."),
    EntityField("fincen.transmitter_tcc", str, "", "Transmitter Control Code FinCEN issued "
                "for batch filing.", ("fincen",), "PTEST123"),
    EntityField("fincen.contact_office", str, "", "Designated contact office.", ("fincen",),
                "Financial Crimes Compliance"),
    EntityField("fincen.contact_phone", str, "", "Contact office's phone, digits only.",
                ("fincen",), "7035550100"),
    EntityField("fincen.human_trafficking", bool, False, "Also classify the activity as "
                "human trafficking (SAR field 38(h)), as FIN-2021-NTC3 asks when it is "
                "suspected."),
)
_BY_KEY = {f.key: f for f in ENTITY_FIELDS}


@dataclass(frozen=True)
class ReportingEntity:
    """The file's values by dotted key, every key present (defaults filled in)."""

    values: Mapping[str, Any]
    source: str = "(defaults)"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def require(self, fmt: str) -> None:
        """Refuse, listing every missing key, when ``fmt`` cannot be written."""
        missing = [f.key for f in ENTITY_FIELDS if fmt in f.required
                   and self.values[f.key] in (None, "")]
        if missing:
            raise SettingsError(
                f"the reporting-entity settings lack what a {fmt} report needs",
                file=self.source, details=[f"{k}: {_BY_KEY[k].help}" for k in missing],
                fix="add these keys to the file given with --entity (sentinelle report "
                    "settings prints an example)")


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and path not in _BY_KEY:
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def _check(key: str, value: Any, problems: list[str]) -> Any:
    field = _BY_KEY[key]
    if value is None:
        return field.default
    if field.kind is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)  # a TIN or ZIP written without quotes
    if field.kind is int and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, field.kind) or (field.kind is int and isinstance(value, bool)):
        problems.append(f"{key}: expected {field.kind.__name__}, got {value!r}")
        return field.default
    if isinstance(value, dict):
        value = {str(k): ([str(x) for x in v] if isinstance(v, list) else str(v))
                 for k, v in value.items()}
    if isinstance(value, list):
        value = [str(x) for x in value]
    return value.strip() if isinstance(value, str) else value


def load_entity(path: Path | None) -> ReportingEntity:
    """The settings in ``path`` (YAML), defaults for what it leaves out; ``None``: defaults
    only (enough for GraphML, CSV and FollowTheMoney, which name no filer)."""
    if path is None:
        return ReportingEntity({f.key: f.default for f in ENTITY_FIELDS})
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the reporting-entity file: {exc}", file=str(path),
                            fix="give a readable UTF-8 YAML file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SettingsError(f"the reporting-entity file is not valid YAML: {exc}",
                            file=str(path), line=mark.line + 1 if mark else None,
                            fix="correct the YAML syntax") from exc
    if not isinstance(data, Mapping):
        raise SettingsError("the reporting-entity file must be a mapping of keys",
                            file=str(path), fix="see sentinelle report settings")
    problems: list[str] = []
    flat = _flatten(data)
    for key in flat:
        if key not in _BY_KEY:
            problems.append(f"unknown key {key!r}")
    values = {f.key: _check(f.key, flat.get(f.key), problems) for f in ENTITY_FIELDS}
    if values["goaml.my_client_side"] not in ("", "sender", "beneficiary"):
        problems.append(f"goaml.my_client_side: {values['goaml.my_client_side']!r} is not "
                        "sender, beneficiary or empty")
    if values["goaml.report_code"] not in ("STR", "SAR"):
        problems.append(f"goaml.report_code: {values['goaml.report_code']!r} is not STR or SAR")
    if problems:
        raise SettingsError("the reporting-entity file has problems", file=str(path),
                            details=problems, fix="known keys: sentinelle report settings")
    return ReportingEntity(values, str(path))


def example_yaml() -> str:
    """An annotated example file: every key with its help line as a comment (the keys of
    a section are declared together, so a section is opened once)."""
    lines = ["# Reporting-entity settings for `sentinelle report` (fictitious values)."]
    opened: set[str] = set()
    for f in ENTITY_FIELDS:
        parts = f.key.split(".")
        for depth in range(len(parts) - 1):
            prefix = ".".join(parts[:depth + 1])
            if prefix not in opened:
                opened.add(prefix)
                lines.append("  " * depth + parts[depth] + ":")
        indent = "  " * (len(parts) - 1)
        value = f.example if f.example is not None else f.default
        lines.append(f"{indent}# {f.help}" + (" Required." if f.required else ""))
        dumped = yaml.safe_dump({parts[-1]: value}, allow_unicode=True, width=1000,
                                default_flow_style=False, sort_keys=False).rstrip("\n")
        lines += [indent + line for line in dumped.splitlines()]
    return "\n".join(lines) + "\n"


def fields_table() -> str:
    """The keys as a Markdown table (docs/reports.md)."""
    rows = ["| key | default | required for | meaning |", "|---|---|---|---|"]
    for f in ENTITY_FIELDS:
        default = "" if f.default in (None, "", {}, []) else f"`{f.default}`"
        rows.append(f"| `{f.key}` | {default} | {', '.join(f.required)} | {f.help} |")
    return "\n".join(rows) + "\n"
