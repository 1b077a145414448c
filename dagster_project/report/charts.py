"""Charts as inline SVG: no plotting library, no network, and full control of what is drawn.

Disclosure control (METHOD.md §6): a chart is drawn only from published cells; a bar whose
value is suppressed is not drawn at all (its row says `*` and the chart notes it), so no
picture can show what a table hides.

Exports `Bar`, `reduction_chart`, `paired_chart`, `funnel_chart`.
"""

import math
from dataclasses import dataclass
from html import escape

from dagster_project.report.cells import fmt_count, fmt_pct
from dagster_project.vocabulary.disclosure import SUPPRESSED
from dagster_project.vocabulary.link_status import AMBIGUOUS

WIDTH, LABEL_W, RIGHT_W, ROW_H, TOP, BOTTOM = 760, 210, 120, 30, 24, 30
PLOT_W = WIDTH - LABEL_W - RIGHT_W
COLOURS = {"bar": "#2b6cb0", "light": "#90b4dd", "grey": "#a0aec0", "ink": "#1a202c",
           "muted": "#4a5568", "grid": "#e2e8f0", "ref": "#c05621"}
SUPPRESSED_NOTE = "* suppressed (under {t} persons, or recoverable): not drawn"


@dataclass(frozen=True)
class Bar:
    """One row of a chart; `value` None means suppressed (nothing is drawn)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    marker: float | None = None  # reduction at risk, a diamond
    second: float | None = None  # the "after" bar of a paired chart
    note: str = ""


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(round((high - first) / step)) + 1)]


def _svg(height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" font-family="system-ui, sans-serif" font-size="13">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", **style) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in style.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _row_labels(bars: list[Bar], threshold: int) -> list[str]:
    out = []
    for i, bar in enumerate(bars):
        y = TOP + i * ROW_H + ROW_H / 2 + 4
        out.append(_text(LABEL_W - 8, y, bar.label, "end", fill=COLOURS["ink"]))
        # only over an empty row: where half a pair is drawn, its own label says `* → n`,
        # and a note laid over the drawn bar would hide that bar's label
        if bar.value is None and bar.second is None:
            note = SUPPRESSED_NOTE.format(t=threshold)
            # a white ground keeps the note legible over the reference line
            out.append(f'<rect x="{LABEL_W + 2}" y="{y - 13}" width="{len(note) * 6.6:.0f}" '
                       'height="18" fill="#fff"/>')
            out.append(_text(LABEL_W + 6, y, note, fill=COLOURS["muted"], font_style="italic"))
    return out


def _domain(bars: list[Bar], reference: float | None) -> tuple[float, float]:
    points = [0.0] + ([reference] if reference is not None else [])
    for bar in bars:
        points += [p for p in (bar.value, bar.low, bar.high, bar.marker) if p is not None]
    low, high = min(points), max(points)
    return math.floor(low * 10) / 10, max(math.ceil(high * 10) / 10, low + 0.1)


def reduction_chart(bars: list[Bar], title: str, threshold: int,
                    reference: float | None = None) -> str:
    """Horizontal bars of reductions with 95% CI whiskers, the time-at-risk reduction as a
    diamond, and the whole cohort's reduction as a dashed reference line."""
    low, high = _domain(bars, reference)
    x = lambda v: LABEL_W + (v - low) / (high - low) * PLOT_W  # noqa: E731
    height = TOP + len(bars) * ROW_H + BOTTOM
    body = []  # the section's heading titles the chart; `title` is its accessible name
    step = 0.1 if high - low <= 1.2 else 0.2
    for tick in _ticks(low, high, step):
        body.append(f'<line x1="{x(tick):.1f}" y1="{TOP - 4}" x2="{x(tick):.1f}" '
                    f'y2="{height - BOTTOM}" stroke="{COLOURS["grid"]}"/>')
        body.append(_text(x(tick), height - BOTTOM + 16, fmt_pct(tick).replace(".0", ""),
                          "middle", fill=COLOURS["muted"], font_size="11"))
    body.append(f'<line x1="{x(0):.1f}" y1="{TOP - 4}" x2="{x(0):.1f}" y2="{height - BOTTOM}" '
                f'stroke="{COLOURS["ink"]}"/>')
    for i, bar in enumerate(bars):
        if bar.value is None:
            continue  # suppressed: no bar, no whisker, no marker
        body += _reduction_row(bar, TOP + i * ROW_H, x)
    if reference is not None:
        body.append(f'<line x1="{x(reference):.1f}" y1="{TOP - 8}" x2="{x(reference):.1f}" '
                    f'y2="{height - BOTTOM}" stroke="{COLOURS["ref"]}" stroke-dasharray="5 4"/>')
        body.append(_text(x(reference) + 4, TOP - 10, f"whole cohort {fmt_pct(reference)}",
                          fill=COLOURS["ref"], font_size="11"))
    body += _row_labels(bars, threshold)
    return _svg(height, title, body)


