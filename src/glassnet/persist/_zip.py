"""Bounded reading of the ZIP container of a glassnet file (private to ``glassnet.persist``).

Everything here is checked against what the file declares *before* the bytes are read:
the central directory's size, the number of members, the manifest's size and nesting, and
each array member's declared uncompressed size against the dtype and shape the manifest
gives it. Members are then decompressed in bounded pieces, so a member that inflates past
its declared size (a zip bomb) costs at most that size and is refused at its end.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

MANIFEST = "manifest.json"
_CHUNK = 1 << 20  # decompress 1 MiB at a time
_NPY_HEADER_MAX = 1 << 16  # numpy writes headers of a few hundred bytes; 64 KiB is generous
_ARRAY_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# native-endian (or byte-order free) numeric, boolean, text and date dtypes; never object,
# structured/void, or platform-dependent long doubles
_DTYPE = re.compile(r"(\|b1|\|[iu]1|[<>=][iu][248]|[<>=]f[248]|[<>=]c(8|16)|[<>=|][US]\d{1,7}"
                    r"|[<>=][mM]8(\[[a-zA-Z]{1,3}\])?)")


class GlassnetFormatError(ValueError):
    """A file is not a glassnet file, is damaged, exceeds a limit, or is from a newer format."""


@dataclass(frozen=True)
class Limits:
    """Bounds :func:`glassnet.load` enforces before reading a file (see docs/persistence.md).

    Attributes
    ----------
    max_bytes : int
        Total uncompressed size of all arrays (default 2 GiB).
    max_manifest_bytes : int
        Size of ``manifest.json`` (default 16 MiB).
    max_members : int
        Number of ZIP members (default 10,000).
    max_depth : int
        Nesting depth of the manifest's JSON (default 64).
    max_nodes : int
        Number of values in the manifest's JSON (default 1,000,000), which bounds the
        time to decode it.
    max_central_directory : int
        Size of the ZIP central directory (default 4 MiB), checked before ``zipfile``
        parses it.
    """

    max_bytes: int = 2 << 30
    max_manifest_bytes: int = 16 << 20
    max_members: int = 10_000
    max_depth: int = 64
    max_nodes: int = 1_000_000
    max_central_directory: int = 4 << 20


def native_dtype(text: Any) -> np.dtype:
    """The dtype named by ``text`` if it is one glassnet files may hold, else ValueError."""
    if not isinstance(text, str) or not _DTYPE.fullmatch(text):
        raise ValueError(f"dtype {str(text)[:40]!r} is not allowed in glassnet files")
    dt = np.dtype(text)
    if not dt.isnative:
        raise ValueError(f"dtype {text!r} is not in this machine's byte order")
    return dt


def check_central_directory(fp: BinaryIO, where: str, limits: Limits) -> None:
    """Refuse a ZIP whose central directory is larger than the limit, before parsing it.

    ``zipfile`` reads the whole central directory into memory and builds one object per
    entry; its size comes from the end-of-central-directory record (or the ZIP64 one).
    """
    fp.seek(0, io.SEEK_END)
    size = fp.tell()
    tail_len = min(size, 22 + 0xFFFF)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or len(tail) - pos < 22:
        raise GlassnetFormatError(
            f"{where} is not a glassnet file or is damaged (not a readable ZIP archive)."
        )
    n_entries, cd_size = struct.unpack("<HL", tail[pos + 10:pos + 16])
    loc = pos - 20
    zip64 = loc >= 0 and tail[loc:loc + 4] == b"PK\x06\x07"
    if not zip64 and (cd_size == 0xFFFFFFFF or n_entries == 0xFFFF):
        raise GlassnetFormatError(f"{where} is damaged: bad ZIP64 end record.")
    if zip64:
        # zipfile takes the sizes from the ZIP64 record (read just before the locator, or
        # where the locator points, depending on the Python version): bound both
        (rec_offset,) = struct.unpack("<Q", tail[loc + 8:loc + 16])
        found = False
        for offset in (size - tail_len + loc - 56, rec_offset):
            if not 0 <= offset <= size - 56:
                continue
            fp.seek(offset)
            rec = fp.read(56)
            if rec[:4] == b"PK\x06\x06":
                cd_size = max(cd_size, struct.unpack("<Q", rec[40:48])[0])
                found = True
        if not found:
            raise GlassnetFormatError(f"{where} is damaged: bad ZIP64 end record.")
    if cd_size > limits.max_central_directory:
        raise GlassnetFormatError(
            f"{where}: the ZIP central directory is {cd_size} bytes, above the limit of "
            f"{limits.max_central_directory}; refusing to read it."
        )
    fp.seek(0)


def _check_member(info: zipfile.ZipInfo, where: str) -> None:
    if info.flag_bits & 0x1:
        raise GlassnetFormatError(f"{where} is damaged: member {info.filename!r} is encrypted.")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise GlassnetFormatError(
            f"{where} is damaged: member {info.filename!r} uses an unsupported compression "
            f"method ({info.compress_type})."
        )


def members(zf: zipfile.ZipFile, where: str, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """The members by name, after checking their number, uniqueness and compression."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise GlassnetFormatError(
            f"{where} has {len(infos)} ZIP members, above the limit of {limits.max_members}."
        )
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if info.filename in by_name:
            raise GlassnetFormatError(
                f"{where} is damaged: member {info.filename[:60]!r} appears twice.")
        _check_member(info, where)
        by_name[info.filename] = info
    return by_name


