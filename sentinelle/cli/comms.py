"""``sentinelle ingest comms``, ``sentinelle timeline`` and ``sentinelle sessions``:
chat and call exports, one time axis, payments paired with calls (docs/comms.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, progress_bar, warehouse
from sentinelle.cli.review import UrlOption, _cases, _url
from sentinelle.comms import Options, discover, get, ingest_file
from sentinelle.comms.clock import zone
from sentinelle.comms.handles import Attached
from sentinelle.comms.lexicon import Lexicon, write_party_counts
from sentinelle.comms.pairing import DEFAULTS, HELP, pair_sessions
from sentinelle.comms.timeline import TIMELINE_KINDS, Party, timeline
from sentinelle.errors import InputRefused, SentinelleError
from sentinelle.ingest import FileReport
from sentinelle.settings import resolve

FORMAT_NAMES = "whatsapp, telegram, messenger, skype, leapp, csv"
LexiconOption = Annotated[Path | None, typer.Option(
    "--lexicon", help="Your organisation's term list (UTF-8, one term per line); matches are "
    "marked and counted. None is shipped.")]


def comms(
    paths: Annotated[list[Path], typer.Argument(help="Export files or folders.")],
    fmt: Annotated[str, typer.Option("--format", help=f"The export's format: {FORMAT_NAMES}.")],
    tz: Annotated[str | None, typer.Option(
        "--tz", help="Time zone the device was set to (IANA name, e.g. Europe/Paris); "
        "required for device-local times.")] = None,
    day_first: Annotated[bool | None, typer.Option(
        "--day-first/--month-first", help="How a WhatsApp export writes dates, when the "
        "file alone cannot tell.")] = None,
    owner: Annotated[str | None, typer.Option(
        help="Handle or number of the device's owner (call logs, single Telegram chats).")]
    = None,
    platform: Annotated[str | None, typer.Option(
        help="Platform for a generic CSV without a platform column.")] = None,
    db: DbOption = None,
) -> None:
    """Ingest chat and call exports (WhatsApp, Telegram, Messenger, Skype, iLEAPP/ALEAPP,
    generic CSV)."""
    importer = get(fmt)
    options = Options(tz=tz, day_first=day_first, owner=owner, platform=platform)
    settings = resolve({"db": str(db) if db else None})
    files = discover(paths, importer)
    reports: list[FileReport] = []
    with warehouse(db) as wh, progress_bar() as bar:
        task = bar.add_task("files", total=len(files))
        for i, path in enumerate(files):
            bar.update(task, description=f"{path.name}", completed=i)

            def step(what: str, name: str = path.name) -> None:
                bar.update(task, description=f"{name}: {what}")

            try:
                reports.append(ingest_file(wh, importer, path, options,
                                           user=settings["user"], progress=step))
            except InputRefused as exc:
                reports.append(FileReport(path, "refused", message=str(exc)))
        bar.update(task, completed=len(files), description="done")
    _print_reports(reports)
    if any(r.status == "refused" for r in reports):
        raise typer.Exit(1)


def _print_reports(reports: list[FileReport]) -> None:
    table = RichTable(title="Communications ingested")
    for col in ("file", "status", "read", "accepted", "quarantined"):
        table.add_column(col, justify="left" if col in ("file", "status") else "right")
    for r in reports:
        table.add_row(r.path.name, r.status, f"{r.read:,}", f"{r.accepted:,}",
                      f"{r.quarantined:,}")
    console.print(table)
    done = [r for r in reports if r.status == "ingested"]
    if done and all(r.reconciles for r in done):
        console.print("Every file reconciles: records read = accepted + quarantined.")
    for r in reports:
        if r.message:
            console.print(f"[yellow]{r.path}[/]: ", end="")
            console.print(r.message, markup=False, highlight=False)


def timeline_command(
    party: Annotated[str | None, typer.Option(
        help="ROLE:PROVIDER:ID, e.g. 'buyer:Kestrel Remit:S00012345'.")] = None,
    handle: Annotated[str | None, typer.Option(help="A communications handle.")] = None,
    phone: Annotated[str | None, typer.Option(help="A phone number with its country code.")]
    = None,
    kind: Annotated[list[str] | None, typer.Option(
        help=f"Only these kinds (repeat): {', '.join(TIMELINE_KINDS)}.")] = None,
    tz: Annotated[str | None, typer.Option(
        "--tz", help="Show times in this zone (IANA name) instead of UTC.")] = None,
    lexicon: LexiconOption = None,
    limit: Annotated[int, typer.Option(help="Rows to show (0: all).")] = 200,
    db: DbOption = None,
) -> None:
    """Payments, messages, calls and referrals of a party, handle or phone on one time axis."""
    shown_in: ZoneInfo | None = zone(tz, "timeline") if tz else None
    terms = Lexicon.load(lexicon) if lexicon else None
    who = party or handle or phone or ""
    with warehouse(db, viewing=("timeline", who)) as wh:
        rows = timeline(wh, party=Party.parse(party) if party else None, handle=handle,
                        phone=phone, kinds=set(kind) if kind else None, lexicon=terms,
                        limit=limit or None)
    zone_name = tz or "UTC"
    out = RichTable(title=f"Timeline of {who} (times in {zone_name})")
    for col in ("when", "kind", "from", "to", "what", "€", "ref", "source"):
        out.add_column(col, overflow="fold", justify="right" if col == "€" else "left")
    for r in rows:
        at = r.at.replace(tzinfo=ZoneInfo("UTC"))
        local = at.astimezone(shown_in) if shown_in else at
        what = r.summary + (f"  [lexicon: {', '.join(r.lexicon_hits)}]" if r.lexicon_hits
                            else "")
        out.add_row(f"{local:%Y-%m-%d %H:%M:%S}", r.kind, r.who, r.to, what,
                    f"{r.amount_eur:,.2f}" if r.amount_eur is not None else "", r.ref, r.source)
    console.print(out, markup=False, highlight=False)
    if not rows:
        console.print("Nothing found. Handles are linked to parties by exact phone and "
                      "e-mail (docs/comms.md).")


def _attached(database_url: str | None, db: Path | None) -> list[Attached]:
    """The handles analysts attached by hand (none when the case database does not exist)."""
    from sentinelle.review import handles

    url = _url(database_url, db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return []
    with _cases(database_url, db) as (session, _):
        return handles.active(session)


def sessions(
    within_hours: Annotated[float, typer.Option(help=HELP["within_hours"])]
    = DEFAULTS["within_hours"],
    min_minutes: Annotated[float, typer.Option(help=HELP["min_minutes"])]
    = DEFAULTS["min_minutes"],
    lexicon: LexiconOption = None,
    top: Annotated[int, typer.Option(help="Buyers and facilitators to list.")] = 20,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Pair payments with the calls that follow them; sessions per buyer and facilitator.
    Handles attached by hand in the web application (the case database) are linked too."""
    terms = Lexicon.load(lexicon) if lexicon else None
    attached = _attached(database_url, db)
    with warehouse(db, viewing=("sessions", f"{within_hours} h, {min_minutes} min")) as wh:
        if not wh.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = "
                         "'communications'"):
            raise SentinelleError("there are no communications in the warehouse",
                                  fix="sentinelle ingest comms PATH --format … first")
        run = pair_sessions(wh, within_hours, min_minutes, attached)
        if terms:
            write_party_counts(wh, terms)
        parties = wh.execute(
            """SELECT role, provider, party_id, sessions, euros, call_seconds, first_session,
                      last_session FROM comm_session_parties
               QUALIFY row_number() OVER (PARTITION BY role ORDER BY sessions DESC,
                                          euros DESC NULLS LAST, party_id) <= ?
               ORDER BY role, sessions DESC, euros DESC NULLS LAST, party_id""",
            [top]).fetchall()
        totals = wh.execute("SELECT count(*), sum(amount_eur), sum(duration_s) "
                            "FROM comm_sessions").fetchall()[0]
        hits = (wh.execute("SELECT role, provider, party_id, messages, matches FROM "
                           "comm_lexicon_parties LIMIT ?", [top]).fetchall() if terms else [])
    console.print(f"Handles linked to parties: {run.links:,}; payment-call pairs within the "
                  f"window: {run.candidates:,}; sessions (one call per payment): "
                  f"{run.sessions:,}, €{totals[1] or 0:,.2f}, "
                  f"{(totals[2] or 0) / 3600:,.1f} hours of calls.")
    for role in ("buyer", "facilitator"):
        out = RichTable(title=f"Corroborated sessions per {role}")
        for col in ("provider", "party", "sessions", "€", "call hours", "first", "last"):
            out.add_column(col, justify="right" if col in ("sessions", "€", "call hours")
                           else "left")
        for r in [p for p in parties if p[0] == role]:
            out.add_row(r[1], r[2], str(r[3]), f"{r[4] or 0:,.2f}", f"{(r[5] or 0) / 3600:.1f}",
                        f"{r[6]:%Y-%m-%d}", f"{r[7]:%Y-%m-%d}")
        console.print(out)
    if terms:
        out = RichTable(title="Term-list matches per party (comm_lexicon_parties)")
        for col in ("role", "provider", "party", "messages", "matches"):
            out.add_column(col)
        for r in hits:
            out.add_row(*(str(x) for x in r))
        console.print(out)
    console.print("Every session, with the payment and the call: the comm_sessions table; "
                  "per party: comm_session_parties (docs/comms.md).")

