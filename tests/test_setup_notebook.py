import json
import subprocess
import sys

import pytest

import helpers


def _run(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: import state and environment start clean."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )


def test_numpy_lesson_does_not_import_tensorflow():
    out = _run(
        "import sys, json, helpers; rng = helpers.setup_notebook(3);"
        "print(json.dumps(['tensorflow' in sys.modules, 'keras' in sys.modules]))"
    )
    assert json.loads(out.stdout) == [False, False]


def test_returned_generator_and_global_state_are_seeded():
    code = (
        "import json, random, numpy as np, helpers; rng = helpers.setup_notebook(7);"
        "print(json.dumps([rng.random(), random.random(), np.random.rand()]))"
    )
    first, second = json.loads(_run(code).stdout), json.loads(_run(code).stdout)
    assert first == second
    other = json.loads(_run(code.replace("setup_notebook(7)", "setup_notebook(8)")).stdout)
    assert other[0] != first[0]


@pytest.mark.slow
def test_tensorflow_is_seeded_and_its_startup_banner_silenced():
    code = (
        "import helpers; helpers.setup_notebook(1, tensorflow=True);"
        "import tensorflow as tf; print(float(tf.random.uniform([])))"
    )
    first, second = _run(code), _run(code)
    assert first.stdout == second.stdout
    # nbval compares stderr: a banner here would break every TensorFlow notebook's replay
    assert first.stderr == ""


def test_matplotlib_style_is_applied():
    helpers.setup_notebook(0)
    import matplotlib.pyplot as plt

    assert plt.rcParams["axes.grid"] is True
    assert plt.rcParams["axes.spines.top"] is False
    # tick labels and legends of 16.7 px in a 100-dpi picture (14 px needed on a projected
    # slide); the figure size stays what nbval's "<Figure size 640x400 …>" text was made with
    assert plt.rcParams["xtick.labelsize"] * plt.rcParams["figure.dpi"] / 72 > 16
    assert plt.rcParams["legend.fontsize"] * plt.rcParams["figure.dpi"] / 72 > 16
    fig = plt.figure()
    assert repr(fig) == "<Figure size 640x400 with 0 Axes>"
    plt.close(fig)


@pytest.mark.parametrize("seed", [-1, -100])
def test_negative_seed_is_a_value_error(seed):
    with pytest.raises(ValueError, match="seed must be >= 0"):
        helpers.setup_notebook(seed)


@pytest.mark.parametrize("seed", [1.5, "0", None, True])
def test_seed_of_wrong_type_is_a_type_error(seed):
    with pytest.raises(TypeError, match="seed must be an int"):
        helpers.setup_notebook(seed)


def test_tensorflow_flag_must_be_a_bool():
    with pytest.raises(TypeError, match="tensorflow must be True or False"):
        helpers.setup_notebook(0, tensorflow="yes")


def test_figures_shown_in_ipython_carry_alt_text():
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    from helpers import describe_figures_on_display
    from helpers.plotting import figure_text_px

    assert not describe_figures_on_display()  # no IPython shell: nothing to wrap
    shell = InteractiveShell.instance()
    try:
        png = shell.display_formatter.formatters["image/png"]
        png.for_type(Figure, lambda fig: "iVBORw0KGgo=")  # what the inline backend registers
        assert describe_figures_on_display() and describe_figures_on_display()  # wraps once
        fig, ax = plt.subplots()
        ax.set(title="Cost", xlabel="epoch")
        data, metadata = png(fig)
        assert (data, metadata["alt"]) == ("iVBORw0KGgo=", "A panel titled 'Cost'; x: epoch.")
        assert metadata["text_px"] == figure_text_px(fig)  # for the slides' readability check
        assert set(metadata["text_px"]) == {"tick labels", "other text"}
        plt.close(fig)
    finally:
        InteractiveShell.clear_instance()
