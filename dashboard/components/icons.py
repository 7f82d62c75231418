"""Making Data Count variation and assurance icons, drawn so they can be told apart without colour.

Colour follows MDC (improvement blue, concern orange, neutral purple, common cause grey); the *shape* says
the same thing (circle: improvement or pass, diamond: concern or fail, square: neither good nor bad, hollow
circle: nothing special) and a letter says which way (H high, L low; P pass, F fail, ? hit and miss). Each
icon is an image with alt text, so a screen reader reads its meaning.
"""

from __future__ import annotations

from dash import html

from dashboard.formatting import ASSURANCE_WORDS, POINT_TYPE_WORDS
from indicators.definitions import Polarity
from indicators.spc import MDC_COLOURS

MDC = MDC_COLOURS
# Letters are dark on the light fills and white on purple: all at least 4.5:1.
_INK = {"improvement": "#000000", "concern": "#000000", "neutral": "#FFFFFF", "common_cause": "#3B3B3B"}


def _svg(shape: str, fill: str, letter: str, ink: str, size: int = 100) -> str:
    s = 100
    if shape == "circle":
        body = f'<circle cx="50" cy="50" r="46" fill="{fill}" stroke="#1a1a1a" stroke-width="3"/>'
    elif shape == "diamond":
        body = f'<polygon points="50,2 98,50 50,98 2,50" fill="{fill}" stroke="#1a1a1a" stroke-width="3"/>'
    elif shape == "square":
        body = f'<rect x="8" y="8" width="84" height="84" rx="6" fill="{fill}" stroke="#1a1a1a" stroke-width="3"/>'
    else:  # hollow: common cause / hit and miss
        body = f'<circle cx="50" cy="50" r="43" fill="#FFFFFF" stroke="{fill}" stroke-width="9"/>'
    if letter == "~":
        glyph = ('<path d="M22 56 C32 30, 42 30, 50 50 S68 70, 78 44" fill="none" stroke="#3B3B3B" '
                 'stroke-width="8" stroke-linecap="round"/>')
    elif letter:
        glyph = (f'<text x="50" y="52" text-anchor="middle" dominant-baseline="central" '
                 f'font-family="Arial, Helvetica, sans-serif" font-weight="700" font-size="52" '
                 f'fill="{ink}">{letter}</text>')
    else:
        glyph = ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {s} {s}">'
            f"{body}{glyph}</svg>")


ICON_ROUTE = "/_icons"


def icon_svg(name: str, size: int = 100) -> str | None:
    """The SVG for an icon by name ("variation-concern-H", "assurance-fail"...), or None if unknown."""
    spec = _SPECS.get(name)
    if spec is None:
        return None
    shape, family, letter = spec
    return _svg(shape, MDC[family], letter, _INK[family], size)


_SPECS: dict[str, tuple[str, str, str]] = {
    "variation-common": ("hollow", "common_cause", "~"),
    "variation-none": ("hollow", "common_cause", ""),
    "assurance-pass": ("circle", "improvement", "P"),
    "assurance-fail": ("diamond", "concern", "F"),
    "assurance-inconsistent": ("hollow", "common_cause", "?"),
}
for _letter in ("H", "L"):
    _SPECS[f"variation-improvement-{_letter}"] = ("circle", "improvement", _letter)
    _SPECS[f"variation-concern-{_letter}"] = ("diamond", "concern", _letter)
    _SPECS[f"variation-neutral-{_letter}"] = ("square", "neutral", _letter)


def icon_url(name: str) -> str:
    """Where the icon is served (one small cached file per icon, rather than inline in every page)."""
    path = f"{ICON_ROUTE}/{name}.svg"
    try:
        import dash

        return dash.get_relative_path(path)
    except Exception:  # no app yet (unit tests): a root-relative path
        return path


def _img(name: str, label: str, size: int, class_name: str) -> html.Img:
    return html.Img(src=icon_url(name), alt=label, title=label, width=size, height=size,
                    className=f"mdc-icon {class_name}")


