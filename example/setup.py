"""Builds the example extensions: `python3 setup.py build_ext --inplace`
(or `pip install .` in this folder). They are there to be checked by
gilcheck; "spam" has real GIL mistakes in it, so do not use it for anything
that matters."""
from setuptools import Extension, setup

setup(
    name="gilcheck-example",
    version="0.1.0",
    description="Example CPython extensions for gilcheck",
    ext_modules=[
        Extension("spam", ["spammodule.c"]),
        Extension("clean", ["cleanmodule.c"]),
    ],
)
