"""helpers.quiz: the quiz file is validated with errors naming the question, answers are graded,
every link points at an existing notebook heading, and the widgets score what is checked."""

import json
import re
import textwrap
from pathlib import Path

import pytest

from helpers.quiz import (
    Question,
    Quiz,
    _heading_text,
    grade,
    heading_anchor,
    load_quiz,
    parse_number,
    section_cell_id,
    section_link_output,
    static_question_html,
)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


# The link check lives here, with its only user: the tests run it over the shipped quiz.
def check_links(questions, notebooks_dir) -> list:
    """Return a description of every question whose link would not land on its section.

    The notebook must exist and the section must be a heading that opens a markdown cell (the
    link points at that cell).
    """
    problems, headings = [], {}
    for question in questions:
        path = Path(notebooks_dir) / question.notebook
        if not path.exists():
            problems.append(f"{question.id}: no notebook {question.notebook}")
            continue
        if section_cell_id(path, question.section) is not None:
            continue
        if path not in headings:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            headings[path] = {
                _heading_text(line)
                for cell in cells
                if cell["cell_type"] == "markdown"
                for line in "".join(cell["source"]).splitlines()
                if line.startswith("#")
            }
        if question.section in headings[path]:
            problems.append(
                f"{question.id}: {question.notebook}: heading {question.section!r} does not "
                "start its cell (run `make slide-metadata`)"
            )
        else:
            problems.append(
                f"{question.id}: {question.notebook} has no heading {question.section!r}"
            )
    return problems


VALID = """
questions:
  - id: first
    kind: single
    question: Which?
    options:
      - text: this one
        correct: true
      - text: that one
    explanation: Because.
    notebook: 01_tuning_process.ipynb
    section: 1. Which hyperparameters matter most
  - id: second
    kind: multiple
    question: Which are true?
    options:
      - text: a
        correct: true
      - text: b
        correct: true
      - text: c
      - text: d
    explanation: a and b.
    notebook: 02_appropriate_scale.ipynb
    section: 3. The log scale
  - id: third
    kind: number
    question: What share?
    answer: 25
    tolerance: 3
    unit: "%"
    explanation: A quarter.
    notebook: 02_appropriate_scale.ipynb
    section: 3. The log scale
"""


def write(tmp_path, text):
    path = tmp_path / "quiz.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def questions(tmp_path):
    return load_quiz(write(tmp_path, VALID))


def test_the_shipped_quiz_loads_and_covers_every_lesson():
    quiz = load_quiz()
    assert len(quiz) >= 10
    assert {q.notebook[:2] for q in quiz} == {"01", "02", "03", "04", "05", "06", "07", "08"}
    assert any(q.kind == "multiple" for q in quiz)


def test_every_link_of_the_shipped_quiz_resolves_to_a_heading():
    assert check_links(load_quiz(), NOTEBOOKS) == []


def test_a_valid_file_gives_questions_with_their_answers(questions):
    first, second, number = questions
    assert first.options == ("this one", "that one") and first.answer == {0}
    assert second.kind == "multiple" and second.answer == {0, 1}
    assert (number.kind, number.value, number.tolerance, number.unit) == ("number", 25, 3, "%")
    assert number.options == () and first.value is None
    assert first.link == "01_tuning_process.ipynb#1.-Which-hyperparameters-matter-most"


