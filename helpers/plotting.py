"""Figures that two or more notebooks draw. Each returns the matplotlib ``Figure`` it made."""

import re
import typing

import numpy as np


def show_digits(images, labels, predictions=None, *, ncols: int = 10, title: str | None = None):
    """Draw a gallery of 8×8 digits, each titled with its label (and prediction, if given).

    Args:
        images: array of shape ``(m, 8, 8)``, or ``(64, m)`` in the course's column layout.
        labels: integer labels of shape ``(m,)``.
        predictions: optional integer predictions of shape ``(m,)``; wrong ones are titled in red.
        ncols: images per row.
        title: figure title.

    Returns:
        The ``matplotlib.figure.Figure``.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images, dtype=float)
    if images.ndim == 2 and images.shape[0] == 64:
        images = images.T.reshape(-1, 8, 8)
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise ValueError(f"images must have shape (m, 8, 8) or (64, m), got {images.shape}")
    labels = np.asarray(labels)
    m = len(images)
    if labels.shape != (m,):
        raise ValueError(f"labels must have shape ({m},), got {labels.shape}")
    if predictions is not None:
        predictions = np.asarray(predictions)
        if predictions.shape != (m,):
            raise ValueError(f"predictions must have shape ({m},), got {predictions.shape}")
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    if m == 0:
        raise ValueError("images is empty: nothing to show")

    nrows = -(-m // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(ncols * 1.0, nrows * 1.25 + (0.4 if title else 0)), squeeze=False
    )
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:m]):
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=1)
        if predictions is None:
            ax.set_title(str(labels[i]), fontsize="medium")
        else:
            wrong = predictions[i] != labels[i]
            colour = "tab:red" if wrong else "black"
            ax.set_title(f"{labels[i]}→{predictions[i]}", fontsize="medium", color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_learning_curves(
    curves: dict, *, xlabel: str, ylabel: str, title: str, ax=None, log_y: bool = False
):
    """Plot one line per entry of ``curves`` (label → sequence of values) on shared axes.

    Returns:
        The ``matplotlib.axes.Axes`` drawn on.
    """
    import matplotlib.pyplot as plt

    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict mapping a label to a sequence")
    if ax is None:
        _, ax = plt.subplots()
    for label, values in curves.items():
        values = np.asarray(values, dtype=float)
        if values.ndim != 1:
            raise ValueError(f"curve {label!r} must be 1-D, got shape {values.shape}")
        ax.plot(np.arange(1, len(values) + 1), values, label=str(label))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if log_y:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    return ax


def describe_figure(fig) -> str:
    """Return alternative text for ``fig``: what it shows, read from its titles, axes and legends.

    Screen readers and pages without the picture read this instead of the image, so it names
    the figure's title, then per panel the kind of plot, its title, the axis labels (with "log
    scale" where the axis is logarithmic) and the legend's entries. A figure may carry its own
    text instead: ``fig.alt_text = "..."`` (see :func:`set_alt_text`).

    Args:
        fig: a ``matplotlib.figure.Figure``.

    Returns:
        One or more sentences, never empty.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    own = getattr(fig, "alt_text", None)
    if isinstance(own, str) and own.strip():
        return own.strip()
    sentences = []
    suptitle = fig._suptitle.get_text().strip() if fig._suptitle is not None else ""
    panels = [ax for ax in fig.axes if (ax.get_visible() and ax.axison) or ax.images]
    if suptitle:
        sentences.append(f"Figure: {suptitle}.")
    images = [ax for ax in panels if ax.images and not ax.axison]
    if len(images) > 3 and len(images) == len(panels):  # a gallery, e.g. show_digits
        titles = [ax.get_title().strip() for ax in images if ax.get_title().strip()]
        shown = ", ".join(titles[:20]) + (", …" if len(titles) > 20 else "")
        sentences.append(
            f"A gallery of {len(images)} images" + (f", titled {shown}." if titles else ".")
        )
    else:
        described = [text for text in map(_describe_axes, panels) if text]
        sentences.extend(described[:6])
        if len(described) > 6:
            sentences.append(f"…and {len(described) - 6} more panels.")
    return plain_math(" ".join(sentences)) or "A figure without titles or labels."


