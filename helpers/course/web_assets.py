"""The scripts the static pages and slides load, from npm packages, copied next to the pages.

``make web-assets`` installs the exact versions of ``web/package.json`` (locked in
``web/package-lock.json``) into ``build/web/node_modules`` with ``npm ci``; nothing of it is
committed. :func:`install` copies the files a page needs into ``<out>/_static/`` and returns
the relative URLs nbconvert is given, so pages and decks work with no network:

- MathJax 2.7 (the version nbconvert's templates configure) typesets the formulas;
- require.js and the widgets' HTML manager draw stored widget state (the quiz's questions);
- reveal.js runs the slides, jQuery makes their tall slides scroll.

:func:`exporter_settings` gives an nbconvert exporter those URLs and templates that (a) give
every image its alternative text from the output's metadata (``image/png`` → ``alt``) and (b)
load nothing from the web (the templates' Mermaid tags are dropped; no notebook has a diagram).
"""

from __future__ import annotations

import shutil
from pathlib import Path

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

# Alternative text on every image, from the output's metadata; the rest as nbconvert has it.
_ALT_BLOCK = """
{% block data_png scoped %}
{%- set alt = output | get_metadata('alt', 'image/png') -%}
{%- if alt -%}
{{ super() | replace('<img ', '<img alt="' ~ (alt | escape_html) ~ '" ', 1) }}
{%- else -%}
{{ super() }}
{%- endif -%}
{% endblock data_png %}
"""
# The deck's start-up script, in place of nbconvert's (which also needed jQuery): reveal.js with
# the notes plugin, and after every slide change MathJax redraws the slide shown and *then* a
# slide taller than the deck's height gets exactly that height and scrolls. (nbconvert's script
# makes a slide scroll only on a slide change, so never the one a deck opens on, measures it
# before MathJax has redrawn it, and compares it with the window, not the scaled slide: tall
# slides ran off the bottom.)
_DECK_SCRIPT = """
{% block html_head_js_jquery %}{% endblock html_head_js_jquery %}
{% block html_head_css %}
<style>
/* On a slide: no In/Out prompts and 14px code (a 100-character line, the project's limit, then
   fits the 960px slide), code that is still too wide scrolls sideways instead of being cut off,
   and printed output keeps its columns (nbconvert's style wraps it anywhere, even inside a
   number). */
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt { display: none; }
.reveal .jp-InputArea-editor pre, .reveal .jp-OutputArea-output pre { font-size: 14px !important; }
.reveal .jp-InputArea-editor { overflow-x: auto; }
.reveal .jp-InputArea-editor pre { box-sizing: border-box; }  /* its padding overflowed 11px */
.reveal .jp-OutputArea-output pre { white-space: pre; word-break: normal; overflow-x: auto; }
</style>
{% endblock html_head_css %}
{% block footer_js %}
<script>
require(
  {waitSeconds: 15},
  ["{{ resources.reveal.url_prefix }}/dist/reveal.js",
   "{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"],
  function (Reveal, RevealNotes) {
    Reveal.initialize({
      controls: true,
      progress: true,
      history: true,
      transition: "{{ resources.reveal.transition }}",
      slideNumber: "{{ resources.reveal.number }}",
      plugins: [RevealNotes],
      width: {{ resources.reveal.width | default('960', true) }},
      height: {{ resources.reveal.height | default('700', true) }},
    });
    function fitTallSlide() {
      var slide = Reveal.getCurrentSlide(), height = Reveal.getConfig().height;
      if (!slide) return;
      slide.style.height = "";
      slide.style.overflowY = "";
      if (slide.scrollHeight > height) {
        slide.style.height = height + "px";
        slide.style.overflowY = "auto";
      }
      Reveal.layout();  // centre it again: a slide of the deck's height starts at the top
    }
    function redraw() {
      var slide = Reveal.getCurrentSlide();
      if (window.MathJax && MathJax.Hub) {
        MathJax.Hub.Queue(["Rerender", MathJax.Hub, slide], fitTallSlide);
      } else {
        fitTallSlide();
      }
    }
    Reveal.on("ready", redraw);
    Reveal.on("slidechanged", redraw);
    // reveal.js does not scroll to a fragment it shows: an exercise's solution, below a long
    // task, appeared under the bottom edge. Bring it up to the top of the slide.
    Reveal.on("fragmentshown", function (event) {
      var slide = Reveal.getCurrentSlide();
      var box = slide.getBoundingClientRect(), shown = event.fragment.getBoundingClientRect();
      if (shown.bottom > box.bottom || shown.top < box.top) {
        slide.scrollTop += (shown.top - box.top) / Reveal.getScale();
      }
    });
  }
);
</script>
{% endblock footer_js %}
"""
TEMPLATES = {
    "course_lab.html.j2": "{%- extends 'lab/index.html.j2' -%}\n"
    + _ALT_BLOCK
    + "{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}\n",
    "course_reveal.html.j2": "{%- extends 'reveal/index.html.j2' -%}\n"
    + _ALT_BLOCK
    + "{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}\n"
    + _DECK_SCRIPT,
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
        "template_file": "course_reveal.html.j2" if slides else "course_lab.html.j2",
    }