def _replace(old, new):
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("questions: [\n", "not valid YAML"),
        ("- just a list\n", "a list under 'questions'"),
        ("questions: []\n", "no questions"),
        (_replace("    explanation: Because.\n", ""), "question 'first': missing explanation"),
        (_replace("  - id: first\n", "  - id: first\n    hint: no\n"), "unknown field hint"),
        (_replace("id: first", "id: First Question"), "id must be lowercase"),
        (_replace("id: second", "id: first"), "'first': the id is used twice"),
        (_replace("kind: single", "kind: radio"), "'first': kind must be one of"),
        (_replace("question: Which?", "question: ''"), "'first': question must be non-empty"),
        (
            _replace("      - text: that one\n", "      - text: that one\n        correct: true\n"),
            "'first': a single-answer question needs exactly one correct option, got 2",
        ),
        (
            _replace("        correct: true\n      - text: that one", "      - text: that one"),
            "'first': a single-answer question needs exactly one correct option, got 0",
        ),
        (
            VALID.replace("      - text: a\n        correct: true", "      - text: a").replace(
                "      - text: b\n        correct: true", "      - text: b"
            ),
            "'second': a check-all question needs at least one correct option",
        ),
        (
            _replace("      - text: that one\n", ""),
            "'first': options must be a list of two or more",
        ),
        (_replace("text: that one", "text: this one"), "'first': two options have the same text"),
        (_replace("correct: true", "correct: yes please"), "'first': option 1 may hold only"),
        (
            _replace("notebook: 01_tuning_process.ipynb", "notebook: lesson one"),
            "'first': notebook must be a file name",
        ),
        (_replace("  - id: first\n", "  - id: 7\n"), "question 1: id must be non-empty text"),
        (_replace("    tolerance: 3\n", ""), "'third': missing tolerance"),
        (_replace("answer: 25", "answer: '25'"), "'third': answer must be a number, got '25'"),
        (_replace("answer: 25", "answer: .nan"), "'third': answer must be finite"),
        (_replace("tolerance: 3", "tolerance: -1"), "'third': tolerance must be 0 or more"),
        (_replace('unit: "%"', "unit: 7"), "'third': unit must be text"),
    ],
)
def test_an_invalid_file_is_refused_naming_the_question(tmp_path, text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_quiz(write(tmp_path, text))


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_quiz(tmp_path / "nope.yaml")


def test_a_link_to_a_missing_notebook_or_heading_is_reported(questions, tmp_path):
    wrong_section = Question(**{**questions[0].__dict__, "section": "9. Nowhere"})
    wrong_file = Question(**{**questions[0].__dict__, "notebook": "42_nothing.ipynb"})
    problems = check_links([questions[0], wrong_section, wrong_file], NOTEBOOKS)
    assert problems == [
        "first: 01_tuning_process.ipynb has no heading '9. Nowhere'",
        "first: no notebook 42_nothing.ipynb",
    ]


def test_a_heading_inside_a_cell_is_reported(tmp_path, questions):
    cell = {"cell_type": "markdown", "id": "c1", "metadata": {}}
    cells = [dict(cell, source=["Intro.\n", "\n", "## 1. Which hyperparameters matter most"])]
    (tmp_path / "01_tuning_process.ipynb").write_text(json.dumps({"cells": cells}))
    assert section_cell_id(tmp_path / "01_tuning_process.ipynb", questions[0].section) is None
    assert check_links([questions[0]], tmp_path) == [
        "first: 01_tuning_process.ipynb: heading '1. Which hyperparameters matter most' does "
        "not start its cell (run `make slide-metadata`)"
    ]


def test_every_link_points_at_a_cell_id_even_for_greek_headings():
    by_id = {q.id: q for q in load_quiz()}
    for question in by_id.values():
        cell_id = section_cell_id(NOTEBOOKS / question.notebook, question.section)
        output = section_link_output(question, cell_id)
        href = re.search(r"href='([^']+)'", output["data"]["text/html"])
        assert href.group(1) == f"{question.notebook}#cell-id={cell_id}", question.id
        assert href.group(1).isascii()  # "μ and σ²" would need percent-encoding as a heading


def test_a_link_without_a_cell_id_names_the_heading_and_a_bad_id_is_refused(questions):
    output = section_link_output(questions[0])
    assert "#heading=1.-Which-hyperparameters-matter-most'" in output["data"]["text/html"]
    with pytest.raises(ValueError, match="cell_id must be an nbformat cell id"):
        section_link_output(questions[0], "a b")
    with pytest.raises(TypeError, match="notebooks_dir must be a path"):
        Quiz(questions, notebooks_dir=3)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("## 2. Random values, not a grid", "2.-Random-values,-not-a-grid"),
        ("## 5. The same training with `model.fit`", "5.-The-same-training-with-model.fit"),
        ("### A slip to avoid: a *normal* exponent", "A-slip-to-avoid:-a-normal-exponent"),
        ("4. Keras: `moving_mean`", "4.-Keras:-moving_mean"),
    ],
)
def test_heading_anchors_follow_jupyterlab(heading, anchor):
    assert heading_anchor(heading) == anchor


