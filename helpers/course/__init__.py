"""Course tooling, not lesson code: grading, student releases, execution and HTML export.

Instructors and CI run these (``python -m helpers.course.grade``, ``make student``,
``make notebooks``, ``make html``); a student never needs to open them.
"""
