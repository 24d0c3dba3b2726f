"""Save and load glassnet objects without pickle.

File format (version 1)
-----------------------
A glassnet file is a ZIP archive (conventional suffix ``.glassnet``) holding:

``manifest.json``
    ``{"format": "glassnet", "format_version": 1, "glassnet_version": ...,
    "object": <encoded tree>, "arrays": {name: {"sha256": ..., "dtype": ..., "shape": ...}}}``.
``arrays/<name>.npy``
    One NumPy ``.npy`` file per array, read back with ``allow_pickle=False``.

The ``object`` tree is plain JSON. Scalars, strings, lists and ``None`` are stored as is;
everything else is a small tagged dictionary, for example ``{"__array__": "a0"}`` (an
array stored as ``arrays/a0.npy``), ``{"__tuple__": [...]}``, ``{"__float__": "nan"}`` or
``{"__object__": "glassnet.network:ReluNetwork", "state": {...}}``.

Objects
-------
Only classes on an exact allowlist (:mod:`glassnet.persist._allow`, listed in
docs/persistence.md) and classes registered with :func:`register` can be saved or loaded.
:class:`~glassnet.ReluNetwork` and :class:`~glassnet.Regions` are rebuilt through their
constructors; other objects from their state (``__getstate__``: the constructor parameters
and learned ``*_`` attributes of an estimator), restored without calling ``__init__`` and
then checked for consistency (:mod:`glassnet.persist._check`). Callables cannot be
saved: pass such options by name. Matplotlib figures and axes an object holds (after
``.plot()``) are left out; call ``.plot()`` again.

Safety and integrity
--------------------
Loading never unpickles, imports nothing but the listed classes' modules, and checks sizes
before reading (:mod:`glassnet.persist._zip`): see docs/persistence.md for the threat
model and the limits. Every array's SHA-256 is recorded in the manifest and checked; a
damaged, oversized or crafted file raises :class:`GlassnetFormatError`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import stat
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.network import ReluNetwork
from glassnet.persist._allow import (
    class_path,
    register_class,
)
from glassnet.persist._decode import Reader, check_names
from glassnet.persist._encode import Writer
from glassnet.persist._zip import (
    MANIFEST,
    GlassnetFormatError,
    Limits,
    array_specs,
    check_central_directory,
    members,
    tree_size,
)
from glassnet.persist._zip import read_manifest as _read_manifest_member
from glassnet.regions import Regions

FORMAT_NAME = "glassnet"
FORMAT_VERSION = 1

__all__ = ["FORMAT_VERSION", "GlassnetFormatError", "Limits", "load", "register", "save"]

# class path -> (to_state, from_state) for classes with an explicit encoder pair
_CUSTOM: dict[str, tuple[Callable[[Any], dict], Callable[[dict], Any]]] = {}
_class_path = class_path


def register(
    cls: type,
    to_state: Callable[[Any], dict] | None = None,
    from_state: Callable[[dict], Any] | None = None,
) -> type:
    """Allow instances of ``cls`` in glassnet files.

    Parameters
    ----------
    cls : type
        The class.
    to_state, from_state : callable, optional
        A pair turning an instance into a dictionary (of anything :func:`save` can
        encode) and back. Without them the instance's ``__getstate__`` is stored and
        restored with ``__setstate__`` (or into ``__dict__``) without calling ``__init__``.
        ``from_state`` receives only plain data and allowlisted objects; it should
        validate them (a loaded file is untrusted input).

    Returns
    -------
    type
        ``cls``, so ``register`` can be used as a class decorator.

    Notes
    -----
    Registration is by the exact class (its ``module:qualname``), for this process only:
    a file naming the class loads only where the same class was registered.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register expects a class; got {cls!r}.")
    if (to_state is None) != (from_state is None):
        raise ValueError("Pass both to_state and from_state, or neither.")
    path = _class_path(cls)
    if to_state is not None:
        _CUSTOM[path] = (to_state, from_state)  # type: ignore[assignment]
    register_class(cls)
    return cls


# ---------------------------------------------------------------------- built-in encoders
def _network_state(net: ReluNetwork) -> dict:
    return {
        "weights": list(net.weights),
        "biases": list(net.biases),
        "output": net.output,
        "feature_names": None if net.feature_names is None else list(net.feature_names),
        "feature_groups": None if net.feature_groups is None else {
            k: list(v) for k, v in net.feature_groups.items()},
    }


def _network_from_state(s: dict) -> ReluNetwork:
    # the constructor checks shapes, chaining, finiteness, names and groups again
    for key in ("weights", "biases"):
        if not isinstance(s[key], list) or not all(isinstance(a, np.ndarray) for a in s[key]):
            raise TypeError(f"ReluNetwork {key} must be a list of arrays")
    if not all(a.dtype.kind in "fiu" for a in (*s["weights"], *s["biases"])):
        raise TypeError("ReluNetwork weights must be numeric")
    return ReluNetwork(s["weights"], s["biases"], s["output"], s["feature_names"],
                       s.get("feature_groups"))


