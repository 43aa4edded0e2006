"""Shared code for the week-3 notebooks of "Improving Deep Neural Networks".

Importing this package does no work: TensorFlow, matplotlib and the data are loaded only by the
functions that need them, so NumPy-only lessons start fast.
"""

import os
import random
import sys

__version__ = "0.1.0"

# TensorFlow prints a start-up banner to stderr (oneDNN notice, CPU feature guard) that nbval
# would compare. Measured with TF 2.21: only both variables together, set before the first
# import, leave stderr empty. Turning oneDNN off also removes one source of CPU-to-CPU
# differences in the last digits.
TENSORFLOW_QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}

# One readable style for every figure in the set. Font sizes are set so that a figure shown at
# its own width on a slide (960 px wide, about 0.99 of that at 1280×720) has tick labels and
# legends of 16 px, above the 14 px readable from the back of a room: 12 pt at 100 dpi is 16.7
# px. Figure sizes stay matplotlib's: `<Figure size 640x400 …>` is output nbval compares.
_MATPLOTLIB_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "font.size": 12,
    "axes.titlesize": 14,
    "axes.labelsize": 13,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 12,
    "figure.titlesize": 15,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "image.cmap": "viridis",
}


def setup_notebook(seed: int = 0, *, tensorflow: bool = False):
    """Return a seeded ``numpy.random.Generator`` after preparing the notebook's environment.

    Call it in the first code cell, before anything imports TensorFlow. It
    - silences TensorFlow's C++ start-up logging (must happen before TensorFlow is imported),
    - seeds Python's ``random`` and NumPy's legacy global state (for third-party code that
      uses them; our own code takes the returned ``rng`` explicitly),
    - seeds Keras and turns on TensorFlow op determinism, but only when ``tensorflow=True`` or
      TensorFlow is already imported, so NumPy-only lessons never pay its import (~3 s),
    - applies the set's matplotlib style, and gives every figure the notebook shows
      alternative text read from its titles and labels (``describe_figures_on_display``).

    Args:
        seed: non-negative integer seed.
        tensorflow: import TensorFlow/Keras now and seed them.

    Returns:
        ``numpy.random.Generator`` seeded with ``seed``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not isinstance(tensorflow, bool):
        raise TypeError(f"tensorflow must be True or False, got {tensorflow!r}")

    os.environ.update(TENSORFLOW_QUIET_ENV)

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 -- legacy global state, seeded for third-party code
    if tensorflow or "tensorflow" in sys.modules or "keras" in sys.modules:
        seed_tensorflow(seed)

    import matplotlib.pyplot as plt  # after the inline backend is active, so our style wins

    plt.rcParams.update(_MATPLOTLIB_STYLE)
    describe_figures_on_display()
    return np.random.default_rng(seed)


def describe_figures_on_display() -> bool:
    """Make every matplotlib figure the notebook shows carry alternative text with its PNG.

    IPython's PNG formatter for figures is wrapped so it also returns
    ``{"alt": describe_figure(fig), "text_px": figure_text_px(fig)}`` as the output's metadata:
    nbconvert's pages (and any viewer that reads it) give the image that text, and the slides'
    browser test reads how large its smallest text is. The picture itself is unchanged. Returns
    False outside IPython or when no PNG formatter for figures is registered (nothing to wrap).
    """
    ipython = sys.modules.get("IPython")  # loaded by any IPython kernel; never imported here
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    backend = matplotlib.get_backend()
    if "inline" in backend:
        # pyplot loads its backend on the first figure, and the inline backend then registers
        # its own PNG formatter over ours: load it now, so the wrapper below stays in place.
        plt.switch_backend(backend)
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        printer = formatter.lookup_by_type(Figure)
    except KeyError:
        return False
    printer = getattr(printer, "__wrapped__", printer)  # called twice: wrap once

    def png_with_alt_text(fig):
        from helpers.plotting import describe_figure, figure_text_px, picture_metadata

        data = printer(fig)  # draws the figure: its tick labels are then final
        if data is None:
            return None
        return data, picture_metadata(describe_figure(fig), figure_text_px(fig))

    png_with_alt_text.__wrapped__ = printer
    formatter.for_type(Figure, png_with_alt_text)
    return True


def seed_tensorflow(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow through Keras and make TensorFlow ops deterministic.

    Seeded TensorFlow is bit-identical only on the same hardware: print its metrics rounded.
    """
    os.environ.update(TENSORFLOW_QUIET_ENV)
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
