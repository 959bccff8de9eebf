"""The optional compiled row step of the bulk import (services/bulk/_rowstep.c). Everything
else is in pyproject.toml. `optional=True`: where no C compiler or OpenSSL headers are found,
the package installs without it and the import writes those bytes in Python (the same
bytes: tests/app/test_bulk_row_step.py)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "services.bulk._rowstep",
            ["services/bulk/_rowstep.c"],
            libraries=["crypto"],
            optional=True,
            extra_compile_args=["-O2", "-Wno-deprecated-declarations"],
        )
    ]
)