_REGION_FIELDS = (
    "labels",
    "counts",
    "packed_patterns",
    "coef",
    "intercept",
    "max_abs_error",
    "representatives",
    "pred_sum",
    "pred_sumsq",
    "y_sum",
    "y_sumsq",
)


def _regions_state(r: Regions) -> dict:
    state = {"network": r.network, "feature_names": list(r.feature_names)}
    for name in _REGION_FIELDS:
        value = getattr(r, name)
        if name == "labels" and value is not None and not isinstance(value, np.ndarray):
            value = np.asarray(value)  # a lazy (dask) array is computed
        state[name] = value
    return state


def _regions_from_state(s: dict) -> Regions:
    if not isinstance(s["network"], ReluNetwork):
        raise TypeError("Regions.network must be a ReluNetwork")
    names = s["feature_names"]
    if names is not None and not (isinstance(names, list) and all(type(n) is str for n in names)):
        raise TypeError("Regions.feature_names must be a list of strings")
    return Regions(s["network"], **{k: s[k] for k in (*_REGION_FIELDS, "feature_names")})


register(ReluNetwork, _network_state, _network_from_state)
register(Regions, _regions_state, _regions_from_state)


# ---------------------------------------------------------------------- public API
def save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Save a glassnet object (network, regions, fitted estimator, ...) to a file.

    Parameters
    ----------
    obj : object
        A :class:`~glassnet.ReluNetwork`, :class:`~glassnet.Regions`, a fitted glassnet
        estimator (classifier, regressor, region merger, mixture of linear models), a
        scikit-learn estimator, or lists/tuples/dicts of these. See the module docstring
        for the format.
    path : str or path-like
        The file to write (conventionally with the suffix ``.glassnet``). It is written to
        a temporary file first and then renamed, so a failed save leaves no partial file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``obj`` holds something that cannot be stored without pickle (a function, an
        object of an unknown class).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from glassnet import ReluNetwork
    >>> from glassnet.persist import save, load
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> path = os.path.join(tempfile.mkdtemp(), "net.glassnet")
    >>> load(save(net, path)) == net
    True
    """
    path = Path(os.fspath(path))
    _check_target(path)
    writer = Writer({k: v[0] for k, v in _CUSTOM.items()})
    tree = writer.encode(obj, type(obj).__name__)
    from glassnet import __version__

    arrays_meta: dict[str, dict] = {}
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "type": _class_path(type(obj)),
        "object": tree,
        "arrays": arrays_meta,
    }
    limits = Limits()
    depth, nodes = tree_size(tree)
    if depth > limits.max_depth - 2 or nodes > limits.max_nodes - 100:
        raise TypeError(f"Cannot save {type(obj).__name__}: it nests {depth} levels deep and "
                        f"holds {nodes} values outside arrays (at most {limits.max_depth - 2} "
                        f"and {limits.max_nodes - 100}); store large data as arrays.")
    try:
        # O_EXCL with a random name in the target folder: nothing planted there is followed
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent)
    except OSError as exc:
        raise _named(exc, path) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED,
                                 compresslevel=1) as zf:
                for name, a in writer.arrays.items():
                    buf = io.BytesIO()
                    np.save(buf, a, allow_pickle=False)
                    raw = buf.getvalue()
                    arrays_meta[name] = {
                        "sha256": hashlib.sha256(raw).hexdigest(),
                        "dtype": a.dtype.str,
                        "shape": list(a.shape),
                    }
                    zf.writestr(f"arrays/{name}.npy", raw)
                text = json.dumps(manifest, indent=1, allow_nan=False).encode("utf-8")
                if len(text) > limits.max_manifest_bytes:
                    raise ValueError(
                        f"Cannot save {type(obj).__name__} to {path}: its manifest would be "
                        f"{len(text)} bytes, above the {limits.max_manifest_bytes} glassnet.load "
                        "accepts (too many small objects; store them as arrays)."
                    )
                zf.writestr(MANIFEST, text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)  # atomic; replaces a link planted meanwhile, never its target
    except OSError as exc:
        _remove(tmp)
        raise _named(exc, path) from exc
    except BaseException:  # includes KeyboardInterrupt: never leave the temporary file
        _remove(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _check_target(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not path.parent.is_dir():
            raise FileNotFoundError(
                errno.ENOENT, f"Cannot save to {path}: the folder {path.parent} does not exist",
                str(path)) from None
        return
    if stat.S_ISLNK(st.st_mode):
        raise ValueError(
            f"Cannot save to {path}: it is a symbolic link (to {os.readlink(path)}); "
            "glassnet.save never writes through links. Remove the link or save to its target."
        )
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(
            errno.EISDIR, f"Cannot save to {path}: it is a directory; give a file name such "
            f"as {path / 'model.glassnet'}", str(path))
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"Cannot save to {path}: it exists and is not a regular file.")


def _named(exc: OSError, path: Path) -> OSError:
    """The same kind of OSError, naming the user's path instead of the temporary file."""
    return OSError(exc.errno, f"Cannot save to {path}: {exc.strerror or exc}", str(path))


