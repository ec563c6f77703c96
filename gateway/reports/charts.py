"""Loss charts, laid out once and drawn two ways: SVG for the console (server-rendered,
no script) and PNG for `gateway report losses --format png`.

A layout is a list of shapes (rectangles, polylines, text) in pixels; `svg()` and
`png()` only draw them. PNG uses Pillow, which the PDF export's fpdf2 already brings in,
so charts add no dependency (a plotting library would add tens of megabytes for two
chart types).
"""

from __future__ import annotations

import html
import io
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

from gateway.reports.report import LossReport

# Okabe-Ito: told apart with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D00", "#000000"]
INK, GRID, BACKGROUND = "#1a1a1a", "#d0d0d0", "#ffffff"
WIDTH, HEIGHT = 760, 360
LEFT, RIGHT, TOP, BOTTOM = 80, 190, 44, 56
MAX_SERIES = 8
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@dataclass
class Series:
    name: str
    values: list[Decimal]


@dataclass
class Chart:
    kind: Literal["stacked", "lines"]
    title: str
    x_labels: list[str]
    series: list[Series]
    unit: str

    def describe(self) -> str:
        """A sentence for screen readers; the data table beside the chart has the rest."""
        names = ", ".join(s.name for s in self.series) or "no data"
        shape = "stacked bars per week" if self.kind == "stacked" else "one line per group"
        span = f"{self.x_labels[0]} to {self.x_labels[-1]}" if self.x_labels else "no weeks"
        total = sum((v for s in self.series for v in s.values), Decimal(0))
        return f"{self.title}: {shape}, {span}; {names}. Total {total} {self.unit}."


@dataclass
class Shape:
    kind: Literal["rect", "line", "text"]
    points: list[tuple[float, float]]
    color: str = INK
    text: str = ""
    anchor: Literal["start", "middle", "end"] = "start"
    size: int = 12
    width: float = 2.0


@dataclass
class Layout:
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)


def by_week(report: LossReport, dimension: str, kind: Literal["stacked", "lines"]) -> Chart:
    """Net loss per week, one series per value of `dimension` (the largest first, the
    rest as "other"). The report must be grouped by week and that dimension."""
    weeks = [w.week.isoformat() for w in report.weeks]
    index = {w: n for n, w in enumerate(weeks)}
    values: dict[str, list[Decimal]] = {}
    for item in report.items:
        name = item.key.get(dimension) or "(none)"
        row = values.setdefault(name, [Decimal(0)] * len(weeks))
        week = item.key.get("week")
        if week in index:
            row[index[week]] += item.net_loss
    ranked = sorted(values.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    series = [Series(name, row) for name, row in ranked[: MAX_SERIES - 1]]
    rest = ranked[MAX_SERIES - 1 :]
    if rest:
        series.append(
            Series(
                "other", [sum(col, Decimal(0)) for col in zip(*(r for _n, r in rest), strict=True)]
            )
        )
    title = f"Net loss per week by {dimension.replace('_', ' ')} ({report.reporting_currency})"
    return Chart(kind, title, weeks, series, report.reporting_currency)


def by_group(report: LossReport) -> Chart:
    """Net loss per group, for a report not grouped by week: one bar per group."""
    items = report.items[:15]
    labels = [" / ".join(v or "(none)" for v in i.key.values()) for i in items]
    series = [Series("net loss", [i.net_loss for i in items])]
    title = f"Net loss by {', '.join(report.group_by)} ({report.reporting_currency})"
    return Chart("stacked", title, labels, series, report.reporting_currency)


def _nice_step(top: Decimal) -> Decimal:
    if top <= 0:
        return Decimal(1)
    raw = top / 4
    magnitude = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal("0.01")
    for factor in (1, 2, 5, 10):
        if raw <= magnitude * factor:
            return magnitude * factor
    return magnitude * 10


def layout(chart: Chart) -> Layout:
    out = Layout(WIDTH, HEIGHT)
    add = out.shapes.append
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(chart.x_labels), 1)
    if chart.kind == "stacked":
        tops = [
            sum((s.values[i] for s in chart.series), Decimal(0)) for i in range(len(chart.x_labels))
        ]
    else:
        tops = [
            max((s.values[i] for s in chart.series), default=Decimal(0))
            for i in range(len(chart.x_labels))
        ]
    step = _nice_step(max(tops, default=Decimal(0)))
    ticks = 1
    while step * ticks < max(tops, default=Decimal(0)):
        ticks += 1
    ceiling = step * max(ticks, 1)

    def y(value: Decimal) -> float:
        return TOP + plot_h - float(value / ceiling) * plot_h

    add(Shape("text", [(LEFT, 24)], text=chart.title, size=15))
    for t in range(ticks + 1):
        value = step * t
        add(Shape("line", [(LEFT, y(value)), (LEFT + plot_w, y(value))], color=GRID, width=1))
        add(Shape("text", [(LEFT - 8, y(value) + 4)], text=f"{value:,.0f}", anchor="end", size=11))
    slot = plot_w / n
    # Weeks by month and day (the title, the table and the tooltips name the year); as
    # many labels as fit without touching.
    labels = [x[5:] if ISO_DAY.match(x) else x for x in chart.x_labels]
    widest = max((len(x) for x in labels), default=1) * 7 + 12
    every = max(1, math.ceil(widest / slot))
    for i, label in enumerate(labels):
        if i % every == 0:
            cx = LEFT + slot * (i + 0.5)
            add(Shape("text", [(cx, TOP + plot_h + 18)], text=label, anchor="middle", size=11))
    if chart.kind == "stacked":
        bar = slot * 0.7
        for i in range(len(chart.x_labels)):
            base = Decimal(0)
            x0 = LEFT + slot * i + (slot - bar) / 2
            for n_s, s in enumerate(chart.series):
                v = s.values[i]
                if v > 0:
                    add(
                        Shape(
                            "rect",
                            [(x0, y(base + v)), (x0 + bar, y(base))],
                            color=PALETTE[n_s % len(PALETTE)],
                        )
                    )
                base += v
    else:
        for n_s, s in enumerate(chart.series):
            points = [(LEFT + slot * (i + 0.5), y(v)) for i, v in enumerate(s.values)]
            color = PALETTE[n_s % len(PALETTE)]
            if len(points) > 1:
                add(Shape("line", points, color=color, width=2.5))
            for px, py in points:
                add(Shape("rect", [(px - 3, py - 3), (px + 3, py + 3)], color=color))
    add(Shape("line", [(LEFT, TOP + plot_h), (LEFT + plot_w, TOP + plot_h)], width=1))
    lx = LEFT + plot_w + 16
    for n_s, s in enumerate(chart.series):
        ly = TOP + 14 + n_s * 20
        add(Shape("rect", [(lx, ly - 10), (lx + 12, ly + 2)], color=PALETTE[n_s % len(PALETTE)]))
        add(Shape("text", [(lx + 18, ly)], text=s.name[:22], size=12))
    if not chart.series:
        add(
            Shape(
                "text",
                [(LEFT + plot_w / 2, TOP + plot_h / 2)],
                text="no losses in this window",
                anchor="middle",
                size=13,
            )
        )
    return out


