"""The scripts the static pages and slides load, from npm packages, copied next to the pages.

``make web-assets`` installs the exact versions of ``web/package.json`` (locked in
``web/package-lock.json``) into ``build/web/node_modules`` with ``npm ci``; nothing of it is
committed. :func:`install` copies the files a page needs into ``<out>/_static/`` and returns
the relative URLs nbconvert is given, so pages and decks work with no network:

- MathJax 2.7 (the version nbconvert's templates configure) typesets the formulas;
- require.js and the widgets' HTML manager draw stored widget state (the quiz's questions);
- reveal.js runs the slides;
- the course's own ``static/deck.js`` lays each deck out (one row of slides, each fitting the
  screen) and starts reveal.js; ``static/deck.css`` and ``static/page.css`` style decks and
  pages.

:func:`exporter_settings` gives an nbconvert exporter those URLs and templates that (a) give
every image its alternative text from the output's metadata (``image/png`` → ``alt``) and (b)
load nothing from the web (the templates' Mermaid tags are dropped; no notebook has a diagram).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers.course import cells

DEFAULT_NODE_MODULES = Path("build/web/node_modules")
STATIC = "_static"

# What each page needs from each package: (package folder, paths inside it).
_MATHJAX = (
    "mathjax",
    [
        "MathJax.js",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax/input/TeX",
        "jax/output/CommonHTML",
        "jax/element",
        "fonts/HTML-CSS/TeX/woff",
    ],
)
_REQUIRE = ("requirejs", ["require.js"])
_WIDGETS = ("@jupyter-widgets/html-manager", ["dist"])
# Source maps, and the widget manager's builds the pages do not load (embed-amd.js is).
_SKIP = ("*.map", "*.md", "embed.js", "libembed-amd.js")
_REVEAL = ("reveal.js", ["dist/reveal.js", "dist/reveal.css", "dist/theme", "plugin/notes"])
# The course's own scripts and styles (helpers/course/static), copied beside the npm packages'.
COURSE_FILES = Path(__file__).parent / "static"
_COURSE_DECK = ["deck.js", "deck.css"]
_COURSE_PAGE = ["page.css"]

# Alternative text on every image, from the output's metadata, and the sizes of the figure's
# smallest text (helpers.plotting.figure_text_px) for the browser test; the rest as nbconvert has.
_ALT_BLOCK = """
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- set text_px = output | get_metadata('text_px', 'image/png') -%}
{%- set attributes = ('alt="' ~ (alt | escape_html) ~ '" ') if alt else '' -%}
{%- if text_px -%}
{%- set attributes = attributes ~ "data-text-px='" ~ (text_px | json_dumps | escape_html) ~ "' " -%}
{%- endif -%}
{{ super() | replace('<img ', '<img ' ~ attributes, 1) }}
{% endblock data_png %}
"""
# The deck's start-up script, in place of nbconvert's (which also needed jQuery, stepped through
# two levels of slides and let tall slides scroll): _static/course/deck.js lays the slides out in
# one row, splits those taller than the deck, then starts reveal.js; deck.css sets the sizes.
_DECK_BLOCKS = """
{% block html_head_js_jquery %}{% endblock html_head_js_jquery %}
{% block html_head_css %}
<link rel="stylesheet" href="STATIC/course/deck.css">
{% endblock html_head_css %}
{% block footer_js %}
<script src="STATIC/course/deck.js"></script>
<script>
courseDeck.start({
  reveal: "{{ resources.reveal.url_prefix }}/dist/reveal.js",
  notes: "{{ resources.reveal.url_prefix }}/plugin/notes/notes.js",
  transition: "{{ resources.reveal.transition }}",
  slideNumber: "{{ resources.reveal.number }}",
});
</script>
{% endblock footer_js %}
""".replace("STATIC", STATIC)
# A cell whose output settles a quiz question (helpers.course.cells.quiz_answers) shows it folded,
# as the quiz's own answers are: the reader opens it after answering.
_PAGE_BLOCKS = """
{% block html_head_css %}
<link rel="stylesheet" href="STATIC/course/page.css">
{% endblock html_head_css %}
{% block output_group %}
{%- if cell | quiz_answers -%}
<details class="course-answer"><summary>Its output answers a quiz question above: open it once
you have answered</summary>
{{ super() }}
</details>
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock output_group %}
""".replace("STATIC", STATIC)
TEMPLATES = {
    "course_lab.html.j2": "{%- extends 'lab/index.html.j2' -%}\n"
    + _ALT_BLOCK
    + "{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}\n"
    + _PAGE_BLOCKS,
    "course_reveal.html.j2": "{%- extends 'reveal/index.html.j2' -%}\n"
    + _ALT_BLOCK
    + "{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}\n"
    + _DECK_BLOCKS,
}


def _copy(source: Path, target: Path):
    if source.is_dir():
        shutil.copytree(source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_SKIP))
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def install(out_dir, *, node_modules=None, reveal: bool = False) -> dict:
    """Copy the scripts into ``out_dir/_static`` and return their URLs relative to ``out_dir``.

    Args:
        out_dir: the folder the pages are written to.
        node_modules: where ``npm ci`` put the packages (default ``build/web/node_modules``).
        reveal: copy reveal.js too (for slides).

    Returns:
        dict with ``mathjax``, ``require``, ``widgets`` and, with ``reveal``, ``reveal``.

    Raises:
        FileNotFoundError: a package is not installed (the message says to run
            ``make web-assets``).
    """
    node_modules = Path(node_modules) if node_modules is not None else DEFAULT_NODE_MODULES
    static = Path(out_dir) / STATIC
    packages = [_MATHJAX, _REQUIRE, _WIDGETS] + ([_REVEAL] if reveal else [])
    for package, parts in packages:
        for part in parts:
            source = node_modules / package / part
            if not source.exists():
                raise FileNotFoundError(
                    f"{source} is missing: run `make web-assets` (npm ci of web/package.json "
                    "into build/web) or pass node_modules"
                )
            _copy(source, static / package / part)
    for name in _COURSE_DECK if reveal else _COURSE_PAGE:
        _copy(COURSE_FILES / name, static / "course" / name)
    urls = {
        "mathjax": f"{STATIC}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
        "require": f"{STATIC}/requirejs/require.js",
        "widgets": f"{STATIC}/@jupyter-widgets/html-manager/dist/embed-amd.js",
    }
    if reveal:
        urls["reveal"] = f"{STATIC}/reveal.js"
    return urls


def exporter_settings(urls: dict, *, slides: bool = False) -> dict:
    """Keyword arguments for nbconvert's HTMLExporter/SlidesExporter: local URLs, our template."""
    import jinja2

    return {
        "mathjax_url": urls["mathjax"],
        "require_js_url": urls["require"],
        "widget_renderer_url": urls["widgets"],
        "extra_loaders": [jinja2.DictLoader(TEMPLATES)],
        "filters": {"quiz_answers": cells.quiz_answers},  # the page template's one reading of it
        "template_file": "course_reveal.html.j2" if slides else "course_lab.html.j2",
    }
