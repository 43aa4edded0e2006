"""Figures that two or more notebooks draw. Each returns the matplotlib ``Figure`` it made."""

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
            ax.set_title(str(labels[i]), fontsize=9)
        else:
            wrong = predictions[i] != labels[i]
            ax.set_title(
                f"{labels[i]}→{predictions[i]}", fontsize=9, color="tab:red" if wrong else "black"
            )
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


def figure_explorer(draw, controls: dict, *, figsize=(6.4, 4.0)):
    """Return a widget: ``controls`` above a picture of ``draw(fig, **values)``, redrawn live.

    The figure is rendered to PNG into an ``ipywidgets.Image`` rather than shown through an
    ``Output`` widget: nbval does not route output into ``Output`` widgets the way JupyterLab
    does, so that design would replay differently from how it was stored.

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

    def render(_change=None):
        fig = Figure(figsize=figsize, layout="tight")  # not pyplot: nothing else displays it
        draw(fig, **{name: control.value for name, control in controls.items()})
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        image.value = buffer.getvalue()

    for control in controls.values():
        control.observe(render, names="value")
    render()
    return widgets.VBox([*controls.values(), image])