def plain_math(text: str) -> str:
    """Matplotlib's ``$…$`` maths in ``text`` as plain words a screen reader can say.

    ``$w_1$`` → ``w1``, ``$z_{norm}$`` → ``z norm``, ``$a^{[1]}$`` → ``a[1]``,
    ``$\\sigma^2$`` → ``σ²``.
    """
    import unicodedata

    def letter(match):
        name = match.group(1)
        try:
            return unicodedata.lookup(f"GREEK SMALL LETTER {name.upper()}")
        except KeyError:
            return name

    def words(match):
        maths = re.sub(r"\\([A-Za-z]+)", letter, match.group(1))
        maths = re.sub(r"\^\{?2\}?", "²", maths)
        maths = re.sub(r"_\{([^}]{2,})\}", r" \1", maths)  # a word as subscript: "z norm"
        return re.sub(r"[_^{}]", "", maths)

    return re.sub(r"\$([^$]*)\$", words, text)


# What each kind of plot is called, the main kind first; the others are said as "with …".
_KIND_NAMES = {
    "image": ("an image", "an image"),
    "contour": ("a contour plot", "contours"),
    "bar": ("a bar chart", "bars"),
    "scatter": ("a scatter plot", "scatter points"),
    "line": ("a line plot", "lines"),
    "band": ("a plot of shaded bands", "shaded bands"),
    "rectangle": ("a plot of rectangles", "rectangles"),
}


def chart_kinds(ax) -> list[str]:
    """Return the kinds of plot drawn on ``ax``, read from its artists, in ``_KIND_NAMES`` order.

    ``"image"`` (imshow, pcolormesh), ``"contour"``, ``"bar"`` (bar, barh, hist), ``"scatter"``
    (scatter, or a line drawn with markers only), ``"line"`` (plot, axhline, vlines, a step
    histogram's outline), ``"band"`` (fill_between), ``"rectangle"`` (a patch that is not a bar).
    """
    from matplotlib.collections import (
        LineCollection,
        PathCollection,
        PolyCollection,
        QuadMesh,
    )
    from matplotlib.container import BarContainer
    from matplotlib.contour import ContourSet
    from matplotlib.patches import Polygon, Rectangle

    found = set()
    if ax.images or any(isinstance(c, QuadMesh) for c in ax.collections):
        found.add("image")
    bars = {id(p) for c in ax.containers if isinstance(c, BarContainer) for p in c.patches}
    if bars:
        found.add("bar")
    for collection in ax.collections:
        if isinstance(collection, ContourSet):
            found.add("contour")
        elif isinstance(collection, PathCollection):
            found.add("scatter")
        elif isinstance(collection, LineCollection):
            found.add("line")
        elif isinstance(collection, PolyCollection):
            found.add("band")
    for line in ax.lines:
        no_line = line.get_linestyle() in ("None", "none", "", " ")
        markers = line.get_marker() not in (None, "None", "none", "", " ")
        found.add("scatter" if no_line and markers else "line")
    for patch in ax.patches:
        if id(patch) in bars:
            continue
        if isinstance(patch, Rectangle):
            found.add("rectangle")
        elif isinstance(patch, Polygon):
            found.add("line" if not patch.get_fill() else "band")
    return [kind for kind in _KIND_NAMES if kind in found]


def _describe_axes(ax) -> str:
    kinds = chart_kinds(ax)
    if kinds:
        main, *others = kinds
        kind = _KIND_NAMES[main][0]
        if others:
            extras = [_KIND_NAMES[k][1] for k in others]
            joined = (
                extras[0] if len(extras) == 1 else ", ".join(extras[:-1]) + " and " + extras[-1]
            )
            kind += " with " + joined
    else:
        kind = "a panel"
    title = ax.get_title().strip() or ax.get_title(loc="left").strip()
    parts = [kind[0].upper() + kind[1:] + (f" titled '{title}'" if title else "")]
    for name, label, scale in (
        ("x", ax.get_xlabel(), ax.get_xscale()),
        ("y", ax.get_ylabel(), ax.get_yscale()),
    ):
        label = label.strip()
        if label:
            log = " (log scale)" if scale == "log" and "log" not in label else ""
            parts.append(f"{name}: {label}{log}")
    legend = ax.get_legend()
    if legend is not None:
        entries = [t.get_text() for t in legend.get_texts() if t.get_text().strip()]
        if entries:
            parts.append("legend: " + ", ".join(entries))
    if len(parts) == 1 and not title:
        return ""
    return "; ".join(parts) + "."


