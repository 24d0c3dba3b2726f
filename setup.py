"""Build of glassnet's one optional compiled module; everything else is in pyproject.toml.

``glassnet.simplify._ward_native`` is the merge loop of RegionMerger's Ward tree in C (plain
CPython API, no NumPy headers). It is optional: where no C compiler is found the build goes
on without it and the same loop runs in Python (the same tree, 20-25x slower).
"""

import sys

from setuptools import Extension, setup

# No fused multiply-add: the C loop must round exactly as the Python loop does.
args = [] if sys.platform == "win32" else ["-O3", "-ffp-contract=off", "-fno-math-errno"]

setup(
    ext_modules=[
        Extension(
            "glassnet.simplify._ward_native",
            ["src/glassnet/simplify/_ward_native.c"],
            extra_compile_args=args,
            optional=True,
        )
    ]
)
