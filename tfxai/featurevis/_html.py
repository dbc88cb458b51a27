"""Static HTML pages of a feature-visualization gallery: no scripts, no external resources."""

import html
import urllib.parse

_CSS = """
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.5em; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.channels { display: flex; flex-wrap: wrap; gap: 0.5em; }
figure { margin: 0; text-align: center; font-size: 0.8em; }
figure img { display: block; border: 1px solid #ddd; }
img.thumb { max-width: 480px; height: auto; border: 1px solid #ddd; }
code { font-size: 0.95em; }
""".strip()


def esc(text):
    """HTML-escapes `text` (quotes included) after `str()`."""
    return html.escape(str(text), quote=True)


def href(path):
    """A relative link to `path` (forward slashes), URL-quoted and HTML-escaped."""
    return esc(urllib.parse.quote(str(path).replace("\\", "/")))


def value(number):
    """An objective value for display: 4 significant digits, or "n/a" for `None`."""
    return "n/a" if number is None else f"{number:.4g}"


def page(title, body):
    """A complete HTML document with inline CSS around `body` (already HTML)."""
    return (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def settings_table(settings):
    """A two-column table of a settings dict, in key order."""
    rows = "".join(
        f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>\n" for k, v in settings.items()
    )
    return f'<table class="settings">\n{rows}</table>'


def index_page(title, layers, settings):
    """The gallery's front page.

    Args:
        title: String, the page title.
        layers: List of dicts with keys `path`, `page`, `grid`, `shown`, `count`.
        settings: Dict of the settings shared by every layer.

    Returns:
        String, the HTML document.
    """
    rows = "".join(
        f'<tr><td><a href="{href(layer["page"])}"><code>{esc(layer["path"])}</code></a></td>'
        f"<td>{layer['shown']} of {layer['count']}</td>"
        f'<td><a href="{href(layer["page"])}"><img class="thumb" src="{href(layer["grid"])}" '
        f'alt="{esc(layer["path"])} channels"></a></td></tr>\n'
        for layer in layers
    )
    body = (
        f"<h1>{esc(title)}</h1>\n<table>\n<tr><th>layer</th><th>channels</th>"
        f"<th>grid</th></tr>\n{rows}</table>\n<h2>Settings</h2>\n"
        f"{settings_table(settings)}"
    )
    return page(title, body)


def layer_page(title, path, grid, channels, settings):
    """The page of one layer: every channel image with its number and objective value.

    Args:
        title: String, the gallery title (linked back to `index.html`).
        path: String, the layer path.
        grid: String, relative path of the layer's grid PNG.
        channels: List of `(channel, png, value)`: png relative to the page, value a
            float or `None`.
        settings: Dict of the render settings of this layer.

    Returns:
        String, the HTML document.
    """
    figures = "".join(
        f'<figure><a href="{href(png)}"><img src="{href(png)}" alt="channel {c}"></a>'
        f"<figcaption>channel {c}<br>value {esc(value(v))}</figcaption></figure>\n"
        for c, png, v in channels
    )
    body = (
        f'<p><a href="index.html">{esc(title)}</a></p>\n<h1><code>{esc(path)}</code></h1>\n'
        f'<p>{len(channels)} channels. <a href="{href(grid)}">All in one grid (PNG)</a>.</p>\n'
        f'<div class="channels">\n{figures}</div>\n<h2>Settings</h2>\n'
        f"{settings_table(settings)}"
    )
    return page(f"{path} - {title}", body)
