"""The investigators' web application: server-rendered pages and a JSON API over the
warehouse (read per request) and the case database. ``sentinelle serve`` runs it."""

from __future__ import annotations

from sentinelle.web.app import create_app

__all__ = ["create_app"]
