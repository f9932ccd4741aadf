"""Small server-side charts: a line over months as inline SVG (no JavaScript, no chart library, prints well)."""
import math

from markupsafe import Markup, escape

# The drawing's own units. A chart fills its column, a third of the page on a desktop and the whole width of a
# phone (some 320 to 360 pixels either way), so it is drawn about that wide and its text stays near 12 pixels on
# the screen; on a wider column (the annual summary) it stops at CSS's max-width (static/css/app.css).
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_BOTTOM, PAD_TOP = 360, 200, 40, 12, 30, 16
AXIS_FONT, LABEL_FONT = 14, 13
TEXT_COLOUR = "#595f66"  # 6.4:1 on white


def line_chart(labels, values, *, title, unit="", colour="#0d6efd"):
    """An SVG line of ``values`` (None: a gap) over ``labels``, with its maximum marked; Markup to embed."""
    points = [(index, value) for index, value in enumerate(values) if value is not None]
    top = max((value for _, value in points), default=0) or 1
    top_label = f"{_short(top)}{unit}"
    left = max(PAD_LEFT, round(text_width(top_label, AXIS_FONT)) + 10)  # the maximum's figure fits on the left
    step = (WIDTH - left - PAD_RIGHT) / max(len(labels) - 1, 1)
    every = label_stride(labels, step)

    def x(index):
        return left + index * step

    def y(value):
        return PAD_TOP + (HEIGHT - PAD_TOP - PAD_BOTTOM) * (1 - value / top)

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)}</title>',
             f'<line x1="{left}" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH - PAD_RIGHT}" '
             f'y2="{HEIGHT - PAD_BOTTOM}" stroke="#adb5bd"/>',
             f'<text x="{left - 6}" y="{PAD_TOP + 5}" text-anchor="end" font-size="{AXIS_FONT}" '
             f'fill="{TEXT_COLOUR}">{escape(top_label)}</text>',
             f'<text x="{left - 6}" y="{HEIGHT - PAD_BOTTOM}" text-anchor="end" font-size="{AXIS_FONT}" '
             f'fill="{TEXT_COLOUR}">0</text>']
    last = len(labels) - 1
    for index, label in enumerate(labels):
        # Every ``every``-th month from the latest back, so that the latest is always named.
        if (last - index) % every == 0:
            parts.append(f'<text x="{x(index):.1f}" y="{HEIGHT - 9}" text-anchor="middle" '
                         f'font-size="{LABEL_FONT}" fill="{TEXT_COLOUR}">{escape(label)}</text>')
    for run in _runs(points):
        path = " ".join(f"{x(index):.1f},{y(value):.1f}" for index, value in run)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    for index, value in points:
        parts.append(f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                     f'<title>{escape(labels[index])}: {escape(_short(value))}{escape(unit)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def text_width(text, size):
    """About how wide ``text`` is drawn at font ``size``: a Chinese character is as wide as the font is high, a
    digit, a Latin letter or a sign some 0.6 of it."""
    return sum(size if ord(char) > 0x2E80 else size * 0.6 for char in text)


def label_stride(labels, step):
    """Name every n-th point on the axis so that the names do not overlap (4 units keep two names apart)."""
    widest = max((text_width(label, LABEL_FONT) for label in labels), default=0)
    return max(1, math.ceil((widest + 4) / step)) if step else 1


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
