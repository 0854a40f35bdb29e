"""The pages' templates: Jinja2 with autoescaping on, a few formatting filters, and the
context every page gets (the user, the CSRF token, what the navigation may show)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from sentinelle.review import access
from sentinelle.web import charts
from sentinelle.web.context import CSRF_FIELD, Auth, state

__all__ = ["TEMPLATES", "environment", "render"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Navigation: (label, path, the action that shows it)
NAV = (("Queue", "/queue", "view_queue"), ("Search", "/search", "search"),
       ("Cases", "/cases", "view_case"), ("Reports", "/reports", "draft_report"),
       ("Resolution", "/resolution", "judge_records"),
       ("Audit log", "/audit", "view_audit"),
       ("Model", "/model", "train_model"), ("Users", "/admin/users", "manage_users"))


def _when(value: datetime | date | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(fmt)
    return value.isoformat()


def _eur(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.3f}"


def _label(value: str | None) -> str:
    return (value or "").replace("_", " ")


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=_when, eur=_eur, score=_score, signed=_signed, label=_label)
    env.globals.update(heatmap=charts.heatmap, monthly_bars=charts.monthly_bars,
                       csrf_field=CSRF_FIELD)
    return env


def render(request: Request, name: str, auth: Auth | None, status: int = 200,
           **context: Any) -> HTMLResponse:
    user = auth.user if auth else None
    nav = [(label, path) for label, path, action in NAV if access.can(user, action)]
    html = state(request).templates.get_template(name).render(
        request=request, user=user, csrf=auth.csrf if auth else "", nav=nav,
        can=lambda action: access.can(user, action), path=request.url.path,
        message=context.pop("message", request.query_params.get("msg")),
        **context)
    return HTMLResponse(html, status_code=status)
