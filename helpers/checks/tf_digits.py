"""Checks for notebook 07: a Keras model on the digits. TensorFlow is imported on first use.

Expected values come from plain-Python arithmetic (the cross-entropy) or from the reference
training step run on an identical copy of the model. Keras layout: one example per row.
"""

import math

import numpy as np

from helpers import tf_digits as ref
from helpers.checks.cases import Case, CaseTable, Mismatch, describe_error, kind_of, short
from helpers.checks.driver import run_cases
from helpers.checks.hints import Rung
from helpers.checks.verifiers import NO_RETURN, close_to, tensor_scalar

# ---- build_model ----------------------------------------------------------------------------


def _expected_layers(hidden_units) -> list:
    blocks = [[f"Dense({n}, no bias)", "BatchNormalization", "ReLU"] for n in hidden_units]
    return [name for block in blocks for name in block] + ["Dense(10)"]


_COMPILED = (
    "build the model only: compiling it (optimizer, loss) belongs to the training code that uses it"
)
_NO_INPUT = (
    "your model has no input layer: without the shape of its input (64 pixels) Keras creates no "
    "weights until the model is first called, so its weights cannot be counted or read before "
    "training; start the list of layers with the input"
)
_BIAS = (
    "your hidden dense layers have a bias: batch norm's β takes its place, so give them none "
    "(Keras's use_bias option off)"
)
_ACTIVATION_FIRST = (
    "the activation comes after batch norm: a dense layer without activation, then batch "
    "normalization, then ReLU"
)
_SOFTMAX_OUT = (
    "the output layer gives logits: no activation there, the loss applies the softmax itself"
)
_BLOCKS = (
    "one block per entry of hidden_units: the number of blocks is the number of entries, not "
    "always 2"
)


def _layers_mistake(got, hidden_units) -> str | None:
    """The likely mistake behind the layers ``got``."""
    dense = [name for name in got if name.startswith("Dense(")]
    if len(dense) != len(hidden_units) + 1:
        return _BLOCKS
    if any(", relu" in name for name in dense[:-1]):
        return _ACTIVATION_FIRST
    if any("no bias" not in name for name in dense[:-1]):
        return _BIAS
    if dense[-1] != "Dense(10)":
        return _SOFTMAX_OUT
    return None


def _model_like(hidden_units):
    """Verifier: an uncompiled keras.Model, (m, 64) → (m, 10), with exactly these layers.

    The student's process describes the model it got (the probe "keras_model"): its layers,
    whether it was compiled, and the shape of its output for 5 images.
    """

    def verify(result, observation):
        if result is None:
            raise Mismatch("a keras.Model", "None", NO_RETURN)
        if observation.probe_error:
            error = observation.probe_error
            raise Mismatch(
                "a model that takes a batch of shape (5, 64)",
                describe_error(error),
            )
        model = observation.probe
        if not isinstance(model, dict) or not {"layers", "compiled", "output_shape"} <= set(model):
            raise Mismatch("a keras.Model", kind_of(result))
        if model["compiled"]:
            raise Mismatch(
                "an uncompiled model", "a model on which compile() was called", _COMPILED
            )
        if not model.get("built", True):
            raise Mismatch(
                "a model built for inputs of 64 pixels, its weights there before any call",
                "a model without an input shape: no weights until it is first called",
                _NO_INPUT,
            )
        if tuple(model["output_shape"]) != (5, ref.N_CLASSES):
            raise Mismatch(
                "logits of shape (5, 10) for 5 images", f"shape {tuple(model['output_shape'])}"
            )
        expected, got = _expected_layers(hidden_units), [str(n) for n in model["layers"]]
        if got != expected:
            raise Mismatch(
                "layers " + " → ".join(expected),
                "layers " + " → ".join(got),
                _layers_mistake(got, hidden_units),
            )

    return verify


def _computes_its_output(hidden_units, batch):
    """Verifier of a hidden case: the layers, and an output for ``batch`` that the reference
    model computes with the weights the student's model reported (a description of a model
    without the model fails here)."""
    layers = _model_like(hidden_units)

    def verify(result, observation):
        layers(result, observation)
        model = observation.probe
        reference = ref.build_model(hidden_units)
        weights, output = model.get("weights"), model.get("output")
        shapes = [tuple(v.shape) for v in reference.weights]
        if not isinstance(weights, list) or [getattr(w, "shape", None) for w in weights] != shapes:
            raise Mismatch("the model's weights", "weights of other shapes")
        for variable, value in zip(reference.weights, weights, strict=True):
            variable.assign(np.asarray(value, dtype="float32"))
        want = np.asarray(reference(batch, training=False))
        close_to(want, rtol=1e-4, atol=1e-5, what="the model's output")(output)

    return verify


