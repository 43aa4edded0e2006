import ipywidgets as widgets
import matplotlib
import numpy as np
import pytest

from helpers.plotting import figure_explorer, plot_learning_curves, show_digits

matplotlib.use("Agg")


def test_show_digits_accepts_both_layouts():
    images = np.random.default_rng(0).random((3, 8, 8))
    fig_images = show_digits(images, [1, 2, 3], ncols=2)
    fig_columns = show_digits(images.reshape(3, 64).T, [1, 2, 3], predictions=[1, 0, 3])
    assert len(fig_images.axes) == 4 and len(fig_columns.axes) == 10
    assert fig_columns.axes[1].get_title() == "2→0"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((2, 7, 7)), "labels": [0, 1]}, "shape"),
        ({"images": np.zeros((2, 8, 8)), "labels": [0]}, "labels must have shape"),
        ({"images": np.zeros((2, 8, 8)), "labels": [0, 1], "predictions": [0]}, "predictions"),
        ({"images": np.zeros((2, 8, 8)), "labels": [0, 1], "ncols": 0}, "ncols"),
    ],
)
def test_show_digits_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        show_digits(**kwargs)


def test_plot_learning_curves_draws_one_line_per_curve():
    ax = plot_learning_curves({"a": [3, 2, 1], "b": [1, 1, 1]}, xlabel="x", ylabel="y", title="t")
    assert len(ax.lines) == 2 and ax.get_legend() is not None
    with pytest.raises(ValueError, match="non-empty dict"):
        plot_learning_curves({}, xlabel="x", ylabel="y", title="t")


def test_figure_explorer_redraws_when_a_control_moves():
    calls = []

    def draw(fig, level):
        calls.append(level)
        fig.subplots().plot([0, 1], [0, level])

    slider = widgets.FloatSlider(value=1.0, min=0, max=5)
    box = figure_explorer(draw, {"level": slider})
    image = box.children[-1]
    first = bytes(image.value)
    assert first.startswith(b"\x89PNG")
    slider.value = 4.0
    assert calls == [1.0, 4.0]
    assert bytes(image.value) != first


@pytest.mark.parametrize(
    ("draw", "controls", "error"),
    [
        (None, {"a": widgets.IntSlider()}, TypeError),
        (lambda fig: None, {}, ValueError),
        (lambda fig, a: None, {"a": 3}, TypeError),
    ],
)
def test_figure_explorer_rejects_bad_arguments(draw, controls, error):
    with pytest.raises(error):
        figure_explorer(draw, controls)