def test_single_answers_score_one_or_zero(questions):
    single = questions[0]
    assert grade(single, {0}).score == 1.0 and grade(single, {0}).verdict == "right"
    assert grade(single, [1]).score == 0.0 and grade(single, [1]).verdict == "wrong"
    assert grade(single, set()).message == "Choose an answer first."


@pytest.mark.parametrize(
    ("chosen", "score", "verdict", "says"),
    [
        ({0, 1}, 1.0, "right", "Right."),
        ({0}, 0.5, "partly right", "1 of 2 correct options chosen, 1 missed"),
        ({0, 1, 2}, 0.5, "partly right", "2 of 2 correct options chosen, 1 wrong option chosen"),
        ({0, 1, 2, 3}, 0.0, "wrong", "2 wrong options chosen"),
        ({2}, 0.0, "wrong", "0 of 2 correct options chosen"),
    ],
)
def test_check_all_answers_earn_partial_credit(questions, chosen, score, verdict, says):
    result = grade(questions[1], chosen)
    assert (result.score, result.verdict) == (score, verdict)
    assert says in result.message


@pytest.mark.parametrize(
    ("chosen", "error", "message"),
    [({5}, ValueError, "indices 0 to 1"), (None, TypeError, "collection of option indices")],
)
def test_bad_choices_are_named(questions, chosen, error, message):
    with pytest.raises(error, match=message):
        grade(questions[0], chosen)


@pytest.mark.parametrize(
    ("predicted", "score", "says"),
    [
        (25, 1.0, "Right."),
        (28, 1.0, "Right."),
        (21.9, 0.0, "you predicted 21.9 %"),
        (90, 0.0, "90 %"),
    ],
)
def test_a_prediction_is_right_within_the_tolerance(questions, predicted, score, says):
    result = grade(questions[2], predicted)
    assert result.score == score and says in result.message


def test_a_prediction_must_be_a_number(questions):
    for bad in ("25", True, None, [25]):
        with pytest.raises(TypeError, match="chosen must be a number for question 'third'"):
            grade(questions[2], bad)


@pytest.mark.parametrize(
    ("typed", "number"),
    [("25", 25.0), (" 25 % ", 25.0), ("1,000", 1000.0), ("1e-3", 0.001), ("−0.5", -0.5)],
)
def test_typed_numbers_are_read_as_a_learner_writes_them(typed, number):
    assert parse_number(typed) == number


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type a number first."),
        ("  ", "Type a number first."),
        ("a quarter", "'a quarter' is not a number"),
        ("inf", "not a finite number"),
    ],
)
def test_text_that_is_not_a_number_is_named(typed, message):
    with pytest.raises(ValueError, match=message):
        parse_number(typed)


def test_the_number_widget_scores_a_prediction_and_explains_after_it(questions):
    quiz = Quiz(questions, notebooks_dir=NOTEBOOKS)
    widget = quiz.show("third")
    (typed,) = widget.choices
    widget.check()
    assert (
        widget.feedback.value == "Type a number first." and "A quarter" not in widget.feedback.value
    )
    typed.value = "about 25"
    widget.check()
    assert "is not a number" in widget.feedback.value and "third" not in quiz.scores
    typed.value = "50"
    widget.check()
    assert "you predicted 50 %" in widget.feedback.value and "A quarter." in widget.feedback.value
    assert quiz.scores["third"] == 0.0
    typed.value = "24 %"
    widget.check()
    assert "Right." in widget.feedback.value and quiz.scores["third"] == 1.0
    assert "Score: 1 of 3" in quiz.summary.value