def build_model_cases() -> CaseTable:
    """The public cases of ``build_model(hidden_units=(128, 128))``: the layers, uncompiled,
    logits out."""
    layers_hint = (
        "one block per hidden size (a dense layer without bias, batch normalization, ReLU), "
        "then a dense layer of 10 units with no activation"
    )
    cases = [
        Case(
            "the default, hidden_units=(128, 128)",
            (),
            _model_like((128, 128)),
            layers_hint,
            probe="keras_model",
        ),
        Case(
            "hidden_units=(32, 16)",
            ((32, 16),),
            _model_like((32, 16)),
            _BLOCKS,
            probe="keras_model",
        ),
        Case(
            "one hidden layer, hidden_units=(8,)",
            ((8,),),
            _model_like((8,)),
            _BLOCKS,
            probe="keras_model",
        ),
    ]
    return CaseTable(
        "build_model", tuple(cases), ("hidden_units",), ref.build_model, ladder=MODEL_LADDER
    )


MODEL_LADDER = (
    Rung(
        "the idea",
        "A list of layers: the input first, then three layers per hidden size, then the output "
        "layer. keras.Sequential chains a list.",
    ),
    Rung(
        "the tools",
        "keras.Input(shape=(64,)), keras.layers.Dense(units, use_bias=False), "
        "keras.layers.BatchNormalization(), keras.layers.ReLU(), and keras.layers.Dense(10) "
        "for the logits.",
    ),
    Rung(
        "the code shape",
        "layers = [keras.Input(shape=(64,))]\n"
        "for units in hidden_units:\n"
        "    layers += [..., ..., ...]\n"
        "layers.append(...)\n"
        "return keras.Sequential(layers)",
    ),
)


def build_model_hidden_cases(rng) -> list:
    """Hidden sizes drawn from ``rng``; the model's output for a batch drawn from ``rng`` must be
    what those layers compute with the model's own weights."""
    hidden_units = tuple(int(n) for n in rng.integers(3, 25, int(rng.integers(1, 4))))
    batch = rng.random((5, ref.N_PIXELS)).astype("float32")
    return [
        Case(
            "random hidden sizes",
            (hidden_units,),
            _computes_its_output(hidden_units, batch),
            "one block (dense without bias, batch normalization, ReLU) per entry of "
            "hidden_units, then a dense layer of 10 logits",
            probe="keras_model",
            probe_input=batch,
            hidden=True,
        )
    ]


def check_build_model(build_model) -> None:
    """Check ``build_model(hidden_units=(128, 128))``: the layers, uncompiled, logits out."""
    run_cases(build_model_cases(), build_model)


# ---- compute_total_loss -------------------------------------------------------------------------


def _cross_entropy_by_hand(logits, labels) -> tuple:
    """Σ over rows of log Σ exp(z) − z[label], and its gradient softmax(z) − y, in plain Python."""
    total, gradient = 0.0, []
    for z, y in zip(logits.tolist(), labels.tolist(), strict=True):
        top = max(z)
        log_sum = top + math.log(sum(math.exp(v - top) for v in z))
        total += log_sum - sum(v * w for v, w in zip(z, y, strict=True))
        gradient.append([math.exp(v - log_sum) - w for v, w in zip(z, y, strict=True)])
    return total, np.array(gradient)


_MEAN = (
    "you averaged over the batch: return the sum (the epoch cost divides the sum of the batches' "
    "totals by m)"
)
_PROBABILITIES = (
    "your loss treats the logits as probabilities: tell Keras they are logits (its from_logits "
    "option), so that it applies the softmax itself"
)
_SWAPPED = (
    "you passed the arguments in the other order: Keras's losses take the labels first, then "
    "the predictions (here the logits)"
)
_TRANSPOSED = (
    "you transposed the batch: in Keras each row is one example, and the classes run along the "
    "last axis (no transpose, unlike the course's columns)"
)
_OVERFLOW = (
    "exponentials of large logits overflow: let Keras apply the softmax to the logits (its "
    "from_logits option), stably"
)


