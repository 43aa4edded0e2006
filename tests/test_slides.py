"""The slide rules of helpers.course.slides (annotate) and the decks it builds (build)."""

import re

import nbformat
import pytest

from helpers.course.slides import (
    annotate,
    annotate_files,
    build_slides,
    heading_levels,
    hide_plumbing,
    main,
)

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
        md("# 05 · Softmax\n\nIn this notebook you will…"),
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
    assert first_section.source == (
        "**Speaker notes · 1. The softmax** — what to remember:\n\n"
        "- softmax normalizes each column; it is smooth.\n"
    )
    assert "The cost looks at the true class only." in second_section.source
    assert first_section.metadata["jupyter"]["source_hidden"] is True
    assert nb.cells[-1].source.startswith("## Summary")


def test_annotating_twice_changes_nothing():
    nb = lesson()
    annotate(nb)
    once = nbformat.writes(nb)
    assert annotate(nb) == []
    assert nbformat.writes(nb) == once


def test_hand_edits_are_kept_unless_forced():
    nb = lesson()
    annotate(nb)
    nb.cells[0].metadata["slideshow"]["slide_type"] = "skip"  # a person hides the title slide
    notes(nb)[0].source += "- and mention the exam.\n"
    kept = annotate(nb)
    assert len(kept) == 2 and "set by hand" in kept[1] and "edited" in kept[0]
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "skip"
    assert notes(nb)[0].source.endswith("- and mention the exam.\n")
    assert annotate(nb, force=True) == []
    assert nb.cells[0].metadata["slideshow"]["slide_type"] == "slide"
    assert not notes(nb)[0].source.endswith("- and mention the exam.\n")


def test_notes_follow_their_section_when_the_text_changes():
    nb = lesson()
    annotate(nb)
    nb.cells[3].source = "## 1. The softmax\n\nA new opening sentence. More."
    nb.cells[11].source = nb.cells[11].source.replace("**What to remember:**", "Recap:")
    annotate(nb)
    assert "- A new opening sentence." in notes(nb)[0].source
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


@pytest.mark.slow
def test_a_deck_loads_everything_from_beside_it(tmp_path):
    path = tmp_path / "05_softmax.ipynb"
    nb = lesson()
    annotate(nb)
    nbformat.write(nb, path)
    written = build_slides([path], tmp_path / "slides")
    deck = (tmp_path / "slides" / "05_softmax.slides.html").read_text()
    assert [p.name for p in written] == ["05_softmax.slides.html", "index.html"]
    loads = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]*)"', deck)
    loads += re.findall(r'"([^"]*\.js)"', deck)
    assert loads and all(not re.match(r"(https?:)?//", url) for url in loads), loads
    for url in {u.split("?")[0] for u in loads}:
        assert (tmp_path / "slides" / url).is_file(), url
    assert '<aside class="notes">' in deck and "Speaker notes · 1. The softmax" in deck
    assert 'class="fragment"' in deck
    assert "# install guard" not in deck  # set-up cells are skipped
    assert "BEGIN SOLUTION" not in deck and "pass" in deck  # nbgrader's markers are not shown


def test_the_tools_marks_are_hidden_on_slides_and_nothing_else():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "# NBVAL_IGNORE_OUTPUT\n# Why: CPU rounding\n#   differs.\n# plot it\nx = 1\n"
            "def f():\n    ### BEGIN SOLUTION\n    return 2\n    ### END SOLUTION"
        ),
        nbformat.v4.new_code_cell("# NBVAL_SKIP\n# a comment, not a why\ny = 2"),
        nbformat.v4.new_markdown_cell("### BEGIN SOLUTION is only code's"),
    ]
    hide_plumbing(nb)
    assert [c.source for c in nb.cells] == [
        "# plot it\nx = 1\ndef f():\n    return 2",
        "# a comment, not a why\ny = 2",
        "### BEGIN SOLUTION is only code's",
    ]
