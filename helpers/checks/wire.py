"""Plain data between a student's process and the checker: what a call returned, nothing more.

A check calls the student's function in one process and judges the result in another (the
grader's). What crosses is JSON made only of numbers, strings, lists and tagged NumPy arrays of a
numeric dtype, so nothing the student's code built can run or answer questions in the checker's
process: an ndarray subclass arrives as a plain array of its numbers; an object whose ``__eq__``
says True, a tensor-like impostor arrive as :class:`Unsupported`, which every verifier rejects
with the type's name.

``encode_result``/``decode_result`` carry results back; ``encode_arg``/``decode_arg`` carry a
case's arguments to the student's process (generators by state, tensors by value, Keras models by
config and weights), where the course's code, not the student's, rebuilds them.
"""

import base64
import json
from dataclasses import dataclass

import numpy as np

MAX_DEPTH = 32
MAX_DIMENSIONS = 32  # NumPy allows 64; nothing a graded function returns has more than a few
MAX_STRING = 10_000
NUMERIC_KINDS = "biufc"


@dataclass(frozen=True)
class Unsupported:
    """A value of a type that cannot be graded (it stayed in the student's process)."""

    type_name: str

    def __repr__(self) -> str:
        return f"an object of type {self.type_name}"


@dataclass(frozen=True)
class TensorValue:
    """A TensorFlow tensor or variable, by value."""

    value: np.ndarray
    variable: bool = False

    @property
    def shape(self):
        return self.value.shape

    def numpy(self):
        return self.value

    def __repr__(self) -> str:
        kind = "tf.Variable" if self.variable else "tf.Tensor"
        return f"{kind}(shape {self.value.shape}, dtype {self.value.dtype})"


def _type_name(value) -> str:
    kind = type(value)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def _array(value: np.ndarray) -> dict:
    value = np.array(value, order="C", copy=True)
    return {
        "$array": base64.b64encode(value.tobytes()).decode("ascii"),
        "dtype": value.dtype.str,
        "shape": list(value.shape),
    }


def _tensor(value):
    """The tagged value of a TensorFlow tensor or variable, or None when ``value`` is not one."""
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is None or (not tf.is_tensor(value) and not isinstance(value, tf.Variable)):
        return None
    array = np.asarray(value.numpy())
    if type(array) is not np.ndarray or array.dtype.kind not in NUMERIC_KINDS:
        return None
    return {"$tensor": _array(array), "variable": isinstance(value, tf.Variable)}


def encode_result(value, depth: int = 0):
    """Return ``value`` as JSON-ready plain data; anything else becomes an ``$unsupported`` tag."""
    if depth > MAX_DEPTH:
        return {"$unsupported": "a structure nested too deeply"}
    kind = type(value)
    if value is None or kind in (bool, int, float):
        return value
    if kind is str:
        return value[:MAX_STRING]
    if issubclass(kind, np.ndarray):
        # By value, through ndarray's own view: an ndarray subclass (np.matrix, or one whose
        # __eq__ says True) arrives as a plain array of its numbers, its methods left behind.
        plain = np.ndarray.view(value, np.ndarray)
        if plain.dtype.kind in NUMERIC_KINDS and plain.dtype.fields is None:
            return _array(plain)
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        if value.dtype.kind in NUMERIC_KINDS:
            return {"$scalar": _array(np.asarray(value))}
    if kind is tuple:
        return {"$tuple": [encode_result(v, depth + 1) for v in value]}
    if kind is list:
        return [encode_result(v, depth + 1) for v in value]
    if kind is dict and all(type(k) is str for k in value):
        return {"$dict": [[k, encode_result(v, depth + 1)] for k, v in value.items()]}
    tagged = _tensor(value)
    if tagged is not None:
        return tagged
    name = _type_name(value)
    if issubclass(kind, np.ndarray):
        name = f"numpy.ndarray (dtype {np.ndarray.view(value, np.ndarray).dtype}: not numbers)"
    return {"$unsupported": name}


class WireError(ValueError):
    """The data did not come from :func:`encode_result` (or was tampered with)."""