def variation_letter(point_type: str, polarity: Polarity | str) -> str:
    """H or L: whether the special-cause point is high or low (MDC's letter)."""
    polarity = Polarity(polarity)
    if point_type == "special_cause_neutral_high":
        return "H"
    if point_type == "special_cause_neutral_low":
        return "L"
    higher_good = polarity == Polarity.higher_better
    if point_type == "special_cause_improvement":
        return "H" if higher_good else "L"
    if point_type == "special_cause_concern":
        return "L" if higher_good else "H"
    return ""


RUN_CHART = "run_chart"
"""The 'point type' of a value shown on a run chart: no SPC rules apply, so there is no variation icon."""
RUN_CHART_WORDS = "run chart: its quarters are not independent, so no special-cause rules apply"


def variation_label(point_type: str | None, polarity: Polarity | str) -> str:
    if point_type == RUN_CHART:
        return f"Variation: {RUN_CHART_WORDS}"
    pt = point_type or "common_cause"
    letter = variation_letter(pt, polarity)
    words = POINT_TYPE_WORDS.get(pt, "No data")
    if letter and pt in ("special_cause_improvement", "special_cause_concern"):
        words += f" ({'high' if letter == 'H' else 'low'} values)"
    return f"Variation: {words}"


def row_point_type(row: dict | None) -> str:
    """The point type to show for a row: its own SPC point type, or "" (no data) when it has no value."""
    if not row:
        return ""
    value = row.get("value")
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if row.get("spc_chart") == "run":
        return RUN_CHART
    return str(row.get("spc_point_type") or row.get("variation") or "")


def variation_icon(point_type: str | None, polarity: Polarity | str, size: int = 36) -> html.Img | html.Span:
    """The variation icon for a point's type (the latest point's, for the series' icon); for a value on a run
    chart the words "Run chart" instead, since no SPC rules apply to it."""
    pt = point_type or ""
    if pt == RUN_CHART:
        label = variation_label(pt, polarity)
        return html.Span("Run chart", title=label, className="mdc-none run-chart", role="img",
                         **{"aria-label": label})
    family = {
        "special_cause_improvement": "improvement",
        "special_cause_concern": "concern",
        "special_cause_neutral_high": "neutral",
        "special_cause_neutral_low": "neutral",
    }.get(pt, "common")
    if not pt:
        name, label = "variation-none", "Variation: no data"
    elif family == "common":
        name, label = "variation-common", variation_label(pt, polarity)
    else:
        name, label = f"variation-{family}-{variation_letter(pt, polarity)}", variation_label(pt, polarity)
    return _img(name, label, size, f"variation-{family}")


def assurance_icon(assurance: str | None, size: int = 36) -> html.Img | html.Span:
    """The assurance icon: P (will pass), F (will fail), ? (hit and miss); a dash when there is no target."""
    a = assurance or ""
    if a not in ("consistent_pass", "consistent_fail", "inconsistent"):
        return html.Span("–", title="Assurance: no target", className="mdc-none",
                         role="img", **{"aria-label": "Assurance: no target to assure against"})
    name = {"consistent_pass": "assurance-pass", "consistent_fail": "assurance-fail",
            "inconsistent": "assurance-inconsistent"}[a]
    return _img(name, f"Assurance: {ASSURANCE_WORDS[a]}", size, name)


def icon_key() -> html.Div:
    """A visible key to the icons, so nobody has to hover to read them."""
    pol = Polarity.lower_better
    items = [
        (variation_icon("common_cause", pol, 28), "Common cause: nothing unusual"),
        (variation_icon("special_cause_improvement", Polarity.higher_better, 28), "Improvement (H high / L low)"),
        (variation_icon("special_cause_concern", pol, 28), "Concern (H high / L low)"),
        (variation_icon("special_cause_neutral_high", Polarity.context, 28), "Unusual, neither good nor bad"),
        (assurance_icon("consistent_pass", 28), "Will meet target"),
        (assurance_icon("consistent_fail", 28), "Will miss target"),
        (assurance_icon("inconsistent", 28), "Hit and miss"),
    ]
    return html.Div(
        [html.H2("Key to the icons", className="visually-hidden")]
        + [html.Span([icon, html.Span(text)], className="key-item") for icon, text in items]
        + [html.Span("Trial: fewer than 13 quarters, so a signal is provisional", className="key-item key-text")],
        className="icon-key", role="group", **{"aria-label": "Key to the icons"},
    )
