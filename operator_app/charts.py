"""Small server-side charts: a line over months as inline SVG (no JavaScript, no chart library, prints well)."""
from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 560, 180, 56, 28, 12


def line_chart(labels, values, *, title, unit="", colour="#0d6efd"):
    """An SVG line of ``values`` (None: a gap) over ``labels``, with its maximum marked; Markup to embed."""
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    top = max((value for _, value in points), default=0) or 1
    step = (WIDTH - PAD_LEFT - 10) / max(len(labels) - 1, 1)

    def x(index):
        return PAD_LEFT + index * step

    def y(value):
        return PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1 - value / top)

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<line x1="{PAD_LEFT}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD_BOTTOM}" '
             'stroke="#adb5bd"/>',
             f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" text-anchor="end" font-size="11" fill="#6c757d">'
             f'{escape(_short(top))}{escape(unit)}</text>',
             f'<text x="{PAD_LEFT - 6}" y="{HEIGHT - PAD_BOTTOM}" text-anchor="end" font-size="11" '
             'fill="#6c757d">0</text>']
    for index, label in enumerate(labels):
        if len(labels) <= 12 or index % 2 == 0:
            parts.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="10" '
                         f'fill="#6c757d">{escape(label)}</text>')
    for run in _runs(points):
        path = " ".join(f"{x(index):.1f},{y(value):.1f}" for index, value in run)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for index, value in points:
        parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                     f'<title>{escape(labels[index])}: {escape(_short(value))}{escape(unit)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _runs(points):
    """Consecutive points (no gap between their indexes) as separate lines."""
    runs, current = [], []
    for index, value in points:
        if current and index != current[-1][0] + 1:
            runs.append(current)
            current = []
        current.append((index, value))
    return runs + ([current] if current else [])


def _short(value):
    return f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