def _log_softmax(z):
    z = np.asarray(z, dtype=float)
    top = z.max(axis=-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


def _loss_mistakes(logits, labels) -> tuple:
    """What the common mistakes give for the total, each with its hint."""
    with np.errstate(all="ignore"):
        as_probabilities = np.clip(logits / logits.sum(axis=1, keepdims=True), 1e-7, 1 - 1e-7)
        mistakes = [
            (float(-(labels * np.log(as_probabilities)).sum()), _PROBABILITIES),
            (float(-(logits * _log_softmax(labels)).sum()), _SWAPPED),
        ]
        if logits.shape[0] > 1:
            mistakes.append((float(-(labels.T * _log_softmax(logits.T)).sum()), _TRANSPOSED))
    return tuple((wrong, why) for wrong, why in mistakes if math.isfinite(wrong))


def _total_loss_case(rng, name, m, n_classes, scale, hint, *, hidden=False):
    """A case of compute_total_loss on logits drawn from ``rng``: the value (a hidden case's
    from the reference) and its gradient to the logits."""
    import tensorflow as tf

    logits = (scale * rng.standard_normal((m, n_classes))).astype(np.float32)
    labels = np.eye(n_classes, dtype=np.float32)[rng.integers(0, n_classes, m)]
    expected, expected_gradient = _cross_entropy_by_hand(logits.astype(float), labels)
    args = (tf.constant(logits), tf.constant(labels))
    if hidden:
        expected = float(ref.compute_total_loss(*args))

    mistakes = _loss_mistakes(logits.astype(float), labels.astype(float))

    def verify(result, observation):
        value = tensor_scalar(result, "the total loss as a scalar tensor")
        if not math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-4):
            hint = _MEAN if m > 1 and math.isclose(value * m, expected, rel_tol=1e-5) else None
            hint = hint or next(
                (why for wrong, why in mistakes if math.isclose(value, wrong, rel_tol=1e-4)), None
            )
            raise Mismatch(f"{expected:.6g}", f"{value:.6g}", hint)
        if observation.probe_error:
            error = observation.probe_error
            raise Mismatch("a loss the tape can differentiate", describe_error(error))
        if observation.probe is None:
            raise Mismatch("a loss the tape can differentiate", "no gradient to the logits")
        close_to(expected_gradient, rtol=1e-4, atol=1e-5, what="d(total)/d(logits)")(
            observation.probe
        )

    return Case(name, args, verify, hint, probe="gradient", hidden=hidden)


def compute_total_loss_cases() -> CaseTable:
    """The public cases of ``compute_total_loss(logits, labels)``: Σ over the batch of the
    cross-entropy."""
    rng = np.random.default_rng(7)

    def case(*args):
        return _total_loss_case(rng, *args)

    cases = [
        case(
            "3 examples, 4 classes",
            3,
            4,
            1.0,
            "the total is the sum over the batch of each example's cross-entropy, computed from "
            "its logits",
        ),
        case("a batch of 29 digits: the sum, not the mean", 29, 10, 2.0, _MEAN),
        case("large logits (up to ~300) stay finite", 6, 10, 100.0, _OVERFLOW),
        case(
            "a batch of one example",
            1,
            10,
            1.0,
            "one row per example, labels first and logits second",
        ),
    ]
    return CaseTable(
        "compute_total_loss",
        tuple(cases),
        ("logits", "labels"),
        ref.compute_total_loss,
        ladder=LOSS_LADDER,
    )


LOSS_LADDER = (
    Rung(
        "the idea",
        "Keras computes the per-example losses for you, from the logits; all that is left is "
        "to add them up over the batch.",
    ),
    Rung(
        "the tools",
        "keras.losses.categorical_crossentropy(labels, logits, from_logits=True) gives one "
        "loss per row; tf.reduce_sum adds them.",
    ),
    Rung("the code shape", "total = tf.reduce_sum(...)\nreturn total"),
)


def compute_total_loss_hidden_cases(rng) -> list:
    """A batch of logits and labels drawn from ``rng``."""
    m, scale = int(rng.integers(1, 13)), float(rng.uniform(0.5, 5))
    hint = "the sum over the batch of each example's cross-entropy from its logits, any batch size"
    return [_total_loss_case(rng, "a random batch", m, ref.N_CLASSES, scale, hint, hidden=True)]


def check_compute_total_loss(compute_total_loss) -> None:
    """Check ``compute_total_loss(logits, labels)``: Σ over the batch of the cross-entropy."""
    run_cases(compute_total_loss_cases(), compute_total_loss)


# ---- train_step ----------------------------------------------------------------------------


def _model_with_weights(hidden_units, seed):
    """The reference model with weights drawn from ``seed``, so two copies start identical."""
    model = ref.build_model(hidden_units)
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        kind = variable.path.rsplit("/", 1)[-1]
        if kind == "moving_variance":
            value = 1.0 + 0.5 * rng.random(variable.shape)
        else:
            spread = 0.3 if kind == "kernel" else 0.1
            value = (1.0 if kind == "gamma" else 0.0) + spread * rng.standard_normal(variable.shape)
        variable.assign(value.astype("float32"))
    return model


