"""``sentinelle report FORMAT``: a subject's or a case's report, written, hashed and audited.

One command per registered format (goaml, fincen, ftm, graphml, csv, reason), all with the
same options; ``sentinelle report settings`` prints an annotated reporting-entity file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentinelle.cli.common import DbOption, console, warehouse
from sentinelle.errors import ReviewError
from sentinelle.report.entity import example_yaml, load_entity
from sentinelle.report.export import (
    EXPORTERS,
    Exporter,
    Rendering,
    export_user,
    gather_case,
    gather_subject,
    render,
    write_export,
)
from sentinelle.report.gather import parse_subject
from sentinelle.report.goaml import client_gaps
from sentinelle.report.kyc import load_kyc
from sentinelle.report.money import rate_book
from sentinelle.report.narrative import read_reason
from sentinelle.review import db as case_db
from sentinelle.review.reader import WarehouseView
from sentinelle.settings import resolve

app = typer.Typer(help="Reports for an FIU, a prosecutor or other tools: goAML, FinCEN SAR, "
                  "FollowTheMoney, GraphML, CSV. Every export is written to the audit log "
                  "with its SHA-256.", no_args_is_help=True)

SubjectOption = Annotated[str | None, typer.Option(
    "--subject", help="ROLE:PROVIDER:PARTY_ID, e.g. buyer:Example Remit:S0012345.")]
CaseOption = Annotated[str | None, typer.Option(
    "--case", help="A case's reference (C-2024-0007) or number; every subject in it.")]
OutOption = Annotated[Path, typer.Option("--out", help="File to write.")]
UserOption = Annotated[str, typer.Option(
    "--user", help="Account in the case database the export is attributed to (must be "
    "allowed to export, and to see the case).")]
EntityOption = Annotated[Path | None, typer.Option(
    "--entity", help="Reporting-entity settings (YAML; default: the reporting_entity "
    "setting). sentinelle report settings prints an example.")]
ReasonOption = Annotated[Path | None, typer.Option(
    "--reason-file", help="The narrative as edited (UTF-8 text) instead of the draft; "
    "sentinelle report reason writes the draft.")]
SchemaOption = Annotated[Path | None, typer.Option(
    "--schema", help="XSD to check an XML report against before writing it (your FIU's "
    "goAML schema, FinCEN's batch schema); nothing is written if it fails.")]
BomOption = Annotated[bool, typer.Option(
    "--bom", help="CSV: start with a UTF-8 byte-order mark (Excel needs it for non-Latin "
    "names).")]
KycOption = Annotated[Path | None, typer.Option(
    "--kyc", help="goAML: CSV of your own clients' KYC records (identity document, gender, "
    "birth date, nationality); the side goaml.my_client_side names is then written in "
    "goAML's client form.")]
UrlOption = Annotated[str | None, typer.Option(
    "--database-url", help="postgresql://USER@HOST:PORT/NAME for a team's case database; "
    "default: sentinelle-cases.sqlite beside the warehouse.")]


def _run(exporter: Exporter, subject: str | None, case: str | None, out: Path, user: str,
         entity: Path | None, reason_file: Path | None, schema: Path | None, bom: bool,
         kyc_file: Path | None, db: Path | None, database_url: str | None) -> None:
    if (subject is None) == (case is None):
        raise ReviewError("name either --subject or --case",
                          fix="e.g. --subject buyer:Example Remit:S0012345, or --case C-2024-0007")
    reason = None
    if reason_file is not None:
        if exporter.reason_limit is None:
            raise ReviewError(f"{exporter.name} carries no narrative: --reason-file does "
                              "not apply", fix="leave --reason-file out")
        reason = read_reason(reason_file, exporter.reason_limit)
    if kyc_file is not None and exporter.name != "goaml":
        raise ReviewError("--kyc applies to goaml only", fix="leave --kyc out")
    kyc = load_kyc(kyc_file) if kyc_file is not None else {}
    settings = resolve({"db": str(db) if db else None})
    entity_path = entity or (Path(settings["reporting_entity"])
                             if settings.get("reporting_entity") else None)
    reporting = load_entity(entity_path)
    key = parse_subject(subject) if subject is not None else None
    target = key.target if key is not None else f"case/{case}"
    engine, sessions = case_db.open_cases(case_db.database_url(
        database_url, Path(settings["db"])), upgrade_first=False)
    try:
        with sessions() as session, warehouse(
                db, read_only=True, viewing=(f"report {exporter.name}", target)) as wh:
            account = export_user(session, user)
            view = WarehouseView(wh.con)
            data = gather_subject(view, key) if key is not None else \
                gather_case(session, view, account, str(case))
            content = render(exporter.name, Rendering(
                data, view, reporting, reason, rate_book(view), bom, kyc,
                user=account.username), schema)
            digest = write_export(session, account, exporter.name, data, content, out,
                                  reason_file=reason_file)
    finally:
        engine.dispose()
    console.print(f"Wrote {out} ({exporter.name}, {len(content):,} bytes, "
                  f"{len(data.transactions):,} payments, {len(data.subjects)} subject(s)).")
    console.print(f"SHA-256 {digest}; recorded in the audit log under {account.username}.",
                  soft_wrap=True)
    gaps = client_gaps(data, reporting, kyc) if exporter.name == "goaml" else []
    if gaps:
        console.print(f"No KYC row for {len(gaps)} client(s), written in goAML's non-client "
                      f"form: {', '.join(gaps)}", soft_wrap=True, markup=False)


def _command(exporter: Exporter) -> None:
    def command(
        out: OutOption,
        user: UserOption,
        subject: SubjectOption = None,
        case: CaseOption = None,
        entity: EntityOption = None,
        reason_file: ReasonOption = None,
        schema: SchemaOption = None,
        bom: BomOption = False,
        kyc: KycOption = None,
        db: DbOption = None,
        database_url: UrlOption = None,
    ) -> None:
        _run(exporter, subject, case, out, user, entity, reason_file, schema, bom, kyc, db,
             database_url)

    command.__doc__ = exporter.help
    app.command(exporter.name)(command)


for _exporter in EXPORTERS.values():
    _command(_exporter)


@app.command("settings")
def settings_example() -> None:
    """Print an annotated reporting-entity file (every key, its meaning and an example)."""
    typer.echo(example_yaml(), nl=False)