def _decode_array(tag: dict) -> np.ndarray:
    try:
        dtype = np.dtype(str(tag["dtype"])[:20])
        shape = tuple(int(n) for n in tag["shape"][: MAX_DIMENSIONS + 1])
        raw = base64.b64decode(str(tag["$array"]), validate=True)
    except Exception as error:  # whatever the data, a WireError and nothing else
        raise WireError(f"bad array: {type(error).__name__}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None:
        raise WireError(f"dtype {dtype} is not numeric")
    if len(shape) > MAX_DIMENSIONS or any(n < 0 for n in shape):
        raise WireError(f"an array needs 0 to {MAX_DIMENSIONS} dimensions of size >= 0")
    if len(raw) != int(np.prod(shape, dtype=object)) * dtype.itemsize:
        raise WireError("array size does not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode_result(data, depth: int = 0):
    """Rebuild what :func:`encode_result` sent, accepting nothing else (raises WireError)."""
    if depth > MAX_DEPTH:
        raise WireError("nested too deeply")
    if data is None or type(data) in (bool, int, float):
        return data
    if type(data) is str:
        return data[:MAX_STRING]
    if type(data) is list:
        return [decode_result(v, depth + 1) for v in data]
    if type(data) is not dict or len(data) == 0:
        raise WireError(f"unexpected {type(data).__name__}")
    if "$array" in data:
        return _decode_array(data)
    if "$scalar" in data:
        array = _decode_array(data["$scalar"])
        if array.shape != ():
            raise WireError("a scalar must have shape ()")
        return array[()]
    if "$tuple" in data and type(data["$tuple"]) is list:
        return tuple(decode_result(v, depth + 1) for v in data["$tuple"])
    if "$dict" in data and type(data["$dict"]) is list:
        out = {}
        for pair in data["$dict"]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("bad dict item")
            out[pair[0]] = decode_result(pair[1], depth + 1)
        return out
    if "$tensor" in data:
        return TensorValue(_decode_array(data["$tensor"]), bool(data.get("variable")))
    if "$unsupported" in data:
        return Unsupported(str(data["$unsupported"])[:300])
    raise WireError(f"unknown tag {sorted(data)[:3]}")


def loads(text: str):
    """Parse JSON text from a student's process (no size above what the caller allowed)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise WireError(f"not JSON: {error}") from None


# ---- arguments: built by the checker, rebuilt in the student's process -----------------------


def encode_arg(value, depth: int = 0):
    """Return a case argument as plain data the student's process can rebuild."""
    if depth > MAX_DEPTH:
        raise ValueError("argument nested too deeply")
    wire = getattr(type(value), "__wire__", None)
    if wire is not None:
        kind, payload = wire(value)
        return {"$object": [kind, encode_arg(payload, depth + 1)]}
    if isinstance(value, np.random.Generator):
        return {"$rng": value.bit_generator.state}
    if type(value) is tuple:
        return {"$tuple": [encode_arg(v, depth + 1) for v in value]}
    if type(value) is list:
        return [encode_arg(v, depth + 1) for v in value]
    if type(value) is dict:
        return {"$dict": [[k, encode_arg(v, depth + 1)] for k, v in value.items()]}
    module = type(value).__module__
    if module.startswith("keras") and hasattr(value, "to_json") and hasattr(value, "weights"):
        return {
            "$keras_model": value.to_json(),
            "weights": [_array(np.asarray(w.numpy())) for w in value.weights],
        }
    if module.startswith("keras") and hasattr(value, "apply_gradients"):
        import keras

        return {"$keras_optimizer": json.dumps(keras.optimizers.serialize(value), default=float)}
    tagged = _tensor(value)
    if tagged is not None:
        return tagged
    encoded = encode_result(value, depth)
    if isinstance(encoded, dict) and "$unsupported" in encoded:
        raise TypeError(f"cannot send an argument of type {_type_name(value)}")
    return encoded


def decode_arg(data, objects: dict):
    """Rebuild an argument in the student's process; ``objects`` maps ``$object`` kinds to
    builders (the probes' recorders and trials)."""
    if type(data) is list:
        return [decode_arg(v, objects) for v in data]
    if type(data) is not dict:
        return data
    if "$object" in data:
        kind, payload = data["$object"]
        return objects[kind](decode_arg(payload, objects))
    if "$rng" in data:
        generator = np.random.Generator(np.random.PCG64())
        generator.bit_generator.state = data["$rng"]
        return generator
    if "$tuple" in data:
        return tuple(decode_arg(v, objects) for v in data["$tuple"])
    if "$dict" in data:
        return {k: decode_arg(v, objects) for k, v in data["$dict"]}
    if "$tensor" in data:
        import tensorflow as tf

        value = _decode_array(data["$tensor"])
        return tf.Variable(value) if data.get("variable") else tf.constant(value)
    if "$keras_model" in data:
        import keras

        model = keras.models.model_from_json(data["$keras_model"])
        for variable, value in zip(model.weights, data["weights"], strict=True):
            variable.assign(_decode_array(value))
        return model
    if "$keras_optimizer" in data:
        import keras

        return keras.optimizers.deserialize(json.loads(data["$keras_optimizer"]))
    return decode_result(data)
