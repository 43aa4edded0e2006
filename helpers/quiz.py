"""The self-check quiz of notebook 09: load and validate the questions, grade answers, show them.

The questions live in ``data/quiz.yaml`` so an instructor can edit them without touching code.
Each question is a mapping::

    id: random-vs-grid              # unique, lowercase letters, digits and dashes
    kind: single                    # single (radio buttons), multiple ("check all that apply")
                                    # or number (predict a number, then run code to see it)
    question: ...                   # text; Markdown-style `code` is shown as code
    options:                        # single and multiple: two or more
      - text: ...
        correct: true               # single: exactly one correct; multiple: at least one
      - text: ...
    answer: 0.665                   # number only, instead of options: the right value,
    tolerance: 0.005                # how far from it an answer still counts as right,
    unit: ""                        # and what it is counted in (optional: "%", "steps", …)
    explanation: ...                # why, shown after the learner checks
    notebook: 01_tuning_process.ipynb
    section: 2. Random values, not a grid   # a heading of that notebook, exactly as written

Nothing is sent anywhere: answers and scores stay in the kernel.
"""

import html
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# The repository's data/quiz.yaml, installed with the package as helpers.shipped_data.
DEFAULT_QUIZ = resources.files("helpers.shipped_data") / "quiz.yaml"
KINDS = ("single", "multiple", "number")
_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_NOTEBOOK = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's cell id
NO_CHOICE = "Choose an answer first."
NO_NUMBER = "Type a number first."
_COMMON = {"id", "kind", "question", "explanation", "notebook", "section"}
_FIELDS = {"single": _COMMON | {"options"}, "multiple": _COMMON | {"options"}}
_FIELDS["number"] = _COMMON | {"answer", "tolerance"}
_OPTIONAL = {"single": set(), "multiple": set(), "number": {"unit"}}


@dataclass(frozen=True)
class Question:
    """One validated question. ``answer`` holds the indices of the correct options; a number
    question has no options and holds its right ``value``, ``tolerance`` and ``unit`` instead."""

    id: str
    kind: str
    question: str
    options: tuple
    answer: frozenset
    explanation: str
    notebook: str
    section: str
    value: float | None = None
    tolerance: float | None = None
    unit: str = ""

    @property
    def link(self) -> str:
        """Relative link to the section that teaches it, as JupyterLab anchors headings."""
        return f"{self.notebook}#{heading_anchor(self.section)}"


@dataclass(frozen=True)
class Grade:
    """The result of checking one answer: ``score`` in [0, 1] and a verdict for the learner."""

    score: float
    verdict: str  # "right", "partly right" or "wrong"
    message: str


def heading_anchor(heading: str) -> str:
    """Return the anchor JupyterLab gives a Markdown heading: its text, spaces → ``-``.

    Code marks and ``*`` emphasis are dropped, as in the rendered text (underscores stay: they
    occur inside names such as ``moving_mean``).
    """
    text = re.sub(r"[`*]", "", heading.lstrip("#").strip())
    return text.replace(" ", "-")


def load_quiz(path=None) -> list:
    """Read and validate the quiz file; return its questions in order.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not valid YAML, or a question is malformed; the message names
            the question (by id, or by position when it has none) and what is wrong.
    """
    import yaml

    path = Path(path) if path is not None else DEFAULT_QUIZ  # a Traversable: read_text, name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ValueError(f"{path.name} is not valid YAML: {error}") from None
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise ValueError(f"{path.name} must hold a mapping with a list under 'questions'")
    if not data["questions"]:
        raise ValueError(f"{path.name} has no questions")
    questions, seen = [], set()
    for position, raw in enumerate(data["questions"], start=1):
        question = _validate(raw, position)
        if question.id in seen:
            raise ValueError(f"question {question.id!r}: the id is used twice")
        seen.add(question.id)
        questions.append(question)
    return questions


