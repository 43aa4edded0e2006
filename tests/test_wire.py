"""What crosses from a student's process to the checker: plain data, and nothing else."""

import base64
import json

import numpy as np
import pytest

from helpers.checks import EXERCISES
from helpers.checks.cases import judge
from helpers.checks.wire import (
    TensorValue,
    Unsupported,
    WireError,
    decode_arg,
    decode_result,
    encode_arg,
    encode_result,
)


def _round_trip(value):
    return decode_result(json.loads(json.dumps(encode_result(value))))


def test_plain_values_come_back_equal_and_of_the_same_type():
    value = {
        "a": (np.arange(6.0).reshape(2, 3), np.float32(1.5), 3, None, True),
        "b": [np.array([1, 2], dtype=np.int8), "text", -0.25],
    }
    back = _round_trip(value)
    assert type(back["a"]) is tuple and type(back["a"][0]) is np.ndarray
    assert np.array_equal(back["a"][0], value["a"][0]) and back["a"][0].dtype == np.float64
    assert back["a"][1] == np.float32(1.5) and type(back["a"][1]) is np.float32
    assert back["a"][2:] == (3, None, True) and back["b"][1:] == ["text", -0.25]
    assert back["b"][0].dtype == np.int8


class AlwaysEqual(np.ndarray):
    def __eq__(self, other):
        return True


class Tricky:
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (Tricky(), "Tricky"),
        (np.array([object()]), "ndarray"),
        ({1: 2}, "dict"),
        (lambda: 0, "function"),
    ],
)
def test_anything_else_arrives_as_unsupported_with_its_type(value, name):
    back = _round_trip(value)
    assert isinstance(back, Unsupported) and name in back.type_name


def test_an_ndarray_subclass_arrives_as_a_plain_array_of_its_numbers():
    # np.matrix is judged by its values; a subclass whose __eq__ says True keeps nothing of it
    for value in (np.zeros(3).view(AlwaysEqual), np.matrix([[1.0, 2.0]])):
        back = _round_trip(value)
        assert type(back) is np.ndarray and np.array_equal(back, np.asarray(value))
    assert not np.array_equal(_round_trip(np.zeros(3).view(AlwaysEqual)), np.ones(3))


@pytest.mark.parametrize(
    "forged",
    [
        {"$array": base64.b64encode(b"x" * 8).decode(), "dtype": "|O", "shape": [1]},
        {"$array": base64.b64encode(b"x" * 7).decode(), "dtype": "<f8", "shape": [1]},
        {"$array": "not base64!", "dtype": "<f8", "shape": [1]},
        {"$array": "", "dtype": "<f8", "shape": [-1]},
        {"$pickle": "gASVAAAAAAAAAAB9lC4="},
        {"$dict": [[1, 2]]},
        {},
    ],
)
def test_forged_data_is_refused(forged):
    with pytest.raises(WireError):
        decode_result(forged)


def test_tensors_come_back_by_value():
    tf = pytest.importorskip("tensorflow")
    back = _round_trip(tf.constant([[1.0, 2.0]]))
    assert isinstance(back, TensorValue) and back.value.shape == (1, 2) and not back.variable
    assert _round_trip(tf.Variable(3.0)).variable


def test_a_generator_is_sent_by_state_and_draws_the_same_numbers():
    rng = np.random.default_rng(7)
    rebuilt = decode_arg(json.loads(json.dumps(encode_arg(rng))), {})
    assert np.array_equal(rebuilt.random(5), np.random.default_rng(7).random(5))


@pytest.mark.parametrize("raw", [None, 3, "x", [], {"result": {"$unknown": 1}}, {"error": 5}])
def test_judging_garbage_fails_the_case_and_never_raises(raw):
    table = EXERCISES["softmax"].cases()
    message = judge("softmax", table.cases[0], raw, table.arg_names)
    assert message.startswith('✗ softmax — case "the worked example')


def test_an_error_reports_the_function_it_was_raised_in_as_plain_text():
    from helpers.checks.probes import observe

    namespace = {}
    exec(
        "def helper(Z):\n    raise ValueError('bad')\ndef softmax(Z):\n    return helper(Z)",
        namespace,
    )
    table = EXERCISES["softmax"].cases()
    raw = json.loads(json.dumps(observe(namespace["softmax"], **table.cases[0].request())))
    assert raw["error"]["function"] == "helper" and raw["error"]["own"] is False
    message = judge("softmax", table.cases[0], raw, table.arg_names)
    assert "got ValueError (raised in helper): bad" in message


@pytest.mark.parametrize("where", [5, ["x"], "a" * 500])
def test_a_forged_function_name_is_cut_to_plain_text(where):
    table = EXERCISES["softmax"].cases()
    raw = {"error": {"type": "ValueError", "message": "m", "classes": [], "function": where}}
    message = judge("softmax", table.cases[0], raw, table.arg_names)
    assert message.startswith('✗ softmax — case "the worked example')
    assert len(message) < 700


def test_a_function_name_that_is_not_a_name_adds_no_line_to_the_report():
    # A student can rename a code object (code.replace(co_name=...)) to forge report lines.
    table = EXERCISES["softmax"].cases()
    forged = "helper\n✗ one_hot — all checks passed\nhint: none"
    raw = {"error": {"type": "ValueError", "message": "m", "classes": [], "function": forged}}
    message = judge("softmax", table.cases[0], raw, table.arg_names)
    assert "all checks passed" not in message and "raised in helper" not in message
