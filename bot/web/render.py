"""The dashboard's HTML: Jinja2 templates (autoescaped) through aiohttp-jinja2.

A request from htmx (`HX-Request`) gets the page's main content only, so a period change
swaps it in place; any other request gets the whole page, which works without
JavaScript too (the forms are plain GET forms).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from bot.web.auth import current
from domain.fmt import fmt_value

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

# A heatmap cell's level, as its tooltip says it (the cell's text has the mark too).
LEVEL_TEXT = {
    "good": "meets the goal",
    "near": "just misses the goal",
    "bad": "misses the goal",
    "none": "no goal",
}
_BOLD = re.compile(r"\*([^*\n]+)\*")
_ITALIC = re.compile(r"(?<![\w])_([^_\n]+)_(?![\w])")
_CODE = re.compile(r"`([^`\n]+)`")


def mrkdwn(text: str) -> Markup:
    """Chat text (`*bold*`, `_italic_`, `code`, line breaks) as safe HTML."""
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)
    return Markup(html.replace("\n", "<br>"))  # noqa: S704  (escaped above)


def setup(app: web.Application) -> None:
    """Templates for this (sub-)application."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["mrkdwn"] = mrkdwn
    env.globals["fmt"] = fmt_value
    env.globals["LEVEL_TEXT"] = LEVEL_TEXT


async def page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Render a template with what every page needs (who is signed in, the CSRF token)."""
    info = await current(request)
    values = {
        "partial": request.headers.get("HX-Request") == "true",
        "csrf": info.csrf_token if info else "",
        "signed_in": info is not None,
        "viewer": info.actor.name if info else "",
        "path": request.path,
        **context,
    }
    return aiohttp_jinja2.render_template(template, request, values, status=status)