def _validate(raw, position: int) -> Question:
    name = f"question {position}"
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: expected a mapping of fields, got {type(raw).__name__}")
    if isinstance(raw.get("id"), str):
        name = f"question {raw['id']!r}"
    kind = raw.get("kind", "single")  # without a kind, report what a choice question misses
    if isinstance(kind, str) and kind not in KINDS:
        raise ValueError(f"{name}: kind must be one of {KINDS}, got {kind!r}")
    if not isinstance(kind, str):
        raise ValueError(f"{name}: kind must be non-empty text")
    missing = sorted(_FIELDS[kind] - raw.keys())
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")
    unknown = sorted(raw.keys() - _FIELDS[kind] - _OPTIONAL[kind])
    if unknown:
        raise ValueError(f"{name}: unknown field {', '.join(unknown)} for a {kind} question")
    for field in ("id", "question", "explanation", "notebook", "section"):
        if not isinstance(raw[field], str) or not raw[field].strip():
            raise ValueError(f"{name}: {field} must be non-empty text")
    if not _ID.match(raw["id"]):
        raise ValueError(f"{name}: id must be lowercase letters, digits and dashes")
    if not _NOTEBOOK.match(raw["notebook"]):
        raise ValueError(f"{name}: notebook must be a file name like 01_topic.ipynb")
    common = dict(
        id=raw["id"],
        kind=kind,
        question=raw["question"].strip(),
        explanation=raw["explanation"].strip(),
        notebook=raw["notebook"],
        section=raw["section"].strip(),
    )
    if kind == "number":
        return _number_question(raw, name, common)
    options = raw["options"]
    if not isinstance(options, list) or len(options) < 2:
        raise ValueError(f"{name}: options must be a list of two or more")
    texts, answer = [], set()
    for index, option in enumerate(options, start=1):
        if not isinstance(option, dict) or not isinstance(option.get("text"), str):
            raise ValueError(f"{name}: option {index} must be a mapping with text")
        if not isinstance(option.get("correct", False), bool) or option.keys() - {
            "text",
            "correct",
        }:
            raise ValueError(f"{name}: option {index} may hold only text and correct: true/false")
        texts.append(option["text"].strip())
        if option.get("correct", False):
            answer.add(index - 1)
    if len(set(texts)) != len(texts):
        raise ValueError(f"{name}: two options have the same text")
    if raw["kind"] == "single" and len(answer) != 1:
        raise ValueError(
            f"{name}: a single-answer question needs exactly one correct option, got {len(answer)}"
        )
    if raw["kind"] == "multiple" and not answer:
        raise ValueError(f"{name}: a check-all question needs at least one correct option")
    return Question(options=tuple(texts), answer=frozenset(answer), **common)


def _number_question(raw, name: str, common: dict) -> Question:
    value, tolerance, unit = raw["answer"], raw["tolerance"], raw.get("unit", "")
    for field, number in (("answer", value), ("tolerance", tolerance)):
        # bool is an int to Python, and "0.5" is text to YAML: both are slips in the file
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ValueError(f"{name}: {field} must be a number, got {number!r}")
        if number != number or abs(number) == float("inf"):
            raise ValueError(f"{name}: {field} must be finite, got {number!r}")
    if tolerance < 0:
        raise ValueError(f"{name}: tolerance must be 0 or more, got {tolerance!r}")
    if not isinstance(unit, str):
        raise ValueError(f"{name}: unit must be text, got {unit!r}")
    return Question(
        options=(),
        answer=frozenset(),
        value=float(value),
        tolerance=float(tolerance),
        unit=unit.strip(),
        **common,
    )


def format_number(question: Question, number) -> str:
    """Show ``number`` in the question's unit: ``25 %``, ``0.665``, ``1,000 steps``."""
    text = f"{number:,g}" if abs(number) >= 1e4 else f"{number:g}"
    return f"{text} {question.unit}".strip()


def parse_number(text) -> float:
    """Read a learner's typed number: ``0.665``, ``25``, ``25 %``, ``1,000`` or ``1e-3``.

    Raises:
        ValueError: the text is empty or not a finite number; the message quotes it.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    cleaned = text.strip().rstrip("%").replace(",", "").replace(" ", "").replace("−", "-")
    if not cleaned:
        raise ValueError(NO_NUMBER)
    try:
        number = float(cleaned)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not a number.") from None
    if number != number or abs(number) == float("inf"):
        raise ValueError(f"{text.strip()!r} is not a finite number.")
    return number


def grade(question: Question, chosen) -> Grade:
    """Grade the options ``chosen`` (indices into ``question.options``), or for a number
    question the number predicted.

    A single-answer question scores 1 or 0. A check-all question scores the correct options
    picked minus the wrong ones picked, over the number of correct options, at least 0: so
    ticking every box does not earn full marks. A number scores 1 within the question's
    tolerance of its answer, else 0.
    """
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question, got {type(question).__name__}")
    if question.kind == "number":
        if isinstance(chosen, bool) or not isinstance(chosen, (int, float)):
            raise TypeError(f"chosen must be a number for question {question.id!r}, got {chosen!r}")
        if abs(chosen - question.value) <= question.tolerance * (1 + 1e-9):  # 0.1 + 0.2 ≠ 0.3
            return Grade(1.0, "right", "Right.")
        return Grade(0.0, "wrong", f"Not quite: you predicted {format_number(question, chosen)}.")
    try:
        chosen = {int(i) for i in chosen}
    except (TypeError, ValueError):
        raise TypeError(f"chosen must be a collection of option indices, got {chosen!r}") from None
    if any(not 0 <= i < len(question.options) for i in chosen):
        raise ValueError(
            f"chosen must hold indices 0 to {len(question.options) - 1}, got {sorted(chosen)}"
        )
    if not chosen:
        return Grade(0.0, "wrong", NO_CHOICE)
    hits, false_picks = len(chosen & question.answer), len(chosen - question.answer)
    if chosen == question.answer:
        return Grade(1.0, "right", "Right.")
    if question.kind == "single":
        return Grade(0.0, "wrong", "Not quite.")
    score = max(0, hits - false_picks) / len(question.answer)
    missed = len(question.answer) - hits
    parts = [f"{hits} of {len(question.answer)} correct options chosen"]
    if false_picks:
        parts.append(f"{false_picks} wrong option{'s' * (false_picks > 1)} chosen")
    if missed:
        parts.append(f"{missed} missed")
    verdict = "partly right" if score > 0 else "wrong"
    return Grade(score, verdict, f"{verdict.capitalize()}: {', '.join(parts)}.")


def _inline(text: str) -> str:
    """Escape text for HTML and show `code` spans as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _heading_text(line: str) -> str:
    return re.sub(r"^#+\s*", "", line).strip()