def _step_on_total(model, optimizer, x, y) -> None:
    """The likeliest mistake, after the course's own loop: a step on the gradient of the sum."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        total = ref.compute_total_loss(model(x, training=True), y)
    gradients = tape.gradient(total, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))


def _largest_difference(observed, expected) -> tuple:
    """The largest absolute gap between reported ``[path, array]`` pairs and arrays (or
    variables), and its path; Mismatch when the student's model holds other variables."""
    expected = [np.asarray(e.numpy() if hasattr(e, "numpy") else e) for e in expected]
    if not isinstance(observed, list) or len(observed) != len(expected):
        raise Mismatch(
            f"the model's {len(expected)} variables", f"{short(observed)} (another model?)"
        )
    gaps = []
    for item, want in zip(observed, expected, strict=True):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[1], np.ndarray)):
            raise Mismatch("the model's variables", short(item))
        path, value = str(item[0]), item[1]
        if value.shape != want.shape:
            raise Mismatch(f"{path} of shape {want.shape}", f"shape {value.shape}")
        gaps.append((float(np.max(np.abs(value.astype(float) - want), initial=0.0)), path))
    return max(gaps)


# The two mistakes the hint's recipe used to invite, recognized by the errors they raise.
TRAIN_STEP_ERRORS = (
    (
        r"must have the same dtype|expected to be a (float|double) tensor|cannot compute \w*Div",
        "the batch size read from the data's shape is an int32 tensor and the total a float32 "
        "one, and TensorFlow does not mix them: convert the batch size to the total's dtype "
        "first (or use the static shape, a Python int)",
    ),
    (
        r"No gradients provided",
        "the tape found no path from what you differentiated to the weights: it records only "
        "what runs inside its with block, so divide the total by the batch size inside that "
        "block too, and differentiate that mean",
    ),
)
_INFERENCE_MODE = (
    "your loss is the one in inference mode: call the model in training mode, so that batch "
    "norm uses the batch's statistics (and updates its moving averages)"
)
_STEP_ON_TOTAL = (
    "this is the step of the total: the gradient must be the mean loss's, the total divided by "
    "the batch size, as model.fit does"
)
_RETURN_TOTAL = "you returned the batch's mean loss: return its total, the sum"
_OWN_OPTIMIZER = (
    "the optimizer you were given took no step: apply the gradients with it, not with a new "
    "one (a new optimizer starts from scratch, with settings of its own)"
)
_NOT_APPLIED = (
    "your weights did not move: apply the gradients to the trainable variables with the "
    "optimizer you are given"
)


