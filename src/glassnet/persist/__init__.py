"""Saving and loading glassnet objects without pickle, and loading model files of any format.

Persistence sits above everything it can save (networks, regions, estimators, simplifiers,
mixtures, partitions), so it imports them and none of them imports it; ``glassnet.save`` and
``glassnet.load`` are these functions. The file format, the exact allowlist of classes and
the threat model are in docs/persistence.md:

- :func:`save`, :func:`load`: a ZIP of ``.npy`` arrays and a JSON manifest, read back
  without pickle, with sizes checked before reading and every rebuilt object checked;
- :func:`register`: allow one more class in files, for this process;
- :func:`load_model`: a model file of any supported format (``.glassnet``, a directory
  written by ``glassnet train``, and the formats of :func:`glassnet.io.load_model_file`)
  with its network; what the command line uses.
"""

from __future__ import annotations

from glassnet.persist._core import FORMAT_VERSION as FORMAT_VERSION
from glassnet.persist._core import (
    GlassnetFormatError,
    Limits,
    load,
    register,
    save,
)
from glassnet.persist._models import load_model, resolve_model_path

__all__ = ["GlassnetFormatError", "Limits", "load", "load_model", "register", "resolve_model_path",
           "save"]