def section_cell_id(notebook_path, section: str):
    """Return the id of the markdown cell that opens with the heading ``section``, or None.

    None when the notebook is missing or unreadable, or no cell's first line is that heading.
    """
    try:
        cells = json.loads(Path(notebook_path).read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    for cell in cells:
        source = "".join(cell.get("source", ""))
        first = source.lstrip().split("\n", 1)[0]
        if cell.get("cell_type") == "markdown" and first.startswith("#"):
            if _heading_text(first) == section:
                return cell.get("id")
    return None


def section_link_output(question: Question, cell_id=None) -> dict:
    """Return a display_data output (nbformat dict) linking to the section that teaches it.

    With the ``cell_id`` of the section's heading cell the link is ``#cell-id=…``: JupyterLab
    finds a cell by id as soon as the notebook is loaded, so a click that opens the notebook
    lands on the section; a heading is found only once its cell is rendered, too late for a
    notebook the click has just opened (then it stays at its top). Without a cell id, the link
    names the heading (``#heading=…``), which works in a notebook already open.
    """
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question, got {type(question).__name__}")
    if cell_id is not None and not (isinstance(cell_id, str) and _CELL_ID.match(cell_id)):
        raise ValueError(f"cell_id must be an nbformat cell id, got {cell_id!r}")
    text = f"See {question.notebook[:2]}, {question.section}."
    target = f"cell-id={cell_id}" if cell_id else f"heading={heading_anchor(question.section)}"
    href = f"{question.notebook}#{target}"
    return {
        "output_type": "display_data",
        "data": {
            "text/html": f"<a href='{html.escape(href)}'>{html.escape(text)}</a>",
            "text/plain": f"{text} ({question.link})",
        },
        "metadata": {},
    }


def static_question_html(question: Question, *, answer: str = "details", suffix=None) -> str:
    """Return one question as HTML that needs no kernel: the options, then the answer and its
    explanation, revealed in the page itself.

    Args:
        question: a Question (from load_quiz).
        answer: ``"details"`` (a page: the reader opens a ``<details>`` box) or ``"fragment"``
            (a reveal.js slide: the answer appears on the next key press).
        suffix: the file suffix of the pages the "See …" link points at (``".html"``), or None
            for the section's name without a link.
    """
    if not isinstance(question, Question):
        raise TypeError(f"question must be a Question, got {type(question).__name__}")
    if answer not in ("details", "fragment"):
        raise ValueError(f"answer must be 'details' or 'fragment', got {answer!r}")
    if suffix is not None and not isinstance(suffix, str):
        raise TypeError(f"suffix must be a file suffix such as '.html' or None, got {suffix!r}")
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    kind = {"multiple": " <i>(check all that apply)</i>", "number": " <i>(predict a number)</i>"}
    options = "".join(f"<li>{_inline(text)}</li>" for text in question.options)
    if question.kind == "number":
        options = ""
        right = html.escape(
            f"{format_number(question, question.value)}"
            f" (within {format_number(question, question.tolerance)})"
        )
    else:
        options = f"<ol type='A' style='list-style-type: upper-alpha'>{options}</ol>"
        right = ", ".join(letters[i] for i in sorted(question.answer))
    see = f"See {question.notebook[:2]}, {html.escape(question.section)}."
    if suffix is not None:
        href = f"{Path(question.notebook).stem}{suffix}#{heading_anchor(question.section)}"
        see = f"<a href='{html.escape(href)}'>{see}</a>"
    label = "Answers" if len(question.answer) > 1 else "Answer"
    body = f"<p><b>{label}: {right}.</b> {_inline(question.explanation)}</p><p>{see}</p>"
    if answer == "details":
        body = f"<details><summary>Show the answer</summary>{body}</details>"
    else:
        body = f"<div class='fragment'>{body}</div>"
    return (
        f"<div class='course-quiz' data-question='{html.escape(question.id)}'>"
        f"<p><b>{_inline(question.question)}</b>{kind.get(question.kind, '')}</p>"
        f"{options}{body}</div>"
    )


class Quiz:
    """The questions as widgets, and a running score.

    ``quiz.show(id)`` returns one question's widget; ``quiz.summary`` is a widget that updates
    whenever an answer is checked. ``notebooks_dir`` is where the lessons are (default: the
    working directory, which is 09's folder in JupyterLab); the links point at their cells.
    """

    def __init__(self, questions, notebooks_dir=None):
        import ipywidgets as widgets

        if not questions or not all(isinstance(q, Question) for q in questions):
            raise TypeError("questions must be a non-empty list of Question (from load_quiz)")
        if notebooks_dir is not None and not isinstance(notebooks_dir, (str, Path)):
            raise TypeError(f"notebooks_dir must be a path, got {type(notebooks_dir).__name__}")
        self.notebooks_dir = Path.cwd() if notebooks_dir is None else Path(notebooks_dir)
        self.questions = {q.id: q for q in questions}
        self.scores = {}
        self.summary = widgets.HTML()
        self._update_summary()

    def show(self, question_id: str):
        """Return the widget of one question: the options, a Check button and the feedback."""
        import ipywidgets as widgets

        if question_id not in self.questions:
            raise ValueError(f"no question {question_id!r}; the ids are {list(self.questions)}")
        question = self.questions[question_id]
        self.scores.pop(question_id, None)  # shown afresh: its earlier answer no longer counts
        self._update_summary()
        prompt = widgets.HTML(f"<b>{_inline(question.question)}</b>")
        if question.kind == "number":
            typed = widgets.Text(
                placeholder=f"your prediction{f' ({question.unit})' if question.unit else ''}"
            )
            prompt.value += " <i>(predict a number)</i>"
            choices, chosen = [typed], lambda: typed.value
        elif question.kind == "single":
            choice = widgets.RadioButtons(
                options=[(text, i) for i, text in enumerate(question.options)],
                value=None,
                layout=widgets.Layout(width="auto"),
            )
            choices, chosen = [choice], lambda: set() if choice.value is None else {choice.value}
        else:
            choices = [
                # width auto: at the default width JupyterLab cuts long options off with "…"
                widgets.Checkbox(
                    description=text, value=False, indent=False, layout=widgets.Layout(width="auto")
                )
                for text in question.options
            ]
            prompt.value += " <i>(check all that apply)</i>"
            chosen = lambda: {i for i, box in enumerate(choices) if box.value}  # noqa: E731
        feedback = widgets.HTML()
        # The link to the section is an output, not part of the HTML widget: JupyterLab renders
        # outputs through its own link handling, which opens the notebook *at* the heading
        # (a link inside a widget's HTML is a plain link: the page reloads at the top).
        link = widgets.Output()
        button = widgets.Button(description="Check", button_style="primary")

        def check(_button=None):
            picked = chosen()
            if question.kind == "number":
                try:
                    picked = parse_number(picked)
                except ValueError as error:  # not an answer: nothing to score
                    feedback.value, link.outputs = html.escape(str(error)), ()
                    return
            elif not picked:  # not an answer: nothing to score
                feedback.value = NO_CHOICE
                link.outputs = ()
                return
            result = grade(question, picked)
            self.scores[question.id] = result.score
            colour = {"right": "green", "partly right": "darkorange", "wrong": "firebrick"}
            feedback.value = (
                f"<span style='color:{colour[result.verdict]}'><b>{result.message}</b></span> "
                f"{_inline(question.explanation)}"
            )
            cell_id = section_cell_id(self.notebooks_dir / question.notebook, question.section)
            link.outputs = (section_link_output(question, cell_id),)
            self._update_summary()

        button.on_click(check)
        box = widgets.VBox([prompt, *choices, button, feedback, link])
        box.check = check  # lets tests and instructors trigger the button from code
        box.choices = choices
        box.feedback = feedback
        box.link = link
        return box

    def _update_summary(self):
        total = sum(self.scores.values())
        self.summary.value = (
            f"<b>Score: {round(total, 2):g} of {len(self.questions)}</b> "
            f"({len(self.scores)} of {len(self.questions)} questions checked)"
        )
