"""Small helpers the page modules share."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi.responses import RedirectResponse

__all__ = ["local_path", "redirect"]


def local_path(target: str | None, default: str = "/") -> str:
    """A path on this site only (never ``//host`` or ``https://…``): where to go next."""
    if not target or not target.startswith("/") or target.startswith("//") \
            or "\\" in target or any(ch in target for ch in "\r\n"):
        return default
    return target


def redirect(path: str, message: str | None = None, query: str = "") -> RedirectResponse:
    """After a POST, back to a page (303: the browser GETs it), with a notice to show."""
    pairs = [(k, v) for k, v in parse_qsl(query) if k != "msg"]
    if message:
        pairs.append(("msg", message))
    target = local_path(path) + ("?" + urlencode(pairs) if pairs else "")
    return RedirectResponse(target, status_code=303)
