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


def test_describe_figure_reads_titles_axes_scales_and_legends():
    import matplotlib.pyplot as plt

    from helpers.plotting import describe_figure, set_alt_text

    fig, (left, right) = plt.subplots(1, 2)
    left.plot([1, 2], [3, 4], label="with BN")
    left.plot([1, 2], [3, 5], label="without BN")
    left.set(title="Cost", xlabel="epoch", ylabel="cost", yscale="log")
    left.legend()
    right.imshow(np.zeros((3, 3)))
    right.set_title("confusion matrix")
    fig.suptitle("Training")
    assert describe_figure(fig) == (
        "Figure: Training. A line plot titled 'Cost'; x: epoch; y: cost (log scale); "
        "legend: with BN, without BN. An image titled 'confusion matrix'."
    )
    gallery = show_digits(np.zeros((12, 8, 8)), np.arange(12) % 10, title="Digits")
    assert describe_figure(gallery).startswith("Figure: Digits. A gallery of 12 images, titled 0")
    assert describe_figure(plt.figure()) == "A figure without titles or labels."
    assert describe_figure(set_alt_text(fig, "Two panels.")) == "Two panels."
    maths, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    ax.set(title="layer 2's $a^{[1]}$", xlabel="$z_{norm}$ of one unit", ylabel=r"$\sigma^2$")
    assert (
        describe_figure(maths)
        == "A line plot titled 'layer 2's a[1]'; x: z norm of one unit; y: σ²."
    )
    plt.close("all")
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        describe_figure("not a figure")
    with pytest.raises(ValueError, match="text must be"):
        set_alt_text(gallery, " ")


def test_an_explorer_displays_as_widget_and_static_picture_with_alt_text():
    import base64

    def draw(fig, level):
        fig.subplots().plot([0, 1], [0, level])
        fig.axes[0].set(title=f"level {level}", xlabel="x", ylabel="y")

    slider = widgets.FloatSlider(value=1.0, min=0, max=5)
    box = figure_explorer(draw, {"level": slider})
    data, metadata = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert base64.b64decode(data["image/png"]) == bytes(box.children[-1].value)
    assert metadata["image/png"]["alt"] == "A line plot titled 'level 1.0'; x: x; y: y."
    assert set(metadata["image/png"]["text_px"]) == {"tick labels", "other text"}
    slider.value = 2.0  # the static copy is the picture at the time of display
    data, metadata = box._repr_mimebundle_()
    assert base64.b64decode(data["image/png"]) == bytes(box.children[-1].value)
    assert "level 2.0" in metadata["image/png"]["alt"]


def _axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    return fig, ax


@pytest.mark.parametrize(
    ("draw", "kind"),
    [
        (lambda ax: ax.plot([0, 1], [1, 0]), "A line plot"),
        (lambda ax: ax.scatter([0, 1], [1, 0]), "A scatter plot"),
        (lambda ax: ax.plot([0, 1], [1, 0], "o"), "A scatter plot"),  # markers only
        (lambda ax: ax.bar([0, 1], [1, 2]), "A bar chart"),
        (lambda ax: ax.hist([1, 2, 2, 3]), "A bar chart"),
        (lambda ax: ax.imshow(np.eye(3)), "An image"),
        (lambda ax: ax.contour(np.eye(3)), "A contour plot"),
        (lambda ax: ax.contourf(np.eye(3)), "A contour plot"),
        # 01's search over a cost surface: contours, the trials, the best value's line
        (
            lambda ax: (ax.contourf(np.eye(3)), ax.scatter([0], [1]), ax.axvline(0.5)),
            "A contour plot with scatter points and lines",
        ),
        # 01's coarse-to-fine rounds: scattered trials inside the boxes they zoomed to
        (
            lambda ax: (
                ax.add_patch(__import__("matplotlib").patches.Rectangle((0, 0), 1, 1, fill=False)),
                ax.scatter([0.5], [0.5]),
            ),
            "A scatter plot with rectangles",
        ),
        # 05's temperature: the probabilities' bars and a reference line
        (lambda ax: (ax.bar([0, 1], [0.3, 0.7]), ax.axhline(0.5)), "A bar chart with lines"),
        (
            lambda ax: (ax.plot([0, 1]), ax.fill_between([0, 1], [0, 0], [1, 1])),
            "A line plot with shaded bands",
        ),
        (lambda ax: ax.hist([1, 2, 2, 3], histtype="step"), "A line plot"),
    ],
)
def test_alt_text_names_the_kind_of_chart_from_its_artists(draw, kind):
    import matplotlib.pyplot as plt

    from helpers.plotting import describe_figure

    fig, ax = _axes()
    draw(ax)
    ax.set_title("t")
    assert describe_figure(fig) == f"{kind} titled 't'."
    plt.close(fig)


def test_the_text_sizes_of_a_figure_are_read_in_pixels_of_its_picture():
    import matplotlib.pyplot as plt

    from helpers.plotting import figure_text_px

    fig, (left, right) = plt.subplots(1, 2, dpi=100)
    left.plot([0, 1], label="a")
    left.legend(fontsize=9)
    left.tick_params(labelsize=18)
    left.text(0.5, 0.5, "note", fontsize=7.2)
    right.imshow(np.eye(3))
    right.axis("off")  # its tick labels are not drawn: they do not count
    right.tick_params(labelsize=1)
    fig.canvas.draw()
    assert figure_text_px(fig) == {"tick labels": 25.0, "legend": 12.5, "other text": 10.0}
    assert figure_text_px(fig, dpi=200)["legend"] == 25.0
    plt.close(fig)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        figure_text_px(None)