def figure_text_px(fig, dpi=None) -> dict:
    """Return the smallest font size, in pixels of ``fig``'s picture, of each kind of text on it.

    The kinds are ``"tick labels"``, ``"legend"`` and ``"other text"`` (titles, axis labels,
    annotations); a kind the figure does not show is left out. A slide or page shows the
    picture scaled by (width shown / width of the picture): that factor times these sizes is
    what a reader sees. Text of hidden axes (``ax.axis("off")``) and empty text do not count.

    Args:
        fig: a ``matplotlib.figure.Figure``.
        dpi: the resolution the picture is saved at (default: the figure's own, as IPython's
            inline backend and :func:`figure_explorer` save it).
    """
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    dpi = fig.dpi if dpi is None else dpi
    hidden, ticks, legend = set(), set(), set()
    for ax in fig.axes:
        axes = [a for a in (getattr(ax, "xaxis", None), getattr(ax, "yaxis", None)) if a]
        if not ax.get_visible():
            hidden.update(map(id, ax.findobj(Text)))
            continue
        for axis in axes:
            if not ax.axison or not axis.get_visible():
                hidden.update(map(id, axis.findobj(Text)))
            ticks.update(map(id, axis.get_ticklabels(which="both")))
    for owner in [*fig.legends, *(ax.get_legend() for ax in fig.axes)]:
        if owner is not None:
            legend.update(map(id, [*owner.get_texts(), owner.get_title()]))
    sizes = {}
    for text in fig.findobj(Text):
        if id(text) in hidden or not text.get_visible() or not text.get_text().strip():
            continue
        kind = (
            "tick labels" if id(text) in ticks else "legend" if id(text) in legend else "other text"
        )
        px = round(text.get_fontsize() * dpi / 72, 1)
        sizes[kind] = min(sizes.get(kind, px), px)
    return sizes


def picture_metadata(alt: str, text_px: dict) -> dict:
    """The ``image/png`` output metadata of a figure: its alternative text and, when it has
    text, its smallest font sizes (``figure_text_px``) for the slides' readability check."""
    return {"alt": alt, "text_px": text_px} if text_px else {"alt": alt}


def set_alt_text(fig, text: str):
    """Return ``fig`` after giving it its own alternative text (instead of one from its labels)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty description of the figure")
    describe_figure(fig)  # validates fig
    fig.alt_text = text.strip()
    return fig


def figure_explorer(draw, controls: dict, *, figsize=(6.4, 4.0)):
    """Return a widget: ``controls`` above a picture of ``draw(fig, **values)``, redrawn live.

    The figure is rendered to PNG into an ``ipywidgets.Image`` rather than shown through an
    ``Output`` widget: nbval does not route output into ``Output`` widgets the way JupyterLab
    does, so that design would replay differently from how it was stored.

    Displayed, the widget's output carries a static copy of the picture as it is then (its
    initial state, in a stored notebook) as ``image/png`` beside the widget view, with
    alternative text: JupyterLab shows the live widget, viewers without a kernel (nbviewer, the
    repository's web page, ``make html``, the slides) show the picture.

    Args:
        draw: ``draw(fig, **values)`` draws on a fresh ``matplotlib.figure.Figure``; ``values``
            maps each control's name to its current value.
        controls: name → ipywidgets control with a ``value`` (slider, dropdown, …).
        figsize: figure size in inches.
    """
    import io

    import ipywidgets as widgets
    from matplotlib.figure import Figure

    if not callable(draw):
        raise TypeError(f"draw must be callable, got {type(draw).__name__}")
    if not isinstance(controls, dict) or not controls:
        raise ValueError("controls must be a non-empty dict mapping a name to a widget")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise TypeError(f"control {name!r} must be an ipywidgets control with a value")

    image = widgets.Image(format="png")
    box = _explorer_class()([*controls.values(), image])

    def render(_change=None):
        fig = Figure(figsize=figsize, layout="tight")  # not pyplot: nothing else displays it
        draw(fig, **{name: control.value for name, control in controls.items()})
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        box.alt_text = describe_figure(fig)
        box.text_px = figure_text_px(fig)
        image.value = buffer.getvalue()

    for control in controls.values():
        control.observe(render, names="value")
    render()
    return box


_EXPLORER = None


def _explorer_class():
    """The widget class of figure_explorer, made on first use (ipywidgets is imported lazily)."""
    global _EXPLORER
    if _EXPLORER is None:
        import base64

        import ipywidgets as widgets

        class FigureExplorer(widgets.VBox):
            """A VBox of controls and an Image whose display adds the picture as image/png."""

            alt_text = "An interactive figure."
            text_px: typing.ClassVar[dict] = {}  # until render() measures the picture

            def _repr_mimebundle_(self, **kwargs):
                data = super()._repr_mimebundle_(**kwargs)
                if data is None:  # closed
                    return None
                picture = bytes(self.children[-1].value)
                data["image/png"] = base64.b64encode(picture).decode("ascii")
                return data, {"image/png": picture_metadata(self.alt_text, self.text_px)}

        _EXPLORER = FigureExplorer
    return _EXPLORER