def _train_step_case(name, hidden_units, make_optimizer, m, seed, hint, *, hidden=False):
    """A case of train_step: a model with weights from ``seed``, a batch of ``m`` examples;
    the expected step is the reference's on an identical copy."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    x = tf.constant(rng.random((m, ref.N_PIXELS)), dtype=tf.float32)
    y = tf.one_hot(rng.integers(0, ref.N_CLASSES, m), ref.N_CLASSES)
    start = _model_with_weights(hidden_units, seed)

    def verify(result, observation):
        if observation.probe_error:
            error = observation.probe_error
            raise Mismatch("the model's variables", describe_error(error))
        weights = observation.probe if isinstance(observation.probe, dict) else {}
        trainable, non_trainable = weights.get("trainable"), weights.get("non_trainable")
        reference = _model_with_weights(hidden_units, seed)
        before = [v.numpy() for v in reference.trainable_variables]
        inference_total = float(ref.compute_total_loss(reference(x, training=False), y))
        total = float(ref.train_step(reference, make_optimizer(), x, y))
        value = tensor_scalar(result, "the batch's total loss as a scalar tensor")
        if _largest_difference(trainable, before)[0] == 0:
            raise Mismatch(
                "the model's weights changed by one step", "the weights unchanged", _NOT_APPLIED
            )
        if not math.isclose(value, total, rel_tol=1e-5, abs_tol=1e-4):
            why = None
            if math.isclose(value * m, total, rel_tol=1e-5):
                why = _RETURN_TOTAL
            elif math.isclose(value, inference_total, rel_tol=1e-5):
                why = _INFERENCE_MODE
            raise Mismatch(f"total loss {total:.6g}", f"{value:.6g}", why)
        gap, path = _largest_difference(trainable, reference.trainable_variables)
        if gap > 1e-5:
            if weights.get("optimizer_steps") == 0:
                why = _OWN_OPTIMIZER
            else:
                summed = _model_with_weights(hidden_units, seed)
                _step_on_total(summed, make_optimizer(), x, y)
                on_total = _largest_difference(trainable, summed.trainable_variables)[0] <= 1e-5
                why = _STEP_ON_TOTAL if on_total else None
            raise Mismatch(
                "the weights after one step of the mean loss's gradient",
                f"{path} off by up to {gap:.3g}",
                why,
            )
        gap, path = _largest_difference(non_trainable, reference.non_trainable_variables)
        if gap > 1e-5:
            raise Mismatch(
                "batch norm's moving statistics updated once (training=True)",
                f"{path} off by up to {gap:.3g}",
                _INFERENCE_MODE,
            )

    return Case(
        name,
        (start, make_optimizer(), x, y),
        verify,
        hint,
        probe="weights",
        error_hints=TRAIN_STEP_ERRORS,
        hidden=hidden,
    )


def _adam(rate: float):
    """Adam whose ε is 10⁻², not Keras's 10⁻⁷. Adam's first step moves each weight by
    ``rate · g / (|g| + ε)``, which near g = 0 multiplies a rounding difference in the gradient
    by up to ``rate / ε``: with ε = 10⁻⁷, TensorFlow with and without op determinism (the grader's
    process and the notebook's) put 22 of 300 random steps more than 10⁻⁵ apart. With 10⁻²
    the largest gap in those 300 was 5 × 10⁻⁷, and the step stays Adam's."""
    import keras

    return keras.optimizers.Adam(learning_rate=rate, epsilon=1e-2)


def train_step_cases() -> CaseTable:
    """The public cases of ``train_step(model, optimizer, x, y)``: one update, the batch's total
    loss back."""
    import keras

    case = _train_step_case
    cases = [
        case(
            "one Adam step (learning rate 0.01) on a batch of 8",
            (16,),
            lambda: _adam(0.01),
            8,
            1,
            "one step: the model in training mode and the loss inside the tape, the gradient of "
            "the mean loss, one update by the optimizer given; return the batch's total",
        ),
        case(
            "one plain SGD step (learning rate 0.1): the gradient of the mean loss",
            (16,),
            lambda: keras.optimizers.SGD(learning_rate=0.1),
            8,
            2,
            "use the optimizer you are given (a new one starts from scratch, with its own rate)",
        ),
        case(
            "a smaller last batch of 5, two hidden layers",
            (12, 8),
            lambda: _adam(0.01),
            5,
            3,
            "take the batch size from the data, not a fixed number: the last batch of an epoch "
            "is often smaller",
        ),
    ]
    return CaseTable(
        "train_step",
        tuple(cases),
        ("model", "optimizer", "x", "y"),
        ref.train_step,
        uses={"compute_total_loss": ref.compute_total_loss},
        ladder=STEP_LADDER,
    )


STEP_LADDER = (
    Rung(
        "the idea",
        "Everything the gradient depends on has to happen inside the tape's with block, the "
        "division by the batch size included: the tape differentiates only what it recorded.",
    ),
    Rung(
        "the tools",
        "model(x, training=True), your compute_total_loss, tape.gradient(mean, "
        "model.trainable_variables), optimizer.apply_gradients(zip(gradients, "
        "model.trainable_variables)). tf.shape(x)[0] is an int32 tensor and the total a float32 "
        "one: tf.cast(tf.shape(x)[0], total.dtype) first.",
    ),
    Rung(
        "the code shape",
        "with tf.GradientTape() as tape:\n"
        "    logits = ...\n"
        "    total = ...\n"
        "    mean = total / tf.cast(tf.shape(x)[0], total.dtype)\n"
        "gradients = tape.gradient(..., model.trainable_variables)\n"
        "optimizer.apply_gradients(zip(gradients, model.trainable_variables))\n"
        "return total",
    ),
)


def train_step_hidden_cases(rng) -> list:
    """A model, an optimizer and a batch drawn from ``rng``; expected from the reference step."""
    import keras

    rate = float(rng.uniform(0.005, 0.1))
    kind = _adam if rng.random() < 0.5 else keras.optimizers.SGD
    return [
        _train_step_case(
            "a random model, optimizer and batch",
            (int(rng.integers(4, 17)),),
            lambda: kind(rate),
            int(rng.integers(3, 11)),
            int(rng.integers(2**31)),
            "one step of the optimizer given on the mean loss's gradient, in training mode, for "
            "any model and batch size; return the total",
            hidden=True,
        )
    ]


def check_train_step(train_step) -> None:
    """Check ``train_step(model, optimizer, x, y)``: one update, the batch's total loss back."""
    run_cases(train_step_cases(), train_step)