def test_a_number_question_in_a_page_shows_its_answer_only_when_asked(questions):
    page = static_question_html(questions[2])
    assert "<b>What share?</b> <i>(predict a number)</i>" in page and "<ol" not in page
    shown, hidden = page.split("<details>")
    assert "25" not in shown
    assert "<b>Answer: 25 % (within 3 %).</b> A quarter." in hidden


def test_grade_wants_a_question():
    with pytest.raises(TypeError, match="question must be a Question"):
        grade({"id": "x"}, {0})


def test_the_widgets_grade_explain_link_and_keep_score(questions):
    quiz = Quiz(questions, notebooks_dir=NOTEBOOKS)
    assert "Score: 0 of 3" in quiz.summary.value

    single = quiz.show("first")
    single.check()
    assert "Choose an answer first" in single.feedback.value
    assert single.link.outputs == ()
    single.choices[0].value = 0
    single.check()
    feedback = single.feedback.value
    assert "Right." in feedback and "Because." in feedback
    # The link is an output of its own, so JupyterLab's link handling opens the section; it
    # points at the heading's cell, which JupyterLab finds even in a notebook just opened.
    (link,) = single.link.outputs
    assert link["output_type"] == "display_data"
    heading_cell = section_cell_id(NOTEBOOKS / "01_tuning_process.ipynb", questions[0].section)
    assert heading_cell is not None
    assert f"href='01_tuning_process.ipynb#cell-id={heading_cell}'" in link["data"]["text/html"]

    several = quiz.show("second")
    several.choices[0].value = True
    several.check()
    assert "Partly right" in several.feedback.value
    assert "Score: 1.5 of 3" in quiz.summary.value
    assert "2 of 3 questions checked" in quiz.summary.value

    quiz.show("first")  # re-running a question's cell starts it afresh
    assert "Score: 0.5 of 3" in quiz.summary.value


def test_partial_scores_show_two_decimals_and_options_show_in_full():
    quiz = Quiz(load_quiz())
    widget = quiz.show("softmax-output")  # three right options; one ticked earns a third
    assert all(box.layout.width == "auto" for box in widget.choices)
    widget.choices[0].value = True
    widget.check()
    assert f"Score: 0.33 of {len(quiz.questions)}</b>" in quiz.summary.value


def test_showing_an_unknown_question_names_the_ids(questions):
    with pytest.raises(ValueError, match="no question 'fourth'"):
        Quiz(questions).show("fourth")


def test_a_question_without_a_kernel_shows_its_answer_and_explanation_in_the_page(questions):
    first, second, _number = questions
    page = static_question_html(second, suffix=".html")
    assert "<b>Which are true?</b> <i>(check all that apply)</i>" in page
    assert re.findall(r"<li>(.*?)</li>", page) == ["a", "b", "c", "d"]
    answer = re.search(r"<details><summary>Show the answer</summary>(.*)</details>", page)
    assert answer and "<b>Answers: A, B.</b> a and b." in answer.group(1)
    assert "href='02_appropriate_scale.html#3.-The-log-scale'" in answer.group(1)
    slide = static_question_html(first, answer="fragment")
    assert "<div class='fragment'><p><b>Answer: A.</b> Because.</p>" in slide
    assert "<a " not in slide and "See 01, 1. Which hyperparameters matter most." in slide
    with pytest.raises(ValueError, match="answer must be 'details' or 'fragment'"):
        static_question_html(first, answer="popup")
    with pytest.raises(TypeError, match="question must be a Question"):
        static_question_html("first")
