"""The slide rules of helpers.course.slides (annotate) and the decks it builds (build)."""

import re

import nbformat
import pytest

from helpers.course.slides import (
    SHOW_CODE_TAG,
    agenda_cell,
    annotate,
    annotate_files,
    build_slides,
    heading_levels,
    lecture_view,
    main,
    presentable_code,
)
from helpers.course.speaker_notes import TEMPLATE

SOLUTION = {
    "nbgrader": {
        "grade": False,
        "grade_id": "softmax",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
}
CHECK = {
    "nbgrader": {
        "grade": True,
        "grade_id": "check_softmax",
        "locked": True,
        "points": 1,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
}
DERIVATION = "The gradient, step by step:\n\n$$\n" + "a = b \\\\\n" * 14 + "$$\n"


def lesson():
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        md("# 05 · Softmax\n\nIn this notebook you will… **Time:** 20 minutes."),
        code("# install guard\nimport helpers"),
        code("import numpy as np"),
        md("## 1. The softmax\n\nSoftmax turns scores into probabilities. It is smooth."),
        md("Exercise: write `softmax(Z)`; `Z` is `(C, m)`."),
        code("def softmax(Z):\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION", **{}),
        code("check_softmax(softmax)"),
        md("### Hard max\n\nText."),
        md(DERIVATION),
        code("x = 1\n" * 25),
        md("**What to remember:** softmax normalizes each column;\nit is smooth.\n\n## 2. Cost"),
        md("```\n# not a heading\n```\nThe cost looks at the true class only."),
        code("rng = helpers.setup_notebook(0)"),
        md("## Summary\n\n← previous · index · next →"),
    ]
    nb.cells[5].metadata.update(SOLUTION)
    nb.cells[6].metadata.update(CHECK)
    nb.cells[12].metadata["course"] = {"setup": True}  # the notebook's set-up cell
    return nb


def slide_types(nb):
    return [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]


def notes(nb):
    return [c for c in nb.cells if c.metadata.get("slideshow", {}).get("slide_type") == "notes"]


def test_headings_outside_code_fences_are_found():
    assert heading_levels("# A\ntext\n```\n# comment\n```\n### B #") == [(1, "A"), (3, "B")]


def test_the_rules_give_each_cell_its_slide_type():
    nb = lesson()
    assert annotate(nb) == []
    first_section, second_section = notes(nb)
    assert slide_types(nb) == [
        "slide",  # title
        "skip",  # install guard: set-up, before the first section
        "skip",  # imports
        "slide",  # ## 1.
        "notes",  # its speaker notes
        "-",  # the task
        "fragment",  # the solution, on the next key press
        "-",  # its check, with the solution
        "subslide",  # ### heading
        "subslide",  # a long derivation
        "subslide",  # a long code cell
        "-",  # what to remember of 1: still section 1's slide
        "slide",  # ## 2., split off into a cell of its own
        "notes",
        "-",
        "skip",  # setup_notebook
        "slide",  # ## Summary: no notes (the last markdown cell keeps the navigation)
    ]
    # the notes are a template for a person to fill in: nothing copied from the slide
    assert first_section.source == TEMPLATE.format(heading="1. The softmax")
    assert second_section.source == TEMPLATE.format(heading="2. Cost")
    assert first_section.metadata["jupyter"]["source_hidden"] is True
    assert nb.cells[-1].source.startswith("## Summary")


def test_annotating_twice_changes_nothing():
    nb = lesson()
    annotate(nb)
    once = nbformat.writes(nb)
    assert annotate(nb) == []
    assert nbformat.writes(nb) == once


WRITTEN = """**Speaker notes · 1. The softmax** · 12 min

- Ask who has met the logistic function: softmax is its C-class form.
- Draw three bars of scores and their probabilities on the board.

**Ask the room:** What happens to the probabilities if every score grows by 100?

**Misconception:** that bigger scores always make the probabilities more extreme.
"""


def test_a_slide_type_set_by_hand_is_kept_unless_forced_and_written_notes_always():
    nb = lesson()
    annotate(nb)
    nb.cells[0].metadata["slideshow"]["slide_type"] = "skip"  # a person hides the title slide
    notes(nb)[0].source = WRITTEN
    kept = annotate(nb)
    assert len(kept) == 1 and "set by hand" in kept[0]
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "skip"
    assert notes(nb)[0].source == WRITTEN
    assert annotate(nb, force=True) == []
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert notes(nb)[0].source == WRITTEN  # notes a person wrote are never replaced


def test_notes_follow_their_sections_and_notes_derived_from_the_slide_become_the_template():
    from helpers.course.speaker_notes import digest

    nb = lesson()
    annotate(nb)
    # what earlier versions of the tool wrote: the slide's own sentence, with its digest
    derived = "**Speaker notes · 2. Cost** — where this section goes:\n\n- The cost looks at…\n"
    notes(nb)[1].source = derived
    notes(nb)[1].metadata["course"]["notes_digest"] = digest(derived)
    notes(nb)[0].source = WRITTEN
    annotate(nb)
    assert notes(nb)[1].source == TEMPLATE.format(heading="2. Cost")
    section_1 = [c for c in nb.cells if c.source.startswith(("## 1.", "Exercise", "def softmax"))]
    nb.cells = [c for c in nb.cells if c not in section_1]  # section 1 gone, its notes written
    kept = annotate(nb)
    assert kept == ["notes of the removed section '1. The softmax' were written by hand; kept"]
    nb.cells = [c for c in nb.cells if not c.source.startswith(("```", "## 2."))]  # section 2 gone
    annotate(nb)
    assert [c.metadata["course"]["notes_for"] for c in notes(nb)] == ["1. The softmax"]


def test_every_heading_starts_a_cell_of_its_own():
    nb = lesson()
    nb.cells[7].source = "Text before.\n\n### Hard max\n\nText.\n```\n## not a heading\n```"
    nb.cells[7].metadata["tags"] = ["keep-me"]
    annotate(nb)
    index = next(i for i, c in enumerate(nb.cells) if c.source == "Text before.")
    before, heading = nb.cells[index], nb.cells[index + 1]
    assert heading.source == "### Hard max\n\nText.\n```\n## not a heading\n```"
    assert heading.id.startswith("sec-") and heading.id != before.id
    assert heading.metadata["tags"] == ["keep-me"]  # metadata copied, slide type by rule
    assert [slide_types(nb)[index], slide_types(nb)[index + 1]] == ["-", "subslide"]
    section_2 = next(c for c in nb.cells if c.source.startswith("## 2. Cost"))
    assert section_2.source == "## 2. Cost"
    assert nbformat.validate(nb) is None  # ids are unique and well formed
    assert all(
        not any(line.startswith("#") for line in c.source.splitlines()[1:])
        for c in nb.cells
        if c.cell_type == "markdown" and "```" not in c.source
    )


def test_an_nbgrader_cell_is_not_split():
    nb = lesson()
    nb.cells[4].source = "Exercise: write `softmax(Z)`.\n\n### Hints"
    nb.cells[4].metadata["nbgrader"] = dict(CHECK["nbgrader"], grade=False, grade_id="task")
    kept = annotate(nb)
    assert kept == [
        f"cell {nb.cells[5].id!r}: a heading not on its first line; nbgrader cell left whole"
    ]
    assert nb.cells[5].source.endswith("### Hints")


def test_annotate_files_writes_atomically_and_only_on_change(tmp_path, capsys):
    path = tmp_path / "05_softmax.ipynb"
    nbformat.write(lesson(), path)
    assert annotate_files([path]) == 0
    written = path.read_bytes()
    assert main(["annotate", str(path)]) == 0
    assert path.read_bytes() == written
    assert "already annotated" in capsys.readouterr().out


def test_annotate_wants_a_notebook():
    with pytest.raises(TypeError, match="nb must be a notebook"):
        annotate({"cells": []})


def lecture(nb=None):
    nb = lesson() if nb is None else nb
    annotate(nb)
    return lecture_view(nb)


def shown(nb):
    """(slide type, first line) of each cell a deck shows; code as its source or 'outputs'."""
    return [
        (
            c.metadata["slideshow"]["slide_type"],
            "outputs"
            if c.metadata.get("transient", {}).get("remove_source")
            else c.source.splitlines()[0],
        )
        for c in nb.cells
    ]


def test_the_lecture_view_is_one_row_of_slides_with_prose_formulas_and_outputs():
    nb = lesson()
    nb.cells[9].outputs = [nbformat.v4.new_output("stream", text="long output\n")]
    assert shown(lecture(nb)) == [
        ("slide", "# 05 · Softmax"),
        ("slide", "## Agenda"),
        ("slide", "## 1. The softmax"),  # its notes are a template: not in the deck
        ("-", "Exercise: write `softmax(Z)`; `Z` is `(C, m)`."),  # the solution shows no code
        ("slide", "### Hard max"),  # a sub-slide once: now the next slide in the row
        ("-", "The gradient, step by step:"),  # the long derivation flows on (the deck splits)
        ("-", "outputs"),  # a long code cell: its output only
        ("-", "**What to remember:** softmax normalizes each column;"),
        ("slide", "## 2. Cost"),
        ("-", "```"),
        ("slide", "## Summary"),
    ]


def test_code_shows_only_where_tagged_without_asserts_and_a_shown_solution_is_a_fragment():
    nb = lesson()
    nb.cells[5].metadata["tags"] = [SHOW_CODE_TAG]
    nb.cells[9].source = "x = 1\nassert x == 1, 'the text relies on it'\nprint(x)"
    nb.cells[9].metadata["tags"] = [SHOW_CODE_TAG]
    nb.cells[6].metadata["tags"] = [SHOW_CODE_TAG]
    cells = shown(lecture(nb))
    assert ("fragment", "def softmax(Z):") in cells
    assert ("-", "x = 1") in cells
    check = next(c for c in lecture_view_source(nb) if c.startswith("check_softmax"))
    assert check == "check_softmax(softmax)"  # tagged: shown, though a check
    code = "\n".join(lecture_view_source(nb))
    assert "assert" not in code and "BEGIN SOLUTION" not in code


def lecture_view_source(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_a_slide_break_set_by_hand_is_kept_and_hand_written_notes_go_to_the_speaker():
    nb = lesson()
    annotate(nb)
    task = next(c for c in nb.cells if c.source.startswith("Exercise"))
    task.metadata["slideshow"]["slide_type"] = "subslide"  # set by hand
    notes(nb)[0].source = WRITTEN
    nb = lecture_view(nb)
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells if c is task] == ["slide"]
    assert [c.source for c in notes(nb)] == [WRITTEN]


def test_the_agenda_lists_the_sections_with_the_minutes_of_their_notes():
    nb = lesson()
    annotate(nb)
    assert agenda_cell(nb).source == (
        "## Agenda\n\n- 1\\. The softmax\n- 2\\. Cost\n\n**Time:** 20 minutes."
    )
    notes(nb)[0].source = WRITTEN
    notes(nb)[1].source = WRITTEN.replace("1. The softmax** · 12", "2. Cost** · 8")
    assert agenda_cell(nb).source == (
        "## Agenda\n\n- 1\\. The softmax · 12 min\n- 2\\. Cost · 8 min\n\n"
        "**Time:** 20 minutes (20 planned above)."
    )


@pytest.mark.slow
def test_a_deck_loads_everything_from_beside_it(tmp_path, web_assets):
    path = tmp_path / "05_softmax.ipynb"
    nb = lesson()
    annotate(nb)
    notes(nb)[0].source = WRITTEN
    solution = next(c for c in nb.cells if c.source.startswith("def softmax"))
    solution.metadata["tags"] = [SHOW_CODE_TAG]
    nbformat.write(nb, path)
    written = build_slides([path], tmp_path / "slides")
    deck = (tmp_path / "slides" / "05_softmax.slides.html").read_text()
    assert [p.name for p in written] == ["05_softmax.slides.html", "index.html"]
    loads = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', deck)
    loads += re.findall(r'"([^"]*\.js)"', deck)
    assert loads and all(not re.match(r"(https?:)?//", url) for url in loads), loads
    for url in {u.split("?")[0] for u in loads}:
        assert (tmp_path / "slides" / url).is_file(), url
    assert deck.count('<aside class="notes">') == 1 and "Ask the room:" in deck
    assert 'class="fragment"' in deck  # the solution, tagged, on a key press
    assert "# install guard" not in deck  # set-up cells are skipped
    assert "BEGIN SOLUTION" not in deck and "pass" in deck  # nbgrader's markers are not shown
    assert "courseDeck.start" in deck and "Agenda" in deck


def test_a_deck_theme_must_be_known(tmp_path):
    with pytest.raises(ValueError, match="theme must be one of white, black, night"):
        build_slides(["05_softmax.ipynb"], tmp_path, theme="solarized")


def test_the_tools_marks_are_hidden_on_slides_and_nothing_else():
    assert presentable_code(
        "# NBVAL_IGNORE_OUTPUT\n# Why: CPU rounding\n#   differs.\n# plot it\nx = 1\n"
        "def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"
    ) == ("# plot it\nx = 1\ndef f():\n    return 2")
    assert presentable_code("# NBVAL_SKIP\n# a comment, not a why\ny = 2") == (
        "# a comment, not a why\ny = 2"
    )


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        # an assert over several lines, and the comment that introduces it
        (
            "y = f(x)\n\n# the best leads by far\nassert (\n    y > 0\n), y\nprint(y)",
            "y = f(x)\n\nprint(y)",
        ),
        # comments addressed to the tests, whatever follows them
        (
            "# The text below relies on these. The plain network\n# fails with most seeds.\n"
            "print(a)\n# what the text below says, on every CPU\nprint(b)",
            "print(a)\nprint(b)",
        ),
        # hidden tests go; a magic line does not stop the asserts from being found
        (
            "%time z = 1\n### BEGIN HIDDEN TESTS\nassert z\n### END HIDDEN TESTS\nassert z == 1\nz",
            "%time z = 1\nz",
        ),
        # not Python at all: lines that start an assert still go
        ("x = (\nassert x\nprint(x)", "x = (\nprint(x)"),
        # an ordinary comment and an assert inside a string stay
        ("# plot the cost\ns = 'assert x'\nplot(s)", "# plot the cost\ns = 'assert x'\nplot(s)"),
        # what is computed only for the asserts right after it goes, with its comment
        (
            "y = f(x)\nprint(y)\n# leads by far\nerrors = sorted(y)\n"
            "lead = errors[1] - errors[0]\nassert lead > 3",
            "y = f(x)\nprint(y)",
        ),
        # a loop of asserts goes whole
        ("for a, b in pairs:\n    assert a == b\nshow(pairs)", "show(pairs)"),
        # a computation with its own effect before the assert stays: the timing, the print
        (
            "serial = run()\nt = clock() - start\nassert serial == parallel\nprint(t)",
            "serial = run()\nt = clock() - start\nprint(t)",
        ),
        (
            "two = softmax(z)\nprint(z)\ngap = abs(two - s)\nassert gap < 1e-12",
            "two = softmax(z)\nprint(z)",
        ),
        # an attribute or item assignment is never taken for a test's
        ("d['k'] = 1\nassert d", "d['k'] = 1"),
    ],
)
def test_code_on_a_slide_leaves_out_asserts_and_what_speaks_to_tests(source, shown):
    assert presentable_code(source) == shown


def test_a_variable_other_cells_read_is_not_test_only():
    source = "errors = sorted(trials)\nassert errors[0] < errors[1]"
    assert presentable_code(source) == ""
    assert presentable_code(source, keep={"errors"}) == "errors = sorted(trials)"
    nb = lesson()
    nb.cells[9].source = "gap = f(x)\nassert gap < 1\nerrors = sorted(x)\nassert errors"
    nb.cells[9].metadata["tags"] = [SHOW_CODE_TAG]
    nb.cells.insert(10, nbformat.v4.new_code_cell("print(errors)"))
    assert "errors = sorted(x)" in lecture_view_source(lecture(nb))  # read by the next cell
    assert "gap = f(x)" not in "\n".join(lecture_view_source(nb))
