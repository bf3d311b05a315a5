"""A structural check of the Adaptive Cards leadbot sends, from the published schema: the
element types, their required properties and types, and the Teams chart elements'
properties as Microsoft documents them ("Charts in Adaptive Cards": Chart.Line's `data` is
series of `legend`, `color`, `values: [{x, y}]`; Chart.VerticalBar's `data` is points
`{x, y, color}`; colours from the documented names; `fallback` an element or "drop")."""

from __future__ import annotations

from typing import Any

CHART_COLORS = frozenset(
    ["good", "warning", "attention", "neutral"]
    + [
        f"categorical{c}"
        for c in ("Red", "Purple", "Lavender", "Blue", "LightBlue", "Teal", "Green", "Lime")
    ]
    + ["categoricalMarigold"]
    + [f"sequential{i}" for i in range(1, 9)]
    + [
        f"diverging{c}"
        for c in (
            "Blue",
            "LightBlue",
            "Cyan",
            "Teal",
            "Yellow",
            "Peach",
            "LightRed",
            "Red",
            "Maroon",
            "Gray",
        )
    ]
)
_COMMON = {
    "type",
    "id",
    "isVisible",
    "separator",
    "spacing",
    "height",
    "horizontalAlignment",
    "fallback",
    "requires",
    "targetWidth",
    "lang",
    "grid.area",
}
_CHART_PROPS = _COMMON | {"title", "xAxisTitle", "yAxisTitle", "color", "colorSet", "data"}
_KNOWN = {
    "TextBlock": {"text"},
    "Container": {"items"},
    "Table": {"columns", "rows"},
    "FactSet": {"facts"},
    "ActionSet": {"actions"},
    "Image": {"url"},
    "Input.Text": {"id"},
    "Chart.Line": set(),
    "Chart.VerticalBar": set(),
}


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _line_data(data: Any, where: str) -> list[str]:
    errors: list[str] = []
    if not isinstance(data, list):
        return [f"{where}.data: not an array"]
    for i, series in enumerate(data):
        at = f"{where}.data[{i}]"
        if not isinstance(series, dict) or set(series) - {"legend", "color", "values"}:
            errors.append(f"{at}: unknown keys {series!r}"[:200])
            continue
        if "color" in series and series["color"] not in CHART_COLORS:
            errors.append(f"{at}.color: {series['color']!r}")
        if not isinstance(series.get("legend", ""), str):
            errors.append(f"{at}.legend: not a string")
        for j, p in enumerate(series.get("values", [])):
            if not (isinstance(p, dict) and set(p) == {"x", "y"}):
                errors.append(f"{at}.values[{j}]: {p!r}")
            elif not (isinstance(p["x"], str | int | float) and _number(p["y"])):
                errors.append(f"{at}.values[{j}]: x string/number, y number: {p!r}")
    return errors


def _bar_data(data: Any, where: str) -> list[str]:
    if not isinstance(data, list):
        return [f"{where}.data: not an array"]
    errors: list[str] = []
    for i, p in enumerate(data):
        if not isinstance(p, dict) or set(p) - {"x", "y", "color", "legend"}:
            errors.append(f"{where}.data[{i}]: {p!r}")
        elif not _number(p.get("y")) or not isinstance(p.get("x"), str | int | float):
            errors.append(f"{where}.data[{i}]: x string/number, y number")
        elif "color" in p and p["color"] not in CHART_COLORS:
            errors.append(f"{where}.data[{i}].color: {p['color']!r}")
    return errors


def _chart(element: dict[str, Any], where: str) -> list[str]:
    errors = [f"{where}: unknown property {k}" for k in set(element) - _CHART_PROPS]
    for k in ("title", "xAxisTitle", "yAxisTitle"):
        if k in element and not isinstance(element[k], str):
            errors.append(f"{where}.{k}: not a string")
    if "color" in element and element["color"] not in CHART_COLORS:
        errors.append(f"{where}.color: {element['color']!r}")
    if element["type"] == "Chart.Line":
        errors += _line_data(element.get("data"), where)
    else:
        errors += _bar_data(element.get("data"), where)
    return errors


def element_errors(element: Any, where: str = "body") -> list[str]:
    """What is wrong with one element and everything inside it (empty: nothing)."""
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [f"{where}: not an element"]
    kind = element["type"]
    if kind not in _KNOWN:
        return [f"{where}: unknown element type {kind!r}"]
    errors = [f"{where}: {kind} needs {k}" for k in _KNOWN[kind] if k not in element]
    if kind.startswith("Chart."):
        errors += _chart(element, where)
    fallback = element.get("fallback")
    if fallback is not None and fallback != "drop":
        errors += element_errors(fallback, f"{where}.fallback")
    for i, item in enumerate(element.get("items", [])):
        errors += element_errors(item, f"{where}.items[{i}]")
    return errors


def card_errors(card: dict[str, Any]) -> list[str]:
    """What is wrong with a card (empty: nothing)."""
    errors = []
    if card.get("type") != "AdaptiveCard" or not str(card.get("version", "")).startswith("1."):
        errors.append("not an AdaptiveCard 1.x")
    for i, element in enumerate(card.get("body", [])):
        errors += element_errors(element, f"body[{i}]")
    return errors