def tree_size(tree: Any) -> tuple[int, int]:
    """Nesting depth and number of containers and scalars of a JSON tree (no recursion).

    Lists of scalars (loss curves, category names) are counted in one step.
    """
    depth = nodes = 0
    stack = [(tree, 1)]
    while stack:
        v, d = stack.pop()
        nodes += 1
        if isinstance(v, dict):
            v = list(v.values())
        if isinstance(v, list):
            depth = max(depth, d)
            nodes += len(v)
            stack.extend((x, d + 1) for x in v if isinstance(x, (list, dict)))
    return depth, nodes


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def read_manifest(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], where: str,
                  limits: Limits) -> Any:
    """Parse ``manifest.json`` after checking its declared size; bounded read and nesting."""
    info = infos.get(MANIFEST)
    if info is None:
        raise GlassnetFormatError(f"{where} is not a glassnet file (no {MANIFEST}).")
    if info.file_size > limits.max_manifest_bytes:
        raise GlassnetFormatError(
            f"{where}: {MANIFEST} declares {info.file_size} bytes, above the limit of "
            f"{limits.max_manifest_bytes}; refusing to read it."
        )
    raw = _read_exact(zf, info, info.file_size, where)
    try:
        tree = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise GlassnetFormatError(
            f"{where} is damaged: {MANIFEST} nests too deeply."
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise GlassnetFormatError(
            f"{where} is damaged: {MANIFEST} is not valid JSON ({exc})."
        ) from None
    depth, nodes = tree_size(tree)
    if depth > limits.max_depth:
        raise GlassnetFormatError(
            f"{where} is damaged: {MANIFEST} nests more than {limits.max_depth} levels deep."
        )
    if nodes > limits.max_nodes:
        raise GlassnetFormatError(
            f"{where}: {MANIFEST} holds {nodes} values, above the limit of {limits.max_nodes} "
            "(large data belongs in arrays); refusing to decode it."
        )
    return tree


def _read_exact(zf: zipfile.ZipFile, info: zipfile.ZipInfo, n: int, where: str) -> bytes:
    """Read a whole member of declared size ``n`` in bounded pieces; CRC checked at the end."""
    out = bytearray()
    with zf.open(info) as f:
        while len(out) < n:
            piece = f.read(min(_CHUNK, n - len(out)))
            if not piece:
                raise GlassnetFormatError(f"{where} is damaged: {info.filename!r} is truncated.")
            out += piece
        if f.read(1):  # also makes zipfile check the CRC
            raise GlassnetFormatError(f"{where} is damaged: {info.filename!r} is too long.")
    return bytes(out)


@dataclass(frozen=True)
class ArraySpec:
    """One array the manifest lists, checked against its ZIP member."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    nbytes: int
    sha256: str
    info: zipfile.ZipInfo


def array_specs(index: Any, infos: dict[str, zipfile.ZipInfo], where: str,
                limits: Limits) -> dict[str, ArraySpec]:
    """Check every listed array's dtype, shape and ZIP sizes, and the total, before reading."""
    if not isinstance(index, dict):
        raise GlassnetFormatError(f"{where} is damaged: the array index is not a mapping.")
    specs: dict[str, ArraySpec] = {}
    total = 0
    for name, meta in index.items():
        if not _ARRAY_NAME.fullmatch(name):
            raise GlassnetFormatError(f"{where} is damaged: bad array name {name[:40]!r}.")
        if not isinstance(meta, dict):
            raise GlassnetFormatError(f"{where} is damaged: bad entry for array {name!r}.")
        try:
            dtype = native_dtype(meta.get("dtype"))
        except (ValueError, TypeError) as exc:
            raise GlassnetFormatError(f"{where}: array {name!r}: {exc}.") from None
        shape = meta.get("shape")
        if (not isinstance(shape, list) or len(shape) > 32
                or not all(type(s) is int and s >= 0 for s in shape)):
            raise GlassnetFormatError(f"{where} is damaged: bad shape for array {name!r}.")
        sha = meta.get("sha256")
        if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise GlassnetFormatError(f"{where} is damaged: bad checksum for array {name!r}.")
        nbytes = math.prod(shape) * dtype.itemsize
        total += nbytes
        if total > limits.max_bytes:
            raise GlassnetFormatError(
                f"{where}: its arrays hold more than {limits.max_bytes} bytes (the limit; "
                "pass a larger max_bytes to load if you trust the file)."
            )
        info = infos.get(f"arrays/{name}.npy")
        if info is None:
            raise GlassnetFormatError(f"{where} is damaged: array {name!r} is missing.")
        # the .npy header is a few hundred bytes: anything else is a lie about the size
        if not nbytes < info.file_size <= nbytes + _NPY_HEADER_MAX:
            raise GlassnetFormatError(
                f"{where} is damaged: array {name!r} declares {info.file_size} bytes, but "
                f"{dtype} x {tuple(shape)} needs {nbytes} (+ header)."
            )
        specs[name] = ArraySpec(name, dtype, tuple(shape), nbytes, sha, info)
    expected = {f"arrays/{n}.npy" for n in specs} | {MANIFEST}
    extra = sorted(set(infos) - expected)
    if extra:
        raise GlassnetFormatError(
            f"{where} is damaged: unexpected member {extra[0][:60]!r} (not in the manifest)."
        )
    return specs


def read_array(zf: zipfile.ZipFile, spec: ArraySpec, where: str) -> np.ndarray:
    """Read one ``.npy`` member in bounded pieces into a buffer of its declared size."""
    head_len = spec.info.file_size - spec.nbytes
    digest = hashlib.sha256()
    buf = np.empty(spec.nbytes, dtype=np.uint8)
    with zf.open(spec.info) as f:
        head = f.read(head_len)
        if len(head) != head_len:
            raise GlassnetFormatError(f"{where} is damaged: array {spec.name!r} is truncated.")
        digest.update(head)
        shape, fortran = _parse_npy_header(head, spec, where)
        done = 0
        while done < spec.nbytes:
            piece = f.read(min(_CHUNK, spec.nbytes - done))
            if not piece:
                raise GlassnetFormatError(f"{where} is damaged: array {spec.name!r} is truncated.")
            buf[done:done + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
            digest.update(piece)
            done += len(piece)
        if f.read(1):  # reaching the end makes zipfile check the CRC
            raise GlassnetFormatError(f"{where} is damaged: array {spec.name!r} is too long.")
    if digest.hexdigest() != spec.sha256:
        raise GlassnetFormatError(f"{where} is damaged: array {spec.name!r} does not match its "
                                  "checksum.")
    a = buf.view(spec.dtype) if spec.nbytes else np.empty(0, dtype=spec.dtype)
    return a.reshape(shape, order="F" if fortran else "C")


def _parse_npy_header(head: bytes, spec: ArraySpec, where: str) -> tuple[tuple[int, ...], bool]:
    from numpy.lib import format as npy

    bio = io.BytesIO(head)
    try:
        version = npy.read_magic(bio)
        if version == (1, 0):
            shape, fortran, dtype = npy.read_array_header_1_0(bio, max_header_size=_NPY_HEADER_MAX)
        elif version == (2, 0):
            shape, fortran, dtype = npy.read_array_header_2_0(bio, max_header_size=_NPY_HEADER_MAX)
        else:
            raise ValueError(f"unsupported .npy version {version}")
    except Exception as exc:  # numpy raises ValueError, SyntaxError, TypeError, ...
        raise GlassnetFormatError(
            f"{where} is damaged: array {spec.name!r} has a bad .npy header ({exc})."
        ) from None
    if bio.tell() != len(head) or tuple(shape) != spec.shape or dtype != spec.dtype:
        raise GlassnetFormatError(
            f"{where} is damaged: array {spec.name!r} does not match the manifest "
            f"(header {dtype} {tuple(shape)}, manifest {spec.dtype} {spec.shape})."
        )
    return tuple(shape), bool(fortran)
