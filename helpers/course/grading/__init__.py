"""The autograder's parts, in the order a submission meets them (``helpers.course.grade`` runs
them; its docstring says what an instructor can rely on):

1. :mod:`.submission` reads a notebook the student handed in: size limits, metadata validated,
   one exercise cell per graded function (the one run last when there are copies).
2. :mod:`.plan` makes a :class:`~.plan.Plan`: the instructor's set-up cells, each exercise cell,
   the references that stand in for the exercises it builds on, and the cases' inputs — public
   ones and hidden ones drawn for this batch, whose expected values stay in the grader.
3. :mod:`.run` runs a plan in the sandbox (:mod:`helpers.course.sandbox`) through the runner
   (:mod:`helpers.course.runner`), one exercise at a time: a :class:`~.run.ExerciseRun` each.
4. :mod:`.verdict` judges each exercise as its run ends: a :class:`~.verdict.Verdict`.
5. :mod:`.reports` writes what the instructor reads (table, JSON, CSV gradebook, item
   analysis); :mod:`.feedback` the pages a student may be given; :mod:`.gradescope` Gradescope's
   results file; :mod:`.similarity` the pairs of cells that match after normalising.

:mod:`.self_test` grades the instructor's own solution in the same sandbox before a batch.
"""
