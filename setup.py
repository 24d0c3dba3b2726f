"""Build of glassnet's two optional compiled modules; everything else is in pyproject.toml.

Both are plain CPython API, no NumPy headers, and optional: where no C compiler is found the
build goes on without them and the same work runs in Python.

- ``glassnet.simplify._ward_native``: the merge loop of RegionMerger's Ward tree (the same
  tree bit for bit in Python, 20-25x slower);
- ``glassnet.simplify._glm_native``: the Newton steps of the merger's and pruner's logistic
  refits (NumPy's steps agree to rounding, 4-5x slower per row and holding the GIL).
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
        ),
        # no trapping math: lets the compiler vectorise the selects of its exp and sigmoid
        # loops (no code here reads the floating-point exception flags)
        Extension(
            "glassnet.simplify._glm_native",
            ["src/glassnet/simplify/_glm_native.c"],
            extra_compile_args=args + ([] if sys.platform == "win32" else ["-fno-trapping-math"]),
            optional=True,
        ),
    ]
)
