"""The timeline pages: a party's, a subject's or a case's payments, messages, calls,
referrals and notes on one time axis (an SVG strip, then the rows), with a date range
(zoom), kinds and the zone times are shown in; and the form that attaches a handle to the
party by hand (a judgement, audited, undoable)."""

from __future__ import annotations

from calendar import monthrange
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from sentinelle.comms.table import KINDS
from sentinelle.errors import ReviewError
from sentinelle.review import handles
from sentinelle.review.subjects import PartyKey
from sentinelle.review.timeline import (
    EVENT_KINDS,
    Filters,
    Timeline,
    case_timeline,
    highlight,
    party_timeline,
)
from sentinelle.web.context import DB, FormWriter, SignedIn, Warehouse
from sentinelle.web.pages.cases import RowId
from sentinelle.web.pages.common import redirect
from sentinelle.web.templating import render

router = APIRouter()
PATH = "/timeline/{role}/{provider}/{party_id}"
WIDTH, LANE = 960, 18  # the strip's width and one kind's lane, in SVG units
ZONES = ("UTC", "Europe/Paris", "Europe/London", "America/Toronto", "Australia/Sydney",
         "Asia/Manila", "Asia/Bangkok", "America/Bogota", "Europe/Bucharest")

Kinds = Annotated[list[str] | None, Query(alias="kind", max_length=len(EVENT_KINDS))]
Day = Annotated[str | None, Query(max_length=10)]
Zone = Annotated[str, Query(max_length=64)]


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ReviewError(f"unknown time zone {name!r}",
                          fix="an IANA name such as Europe/Paris or Asia/Manila") from exc


def _axis(t: Timeline) -> dict[str, Any]:
    """Positions on the strip: one lane per kind, months marked (each a link to zoom)."""
    events = t.events
    if not events:
        return {"lanes": [], "marks": [], "months": [], "height": LANE}
    start = datetime.combine(t.filters.start, datetime.min.time()) if t.filters.start \
        else events[0].at
    end = datetime.combine(t.filters.end, datetime.max.time()) if t.filters.end \
        else events[-1].at
    span = max((end - start).total_seconds(), 1.0)
    lanes = [k for k in EVENT_KINDS if any(e.kind == k for e in events)]

    def x(at: datetime) -> float:
        return round(10 + (WIDTH - 20) * (at - start).total_seconds() / span, 1)

    marks = [{"x": x(e.at), "y": lanes.index(e.kind) * LANE + LANE // 2, "kind": e.kind,
              "n": n, "hit": bool(e.lexicon_hits),
              "title": f"{e.at:%Y-%m-%d %H:%M} UTC {e.kind}: {e.summary[:80]}"}
             for n, e in enumerate(events)]
    months: list[dict[str, Any]] = []
    day = date(start.year, start.month, 1)
    while day <= end.date() and len(months) < 48:
        last = date(day.year, day.month, monthrange(day.year, day.month)[1])
        months.append({"x": max(10.0, x(datetime.combine(day, datetime.min.time()))),
                       "label": f"{day:%Y-%m}", "start": day.isoformat(),
                       "end": last.isoformat()})
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return {"lanes": lanes, "marks": marks, "months": months,
            "height": LANE * len(lanes) + 24}


def _page(request: Request, auth: Any, t: Timeline, here: str, tz: str,
          key: PartyKey | None) -> Response:
    shown = zone_of(tz)
    rows = [{"e": e, "local": e.at.replace(tzinfo=ZoneInfo("UTC")).astimezone(shown),
             "pieces": highlight(e.summary, e.lexicon_hits)} for e in t.events]
    candidates = sorted({h for e in t.events if e.kind in KINDS
                         for h in (e.who, *e.to.split(", ")) if h})

    def zoom(start: str | None, end: str | None) -> str:
        query = [("kind", k) for k in sorted(t.filters.kinds)] + [("tz", tz)]
        query += [(k, v) for k, v in (("start", start), ("end", end)) if v]
        return here + "?" + urlencode(query)

    return render(request, "timeline.html", auth, t=t, rows=rows, axis=_axis(t), here=here,
                  tz=tz, zones=ZONES, kinds=EVENT_KINDS, key=key, zoom=zoom,
                  candidates=candidates, width=WIDTH, lane=LANE)


@router.get(PATH)
def party_page(request: Request, role: str, provider: str, party_id: str, auth: SignedIn,
               session: DB, view: Warehouse, kind: Kinds = None, start: Day = None,
               end: Day = None, tz: Zone = "UTC") -> Response:
    key = PartyKey.of(role, provider, party_id)
    zone_of(tz)
    t = party_timeline(session, view, auth.user, key, filters=Filters.parse(kind, start, end),
                       ip=auth.ip)
    return _page(request, auth, t, "/timeline/" + key.token, tz, key)


@router.get("/cases/{case_id}/timeline")
def case_page(request: Request, case_id: RowId, auth: SignedIn, session: DB, view: Warehouse,
              kind: Kinds = None, start: Day = None, end: Day = None,
              tz: Zone = "UTC") -> Response:
    zone_of(tz)
    t = case_timeline(session, view, auth.user, case_id,
                      filters=Filters.parse(kind, start, end), ip=auth.ip)
    return _page(request, auth, t, f"/cases/{case_id}/timeline", tz, None)


@router.post(PATH + "/handles")
def attach(role: str, provider: str, party_id: str, auth: FormWriter, session: DB,
           view: Warehouse, platform: Annotated[str, Form(max_length=100)] = "",
           handle: Annotated[str, Form(max_length=300)] = "",
           reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    key = PartyKey.of(role, provider, party_id)
    handles.attach(session, view, auth.user, platform=platform, handle=handle, role=key.role,
                   provider=key.provider, party_id=key.party_id, reason=reason, ip=auth.ip)
    return redirect("/timeline/" + key.token, f"{handle} attached; its calls pair with "
                    "the payments at the next sentinelle sessions")


@router.post(PATH + "/handles/undo")
def undo(role: str, provider: str, party_id: str, auth: FormWriter, session: DB,
         link: Annotated[int, Form(ge=1, le=2**31 - 1)],
         reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    key = PartyKey.of(role, provider, party_id)
    handles.undo(session, auth.user, link, reason, ip=auth.ip)
    return redirect("/timeline/" + key.token, f"link {link} undone")
