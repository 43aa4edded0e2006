"""The shipped data, installed as the package ``helpers.shipped_data``.

pyproject.toml maps this folder into the ``helpers`` package, so a wheel carries these very
files and ``importlib.resources.files("helpers.shipped_data")`` finds them in an editable
install and in a wheel alike. Read them through ``helpers.data`` and ``helpers.quiz``.
"""
