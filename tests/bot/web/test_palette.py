"""The dashboard's palette passes WCAG 2.1 AA: text 4.5:1 against its background, chart
lines and focus rings 3:1 against the page (1.4.3 and 1.4.11). The colours are read from
the stylesheet itself, so a changed colour is checked."""

from __future__ import annotations

import re

import pytest

from bot.web.render import STATIC

CSS = (STATIC / "dashboard.css").read_text()
PALETTE = dict(re.findall(r"--(c-[a-z0-9-]+):\s*(#[0-9a-fA-F]{6})\s*;", CSS))

TEXT_PAIRS = [
    ("c-text", "c-bg"),
    ("c-text", "c-surface"),
    ("c-muted", "c-bg"),
    ("c-muted", "c-surface"),
    ("c-link", "c-bg"),
    ("c-nav-text", "c-nav-bg"),
    ("c-nav-current", "c-nav-bg"),
    ("c-button-text", "c-button-bg"),
    ("c-good-text", "c-bg"),
    ("c-bad-text", "c-bg"),
    # heatmap cells: body text and the muted goal line on each level's background
    *[
        (fg, f"c-{lvl}-bg")
        for lvl in ("good", "near", "bad", "none")
        for fg in ("c-text", "c-muted")
    ],
    ("c-link", "c-good-bg"),
]
GRAPHIC_PAIRS = [
    ("c-line", "c-bg"),
    ("c-goal", "c-bg"),
    ("c-focus", "c-bg"),
    ("c-border", "c-bg"),
    *[(f"c-series-{i}", "c-bg") for i in range(1, 9)],
]


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_the_ratio_is_computed_right() -> None:
    assert ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), TEXT_PAIRS)
def test_text_colours_pass_aa(fg: str, bg: str) -> None:
    assert ratio(PALETTE[fg], PALETTE[bg]) >= 4.5, (fg, bg, ratio(PALETTE[fg], PALETTE[bg]))


@pytest.mark.parametrize(("fg", "bg"), GRAPHIC_PAIRS)
def test_chart_and_focus_colours_pass_aa_for_graphics(fg: str, bg: str) -> None:
    assert ratio(PALETTE[fg], PALETTE[bg]) >= 3.0, (fg, bg, ratio(PALETTE[fg], PALETTE[bg]))


def test_every_colour_of_the_stylesheet_is_in_the_palette() -> None:
    """No colour outside the variables, so nothing escapes the checks above."""
    body = CSS[CSS.index("}") + 1 :]  # after :root
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", body)
    used = set(re.findall(r"var\(--(c-[a-z0-9-]+)\)", CSS))
    assert used <= set(PALETTE)