def _reduction_row(bar: Bar, top: float, x) -> list[str]:
    mid = top + ROW_H / 2
    left, right = sorted((x(0), x(bar.value)))
    out = [f'<rect class="bar" data-label="{escape(bar.label)}" x="{left:.1f}" y="{top + 7}" '
           f'width="{right - left:.1f}" height="{ROW_H - 14}" fill="{COLOURS["light"]}"/>']
    if bar.low is not None and bar.high is not None:
        lo, hi = x(bar.low), x(bar.high)
        out.append(f'<path d="M{lo:.1f} {mid}H{hi:.1f}M{lo:.1f} {mid - 6}V{mid + 6}'
                   f'M{hi:.1f} {mid - 6}V{mid + 6}" stroke="{COLOURS["ink"]}" fill="none"/>')
    if bar.marker is not None:
        m = x(bar.marker)
        out.append(f'<path d="M{m:.1f} {mid - 6}L{m + 6:.1f} {mid}L{m:.1f} {mid + 6}'
                   f'L{m - 6:.1f} {mid}Z" fill="{COLOURS["ref"]}" fill-opacity="0.85"/>')
    out.append(_text(WIDTH - RIGHT_W + 8, mid + 4, fmt_pct(bar.value), fill=COLOURS["ink"]))
    return out


def paired_chart(bars: list[Bar], title: str, threshold: int,
                 names: tuple[str, str] = ("before", "after")) -> str:
    """Two bars per row (`value` and `second`, e.g. convictions before and after), on one
    count scale; either bar is left out when its cell is suppressed."""
    shown = [v for b in bars for v in (b.value, b.second) if v is not None]
    top = max(shown, default=1.0) or 1.0
    x = lambda v: LABEL_W + v / top * PLOT_W  # noqa: E731
    height = TOP + len(bars) * ROW_H + BOTTOM
    body = [_legend([(names[0], COLOURS["bar"]), (names[1], COLOURS["light"])], height)]
    for i, bar in enumerate(bars):
        row_top = TOP + i * ROW_H
        for offset, number, colour in ((4, bar.value, COLOURS["bar"]),
                                       (15, bar.second, COLOURS["light"])):
            if number is None:
                continue  # suppressed
            body.append(f'<rect class="bar" data-label="{escape(bar.label)}" x="{LABEL_W}" '
                        f'y="{row_top + offset}" width="{x(number) - LABEL_W:.1f}" height="10" '
                        f'fill="{colour}"/>')
        pair = " → ".join(SUPPRESSED if v is None else fmt_count(v)
                          for v in (bar.value, bar.second))
        body.append(_text(x(max(bar.value or 0, bar.second or 0)) + 6, row_top + ROW_H / 2 + 4,
                          pair, fill=COLOURS["muted"], font_size="11", class_="count"))
    body += _row_labels(bars, threshold)
    return _svg(height, title, body)


def _legend(items: list[tuple[str, str]], height: int) -> str:
    parts, left = [], LABEL_W
    for name, colour in items:
        parts.append(f'<rect x="{left}" y="{height - 18}" width="12" height="10" '
                     f'fill="{colour}"/>')
        parts.append(_text(left + 16, height - 9, name, fill=COLOURS["muted"], font_size="11"))
        left += 24 + 7 * len(name)
    return "".join(parts)


def funnel_chart(bars: list[Bar], title: str, threshold: int) -> str:
    """The funnel: one bar per stage on one scale, labelled with its count (and its share of
    adult starters, in `note`); link statuses are indented and lighter."""
    top = max((b.value for b in bars if b.value is not None), default=1.0) or 1.0
    height = TOP + len(bars) * ROW_H + 10
    body = []
    for i, bar in enumerate(bars):
        if bar.value is None:
            continue  # suppressed
        status = bar.label.startswith("↳")
        colour = COLOURS["grey"] if AMBIGUOUS in bar.label else (
            COLOURS["light"] if status else COLOURS["bar"])
        width = bar.value / top * PLOT_W
        row_top = TOP + i * ROW_H
        name = escape(bar.label.lstrip("↳ "))
        body.append(f'<rect class="bar" data-label="{name}" x="{LABEL_W}" y="{row_top + 5}" '
                    f'width="{width:.1f}" height="{ROW_H - 10}" fill="{colour}"/>')
        text = fmt_count(bar.value) + (f" ({bar.note})" if bar.note else "")
        body.append(_text(LABEL_W + width + 6, row_top + ROW_H / 2 + 4, text,
                          fill=COLOURS["ink"], class_="count"))
    body += _row_labels(bars, threshold)
    return _svg(height, title, body)