def _remove(tmp: Path) -> None:
    try:
        tmp.unlink()
    except FileNotFoundError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some file systems do not allow this, which is harmless."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would race with other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


# ---------------------------------------------------------------------- loading
def read_manifest(path: str | os.PathLike[str], *, limits: Limits | None = None) -> dict:
    """Read and check the manifest of a glassnet file without loading its arrays.

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If the file cannot be opened.
    GlassnetFormatError
        If the file is not a glassnet file, is damaged, exceeds a limit, or has a newer
        format version.
    """
    path = Path(os.fspath(path))
    limits = limits or Limits()
    with _open(path) as fh:
        try:
            zf, infos = _zip(fh, path, limits)
            with zf:
                return _manifest(zf, infos, path, limits)
        except GlassnetFormatError:
            raise
        except Exception as exc:
            raise _damaged(path, exc) from exc


def _open(path: Path) -> io.BufferedReader:
    """Open a regular file for reading; OSErrors name the path (no blocking on a FIFO)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory, not a glassnet file",
                                    str(path))
        if not stat.S_ISREG(st.st_mode):
            raise GlassnetFormatError(f"{path} is not a regular file, so not a glassnet file.")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _zip(fh: io.BufferedReader, path: Path, limits: Limits
         ) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    check_central_directory(fh, str(path), limits)
    try:
        zf = zipfile.ZipFile(fh, "r")
    except zipfile.BadZipFile:
        raise GlassnetFormatError(
            f"{path} is not a glassnet file or is damaged (not a readable ZIP archive)."
        ) from None
    try:
        return zf, members(zf, str(path), limits)
    except BaseException:
        zf.close()
        raise


def _manifest(zf: zipfile.ZipFile, infos: dict, path: Path, limits: Limits) -> dict:
    manifest = _read_manifest_member(zf, infos, str(path), limits)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise GlassnetFormatError(f"{path} is not a glassnet file (unknown manifest).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GlassnetFormatError(f"{path} is damaged: bad format_version {str(version)[:20]}.")
    if version > FORMAT_VERSION:
        raise GlassnetFormatError(
            f"{path} was written in glassnet file format {version} (by glassnet "
            f"{str(manifest.get('glassnet_version', '?'))[:20]}); this glassnet reads format "
            f"{FORMAT_VERSION} and older. Upgrade glassnet to load it."
        )
    if not isinstance(manifest.get("arrays"), dict) or "object" not in manifest:
        raise GlassnetFormatError(f"{path} is damaged: the manifest is incomplete.")
    return manifest


def _damaged(path: Path, exc: BaseException) -> GlassnetFormatError:
    return GlassnetFormatError(
        f"{path} is damaged or not a glassnet file ({type(exc).__name__}: {str(exc)[:200]})."
    )


def load(path: str | os.PathLike[str], *, expected_type: type | None = None,
         max_bytes: int | None = None) -> Any:
    """Load an object written by :func:`save`; safe on untrusted files.

    No code from the file runs: only the exact classes listed in docs/persistence.md can
    be rebuilt, arrays are read without pickle, sizes are checked before reading, and the
    rebuilt objects are checked for consistency.

    Parameters
    ----------
    path : str or path-like
    expected_type : type, optional
        Raise a TypeError unless the loaded object is an instance of this type.
    max_bytes : int, optional
        Largest total uncompressed size of the file's arrays (default 2 GiB); a file
        declaring more is refused before anything is read. Raise it for a file you trust.

    Returns
    -------
    object
        An object equal to the one saved (arrays round-trip bit for bit).

    Raises
    ------
    FileNotFoundError, IsADirectoryError, PermissionError
        If the file cannot be opened (the error names the path).
    GlassnetFormatError
        (a ValueError) If the file is not a glassnet file, is damaged (truncated, altered,
        missing parts), exceeds a limit, names a class that glassnet files may not contain,
        holds inconsistent objects, or was written by a newer format version.
    """
    path = Path(os.fspath(path))
    limits = Limits() if max_bytes is None else Limits(max_bytes=_positive(max_bytes))
    with _open(path) as fh:
        try:
            zf, infos = _zip(fh, path, limits)
            with zf:
                manifest = _manifest(zf, infos, path, limits)
                specs = array_specs(manifest["arrays"], infos, str(path), limits)
                check_names(manifest["object"], str(path))
                custom = {k: v[1] for k, v in _CUSTOM.items()}
                obj = Reader(zf, specs, str(path), custom).decode(manifest["object"])
        except (GlassnetFormatError, MemoryError):
            raise
        except Exception as exc:  # zlib.error, EOFError, RecursionError, OverflowError, ...
            raise _damaged(path, exc) from exc
    if expected_type is not None and not isinstance(obj, expected_type):
        raise TypeError(
            f"{path} holds a {type(obj).__name__}, not a {expected_type.__name__}."
        )
    return obj


def _positive(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise ValueError(f"max_bytes must be a positive integer; got {n!r}.")
    return n