def svg(chart: Chart, ident: str) -> str:
    """An inline SVG with a title and description (role img) for assistive technology."""
    shape_svg = []
    for s in layout(chart).shapes:
        if s.kind == "rect":
            (x0, y0), (x1, y1) = s.points
            shape_svg.append(
                f'<rect x="{x0:.1f}" y="{min(y0, y1):.1f}" width="{x1 - x0:.1f}" '
                f'height="{abs(y1 - y0):.1f}" fill="{s.color}"/>'
            )
        elif s.kind == "line":
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in s.points)
            shape_svg.append(
                f'<polyline points="{pts}" fill="none" stroke="{s.color}" '
                f'stroke-width="{s.width}"/>'
            )
        else:
            ((x, y),) = s.points
            shape_svg.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="{s.size}" text-anchor="{s.anchor}" '
                f'fill="{s.color}">{html.escape(s.text)}</text>'
            )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" class="chart">'
        f'<title id="{ident}-title">{html.escape(chart.title)}</title>'
        f'<desc id="{ident}-desc">{html.escape(chart.describe())}</desc>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{BACKGROUND}"/>'
        + "".join(shape_svg)
        + "</svg>"
    )


def png(chart: Chart) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    scale = 2  # drawn at twice the size: sharp on high-density screens and in print
    image = Image.new("RGB", (WIDTH * scale, HEIGHT * scale), BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}

    def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if size not in fonts:
            try:
                fonts[size] = ImageFont.truetype(str(FONT), size * scale)
            except OSError:
                fonts[size] = ImageFont.load_default(size * scale)
        return fonts[size]

    for s in layout(chart).shapes:
        pts = [(x * scale, y * scale) for x, y in s.points]
        if s.kind == "rect":
            (x0, y0), (x1, y1) = pts
            draw.rectangle([x0, min(y0, y1), x1, max(y0, y1)], fill=s.color)
        elif s.kind == "line":
            draw.line(pts, fill=s.color, width=max(1, round(s.width * scale)), joint="curve")
        else:
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[s.anchor]
            draw.text(pts[0], s.text, fill=s.color, font=font(s.size), anchor=anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
