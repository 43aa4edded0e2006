"""The speaker notes' format and the checks of helpers.course.speaker_notes."""

import nbformat
import pytest

from helpers.course.slides import annotate
from helpers.course.speaker_notes import (
    TEMPLATE,
    copied_text,
    has_notes_written,
    notes_problems,
    parse_notes,
    section_minutes,
    stated_minutes,
)

NOTES = """**Speaker notes · {heading}** · {minutes} min

- {point}
- Draw the three bars on the board before showing the slide.

**Ask the room:** {question}

**Misconception:** that a bigger score always gives a more extreme probability.
"""


def notes(heading="1. The softmax", minutes=12, point=None, question=None):
    return NOTES.format(
        heading=heading,
        minutes=minutes,
        point=point or "Ask who has met the logistic function: softmax is its C-class form.",
        question=question or "What happens to the probabilities if every score grows by 100?",
    )


def lesson(first=None, second=None):
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# 05 · Softmax\n\n**Time:** 20 minutes."),
        md(
            "## 1. The softmax\n\nSoftmax turns a column of scores into probabilities summing to 1."
        ),
        md("## 2. Cost\n\nThe cost looks at the true class only."),
        md("## Summary\n\nDone."),
    ]
    annotate(nb)
    cells = [c for c in nb.cells if "notes_for" in c.metadata.get("course", {})]
    for cell, text in zip(cells, (first, second), strict=True):
        if text is not None:
            cell.source = text
    return nb


def test_notes_in_the_format_are_read():
    read = parse_notes(notes())
    assert (read.heading, read.minutes, len(read.points)) == ("1. The softmax", 12, 2)
    assert read.question.startswith("What happens") and read.misconception.startswith("that a")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Say hello.", "the first line must be"),
        (notes().replace("· 12 min", "· twelve min"), "minutes must be a whole number"),
        (notes().replace("- Draw", "Draw"), "not a talking point"),
        (
            notes().replace("- Draw the three bars on the board before showing the slide.\n", ""),
            "2 or 3 talking points",
        ),
        (notes().replace("**Ask the room:**", "**Ask:**"), "not a talking point"),
        (notes().split("**Misconception:**")[0], "'\\*\\*Misconception:\\*\\*' and its text"),
        (TEMPLATE.format(heading="1. The softmax").replace("?", "5"), "placeholders"),
    ],
)
def test_notes_out_of_format_are_refused_saying_why(text, message):
    with pytest.raises(ValueError, match=message):
        parse_notes(text)


def test_copied_text_is_found_however_it_is_formatted():
    slide = "Softmax **turns a column** of scores into $p$ probabilities that sum to 1."
    assert copied_text("It turns a column of scores into p probabilities!", slide) == (
        "turns a column of scores into"
    )
    assert copied_text("Probabilities are scores made positive, then normalized.", slide) is None


def test_template_notes_are_not_written_and_the_agenda_has_no_minutes_yet():
    nb = lesson()
    assert not has_notes_written(nb)
    assert section_minutes(nb) == [("1. The softmax", None), ("2. Cost", None)]
    assert notes_problems(nb, "05") == [
        "05, section '1. The softmax': the notes are not written yet",
        "05, section '2. Cost': the notes are not written yet",
    ]


def test_written_notes_that_add_up_pass():
    nb = lesson(notes(), notes("2. Cost", 8))
    assert has_notes_written(nb) and stated_minutes(nb) == 20
    assert section_minutes(nb) == [("1. The softmax", 12), ("2. Cost", 8)]
    assert notes_problems(nb, "05") == []


def test_a_note_that_repeats_its_slide_is_refused():
    copied = notes(point="Softmax turns a column of scores into probabilities summing to 1.")
    assert notes_problems(lesson(copied, notes("2. Cost", 8)), "05") == [
        "05, section '1. The softmax': the note repeats the slide: "
        "'softmax turns a column of scores' in 'Softmax turns a column of scores into "
        "probabilities summing to 1.'"
    ]


def test_minutes_that_do_not_add_up_and_notes_for_another_section_are_refused():
    assert notes_problems(lesson(notes(), notes("2. Cost", 5)), "05") == [
        "05: the sections' minutes add up to 17, the notebook says 20"
    ]
    assert notes_problems(lesson(notes(), notes("1. The softmax", 8)), "05") == [
        "05, section '2. Cost': the notes are headed '1. The softmax'"
    ]


def test_a_notebook_that_states_no_time_is_named():
    nb = lesson(notes(), notes("2. Cost", 8))
    nb.cells[0].source = "# 05 · Softmax"
    assert notes_problems(nb, "05") == [
        "05: the first cell states no time ('**Time:** N minutes.')"
    ]


def test_optional_sections_add_up_to_the_optional_time():
    md = nbformat.v4.new_markdown_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# 05 · Softmax\n\n**Time:** 12 minutes, plus 8 for the optional part."),
        md("## 1. The softmax\n\nSoftmax turns a column of scores into probabilities."),
        md("## 2. Cost (optional)\n\nThe cost looks at the true class only."),
        md("## Summary\n\nDone."),
    ]
    annotate(nb)
    first, second = (c for c in nb.cells if "notes_for" in c.metadata.get("course", {}))
    first.source, second.source = notes(), notes("2. Cost (optional)", 8)
    assert notes_problems(nb, "05") == []
    second.source = notes("2. Cost (optional)", 9)
    assert notes_problems(nb, "05") == [
        "05: the optional sections' minutes add up to 9, the notebook says 8"
    ]
