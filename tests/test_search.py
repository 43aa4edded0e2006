"""helpers.search: the references behind notebook 01's exercises, and their input errors."""

import numpy as np
import pytest

from helpers.search import best_trial, grid_search, random_search, zoom_in


def bowl(params):
    return (params["a"] - 0.3) ** 2 + 0.01 * params["b"]


RANGES = {"a": (0.0, 1.0), "b": (-2.0, 2.0)}


def test_grid_search_tries_every_combination_with_the_last_name_fastest():
    trials = grid_search(bowl, RANGES, 3)
    assert [tuple(p.values()) for p, _ in trials][:4] == [
        (0.0, -2.0),
        (0.0, 0.0),
        (0.0, 2.0),
        (0.5, -2.0),
    ]
    assert len(trials) == 9
    assert all(score == pytest.approx(bowl(p)) for p, score in trials)


def test_random_search_is_reproducible_and_inside_the_ranges():
    first = random_search(bowl, RANGES, 50, np.random.default_rng(4))
    again = random_search(bowl, RANGES, 50, np.random.default_rng(4))
    assert first == again
    values = np.array([[p["a"], p["b"]] for p, _ in first])
    assert values[:, 0].min() >= 0 and values[:, 0].max() <= 1
    assert values[:, 1].min() >= -2 and values[:, 1].max() <= 2
    assert len(set(values[:, 0])) == 50


def test_each_trial_gets_its_own_params_dict():
    seen = []
    trials = random_search(lambda p: seen.append(p) or 0.0, RANGES, 3, np.random.default_rng(0))
    seen[0]["a"] = 99.0  # an objective that scribbles on its argument cannot change the record
    assert trials[0][0]["a"] != 99.0


def test_best_trial_is_the_lowest_score_and_the_first_on_ties():
    trials = [({"a": 1}, 0.5), ({"a": 2}, 0.1), ({"a": 3}, 0.1)]
    assert best_trial(trials) == ({"a": 2}, 0.1)
    with pytest.raises(ValueError, match="trials is empty"):
        best_trial([])


@pytest.mark.parametrize(
    ("center", "expected"),
    [(0.5, (0.4, 0.6)), (0.01, (0.0, 0.2)), (1.0, (0.8, 1.0))],
)
def test_zoom_in_shifts_rather_than_cuts(center, expected):
    zoomed = zoom_in({"a": (0.0, 1.0)}, {"a": center}, 0.2)
    assert zoomed["a"] == pytest.approx(expected)


def test_zoom_in_leaves_its_argument_alone():
    ranges = dict(RANGES)
    zoom_in(ranges, {"a": 0.5, "b": 0.0}, 0.5)
    assert ranges == RANGES


@pytest.mark.parametrize(
    ("call", "error", "says"),
    [
        (lambda: grid_search(bowl, {}, 3), TypeError, "non-empty dict"),
        (lambda: grid_search(bowl, {"a": (1.0, 0.0)}, 3), ValueError, "low < high"),
        (lambda: grid_search(bowl, {"a": "wide"}, 3), TypeError, "pair of numbers"),
        (lambda: grid_search(bowl, RANGES, 1), ValueError, "n_per_axis must be >= 2"),
        (lambda: grid_search(bowl, RANGES, 2.5), TypeError, "n_per_axis must be an integer"),
        (lambda: random_search(bowl, RANGES, 0, np.random.default_rng()), ValueError, "n_trials"),
        (lambda: random_search(bowl, RANGES, 5, 0), TypeError, "rng must be a numpy"),
        (lambda: zoom_in(RANGES, {"a": 0.5}, 0.5), ValueError, "no value for ['b']"),
        (lambda: zoom_in(RANGES, {"a": 2.0, "b": 0}, 0.5), ValueError, "outside its range"),
        (lambda: zoom_in(RANGES, {"a": 0.5, "b": 0}, 0.0), ValueError, "factor must be in"),
    ],
)
def test_bad_input_is_named(call, error, says):
    with pytest.raises(error) as raised:
        call()
    assert says in str(raised.value)
