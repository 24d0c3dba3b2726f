"""Hostile and damaged files through glassnet.load, and a save that cannot be subverted.

Issue 12, defects 1-4: code execution through class names, zip bombs and size lies, damaged
files raising the wrong exception, inconsistent objects, and the temporary file of save.
Every crafted file here is built from a valid one with its checksums recomputed, so the
refusal tested is the specific check, not the checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct
import time
import zipfile

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import glassnet
from glassnet import Regions, ReluNetwork, unwrap
from glassnet.persist import GlassnetFormatError, Limits, load, save
from glassnet.persist._allow import CLASSES
from glassnet.persist._core import read_manifest


def _net(seed=0, sizes=(3, 6, 5, 2), output="softmax") -> ReluNetwork:
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    return ReluNetwork(Ws, bs, output=output)


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _parts(path):
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        arrays = {n[len("arrays/"):-4]: zf.read(n) for n in zf.namelist() if n != "manifest.json"}
    return manifest, arrays


def _write(dst, manifest, arrays: dict[str, bytes], *, fix_sha=True, extra=()):
    """Write a glassnet zip from parts; recompute checksums so only the lie under test remains."""
    for name, raw in arrays.items():
        if fix_sha and name in manifest.get("arrays", {}):
            manifest["arrays"][name]["sha256"] = hashlib.sha256(raw).hexdigest()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in arrays.items():
            zf.writestr(f"arrays/{name}.npy", raw)
        for name, raw in extra:
            zf.writestr(name, raw)
        zf.writestr("manifest.json", json.dumps(manifest))
    return dst


def _craft(src, dst, *, edit=None, arrays=None):
    """Copy ``src`` changing the manifest (``edit(m)``) and replacing arrays by new ndarrays."""
    manifest, raw = _parts(src)
    for name, a in (arrays or {}).items():
        raw[name] = _npy(a)
        manifest["arrays"][name].update(dtype=a.dtype.str, shape=list(a.shape))
    if edit is not None:
        edit(manifest)
    return _write(dst, manifest, raw)


def _find(tree, pred):
    """First dict in the manifest tree for which ``pred`` holds (depth first)."""
    stack = [tree]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if pred(v):
                return v
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    raise LookupError


def _state(tree, cls_suffix):
    """The ``[[key, value], ...]`` state list of the first object of class ``cls_suffix``."""
    obj = _find(tree, lambda d: str(d.get("__object__", "")).endswith(cls_suffix))
    return obj["state"]["__dict__"]


def _set(pairs, key, value):
    for p in pairs:
        if p[0] == key:
            p[1] = value
            return
    raise KeyError(key)


def _array_of(manifest, pairs, key):
    for p in pairs:
        if p[0] == key:
            return p[1]["__array__"]
    raise KeyError(key)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("valid")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    net = _net()
    mlp = MLPClassifier((5,), max_iter=300, random_state=0).fit(X, y)
    pipe = make_pipeline(StandardScaler(), MLPClassifier((4,), max_iter=300,
                                                         random_state=0)).fit(X, y)
    return {
        "net": save(net, d / "net.glassnet"),
        "regions": save(unwrap(_net(1, output="identity", sizes=(3, 6, 1)), X, X[:, 0]),
                        d / "regions.glassnet"),
        "mlp": save(mlp, d / "mlp.glassnet"),
        "pipe": save(pipe, d / "pipe.glassnet"),
        "X": X,
        "mlp_obj": mlp,
    }


# ====================================================================== 1. code execution
FORBIDDEN = [
    "os:system",
    "builtins:eval",
    "builtins:exec",
    "subprocess:Popen",
    "numpy.testing._private.utils:runstring",
    "numpy.testing:runstring",  # a re-export
    "numpy:load",
    "sklearn.utils._testing:assert_run_python_script_without_output",
    "sklearn.preprocessing._function_transformer:FunctionTransformer",
    "sklearn.compose._column_transformer:ColumnTransformer",
    "glassnet.report:Report",  # a glassnet class that is not on the list
    "glassnet.persist._core:register",
    "glassnet.persist:register",
    "glassnet.io._persist:register",  # its module before persistence left io
    "glassnet.network:ReluNetwork.__init__",  # attribute walk
    "glassnet.network:ReluNetwork.__class__",
    "glassnet.network.ReluNetwork",
    "glassnet.network:ReluNetwork ",
    "glassnet:ReluNetwork",  # the class, but through a re-export
    "sklearn.linear_model:LogisticRegression",  # a re-export of a listed class
    "GLASSNET.network:ReluNetwork",
    "",
]


@pytest.mark.parametrize("name", FORBIDDEN)
def test_unlisted_class_names_are_refused_before_anything_runs(files, tmp_path, monkeypatch,
                                                               name):
    imported = []
    import importlib

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda m, *a: imported.append(m) or real(m, *a))
    # the bad name sits deep inside an otherwise valid network file, after valid objects
    dst = _craft(files["net"], tmp_path / "x.glassnet", edit=lambda m: m.update(object={
        "__tuple__": [m["object"], {"__dict__": [["k", {"__object__": name, "state": {}}]]}]}))
    with pytest.raises(GlassnetFormatError, match="refusing to load"):
        load(dst)
    assert imported == []  # refused before a single module was looked up


@pytest.mark.parametrize("tag,name", [
    ("__type__", "builtins:eval"), ("__type__", "builtins:type"), ("__type__", "os:system"),
    ("__type__", "builtins:object"), ("__type__", "numpy:ndarray"),
    ("__type__", "glassnet.network:ReluNetwork"), ("__generator__", "os:system"),
    ("__generator__", "numpy.random._generator:Generator"),
])
def test_unlisted_type_names_are_refused(files, tmp_path, tag, name):
    entry = {tag: name, "state": {}} if tag == "__generator__" else {tag: name}
    dst = _craft(files["net"], tmp_path / "x.glassnet",
                 edit=lambda m: m.update(object=[m["object"], entry]))
    with pytest.raises(GlassnetFormatError, match="refusing to load"):
        load(dst)


def test_every_listed_class_resolves_to_itself():
    from glassnet.persist._allow import SAME_CLASS, _lookup, resolve_class

    # a class renamed or removed elsewhere in glassnet must be taken off the list (and a
    # new one added) deliberately: this fails until then
    moved = {name for pair in SAME_CLASS for name in pair}
    for p in CLASSES:
        cls = _lookup(p)
        if cls is None and p in moved:  # the other name of a moved class is the live one
            cls = resolve_class(p)
            assert cls is not None
            continue
        assert cls is not None, f"{p} is on the allowlist but does not exist"
        assert f"{cls.__module__}:{cls.__qualname__}" == p


def test_a_callable_cannot_reach_an_estimator_attribute(files, tmp_path):
    X = files["X"]
    # a listed type in place of a string the MLP dispatches on
    for value, match in (({"__type__": "numpy:float64"}, "out_activation_"),
                         ("exp_but_not_an_activation", "out_activation_"),
                         ({"__object__": "sklearn.preprocessing._data:StandardScaler",
                           "state": {"__dict__": []}}, "StandardScaler")):
        def edit(m, value=value):
            _set(_state(m["object"], ":MLPClassifier"), "out_activation_", value)

        with pytest.raises(GlassnetFormatError, match=match):
            load(_craft(files["mlp"], tmp_path / "x.glassnet", edit=edit))
    # scikit-learn's own parameter validation runs on loading, as fit would run it
    def alpha(m):
        _set(_state(m["object"], ":MLPClassifier"), "alpha", -1.0)

    with pytest.raises(GlassnetFormatError, match="alpha"):
        load(_craft(files["mlp"], tmp_path / "x.glassnet", edit=alpha))
    # a type (callable) in the loss, or in any attribute that is not a dtype
    for key in ("loss", "solver"):
        def edit(m, key=key):
            _set(_state(m["object"], ":MLPClassifier"), key, {"__type__": "numpy:float64"})

        with pytest.raises(GlassnetFormatError, match=key):
            load(_craft(files["mlp"], tmp_path / "x.glassnet", edit=edit))
    # a function transformer never loads, whatever it would call
    def add_ft(m):
        m["object"] = {"__object__": "sklearn.pipeline:Pipeline", "state": {"__dict__": [
            ["steps", [{"__tuple__": ["f", {
                "__object__": "sklearn.preprocessing._function_transformer:FunctionTransformer",
                "state": {"__dict__": [["func", {"__type__": "builtins:eval"}]]}}]}]],
            ["memory", None], ["verbose", False]]}}

    with pytest.raises(GlassnetFormatError, match="refusing"):
        load(_craft(files["pipe"], tmp_path / "y.glassnet", edit=add_ft))
    # a glassnet estimator whose network_ is some other listed object
    clf = glassnet.ReluNetClassifier((5,))  # "fitted" by hand: no training needed here
    clf.network_, clf.classes_, clf.n_features_in_ = _net(), np.array([0, 1]), 3
    src = save(clf, tmp_path / "clf.glassnet")
    assert load(src).network_ == clf.network_

    def swap(m):
        _set(_state(m["object"], ":ReluNetClassifier"), "network_",
             {"__object__": "sklearn.preprocessing._label:LabelEncoder",
              "state": {"__dict__": []}})

    with pytest.raises(GlassnetFormatError, match="network_ is not a ReluNetwork"):
        load(_craft(src, tmp_path / "z.glassnet", edit=swap))
    # and the untouched file loads and predicts exactly
    back = load(files["mlp"])
    assert np.array_equal(back.predict_proba(X), files["mlp_obj"].predict_proba(X))


def test_pipeline_cache_folder_and_resource_parameters_are_refused(files, tmp_path):
    # Pipeline(memory=...) would unpickle whatever that folder holds on the next fit
    def mem(m):
        _set(_state(m["object"], ":Pipeline"), "memory", str(tmp_path))

    with pytest.raises(GlassnetFormatError, match="memory"):
        load(_craft(files["pipe"], tmp_path / "a.glassnet", edit=mem))
    from sklearn.cluster import KMeans

    km = KMeans(2, n_init=1, random_state=0).fit(files["X"])
    src = save(km, tmp_path / "km.glassnet")

    def threads(m):
        _set(_state(m["object"], ":KMeans"), "_n_threads", 10**6)

    back = load(_craft(src, tmp_path / "b.glassnet", edit=threads))
    assert 1 <= back._n_threads <= (os.cpu_count() or 1)
    assert np.array_equal(back.predict(files["X"]), km.predict(files["X"]))
    from sklearn.neighbors import NearestNeighbors

    src = save(NearestNeighbors(n_neighbors=2, algorithm="brute").fit(files["X"]),
               tmp_path / "nn.glassnet")
    for key, value in (("n_jobs", 10**6), ("_fit_method", "cover_tree")):
        def e(m, key=key, value=value):
            _set(_state(m["object"], ":NearestNeighbors"), key, value)

        with pytest.raises(GlassnetFormatError, match=key):
            load(_craft(src, tmp_path / "c.glassnet", edit=e))
    # a ball tree is rebuilt on loading: never with a metric that calls Python code
    src = save(NearestNeighbors(n_neighbors=2, algorithm="ball_tree").fit(files["X"]),
               tmp_path / "bt.glassnet")

    def pyfunc(m):
        _set(_state(m["object"], ":NearestNeighbors"), "effective_metric_", "pyfunc")

    with pytest.raises(GlassnetFormatError, match="effective_metric_"):
        load(_craft(src, tmp_path / "d.glassnet", edit=pyfunc))


def test_saving_is_limited_to_the_same_list(tmp_path):
    from sklearn.preprocessing import FunctionTransformer
    from sklearn.tree import DecisionTreeClassifier

    with pytest.raises(TypeError, match="not on the list"):
        save(FunctionTransformer(), tmp_path / "a.glassnet")
    with pytest.raises(TypeError, match="not on the list"):
        save(DecisionTreeClassifier(), tmp_path / "b.glassnet")
    with pytest.raises(TypeError, match="not allowed"):
        save({"t": os.stat_result}, tmp_path / "c.glassnet")
    with pytest.raises(TypeError, match="not supported"):
        save(np.zeros(2, dtype=np.longdouble), tmp_path / "d.glassnet")
    assert list(tmp_path.iterdir()) == []
    # big-endian arrays are stored in native order with the same values
    a = np.arange(5, dtype=">f8")
    back = load(save(a, tmp_path / "e.glassnet"))
    assert back.dtype.isnative and np.array_equal(back, a)


# ====================================================================== 2. zip bombs and lies
def _bomb(dst, manifest, name, n_bytes, declared_shape, dtype="<f8"):
    """A member of ``n_bytes`` zeros after a .npy header claiming ``declared_shape``."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": dtype, "fortran_order": False, "shape": tuple(declared_shape)})
    manifest["arrays"] = {name: {"sha256": "0" * 64, "dtype": dtype,
                                 "shape": list(declared_shape)}}
    manifest["object"] = {"__array__": name}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(f"arrays/{name}.npy", "w", force_zip64=True) as f:
            f.write(head.getvalue())
            chunk = bytes(1 << 20)
            for _ in range(n_bytes // len(chunk)):
                f.write(chunk)
        zf.writestr("manifest.json", json.dumps(manifest))
    return dst


def test_zip_bomb_is_refused_at_once(files, tmp_path):
    manifest, _ = _parts(files["net"])
    dst = _bomb(tmp_path / "bomb.glassnet", manifest, "a0", 300 << 20, (10,))
    assert dst.stat().st_size < 2 << 20  # 300 MB inflated from under 2 MB
    t0 = time.perf_counter()
    with pytest.raises(GlassnetFormatError, match="declares"):
        load(dst)
    assert time.perf_counter() - t0 < 2.0  # refused from the header, nothing inflated


def _patch_sizes(path, member, new_size):
    """Lie in both ZIP headers about ``member``'s uncompressed size."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<L", raw, info.header_offset + 22, new_size)
    cd = raw.rfind(b"PK\x01\x02", 0, len(raw))
    while cd >= 0:
        name_len = struct.unpack_from("<H", raw, cd + 28)[0]
        if raw[cd + 46:cd + 46 + name_len] == member.encode():
            struct.pack_into("<L", raw, cd + 24, new_size)
            break
        cd = raw.rfind(b"PK\x01\x02", 0, cd)
    path.write_bytes(bytes(raw))


def test_member_inflating_past_its_declared_size_is_cut_and_refused(files, tmp_path):
    manifest, arrays = _parts(files["net"])
    name = manifest["object"]["state"]["__dict__"][0][1][0]["__array__"]
    meta = manifest["arrays"][name]
    honest = len(arrays[name])
    # the member really holds 50 MB but both headers and the manifest claim the honest size
    arrays[name] = arrays[name] + bytes(50 << 20)
    dst = _write(tmp_path / "lie.glassnet", manifest, arrays)
    meta["sha256"] = hashlib.sha256(arrays[name][:honest]).hexdigest()
    _patch_sizes(dst, f"arrays/{name}.npy", honest)
    t0 = time.perf_counter()
    with pytest.raises(GlassnetFormatError, match="damaged"):
        load(dst)
    assert time.perf_counter() - t0 < 2.0


def test_declared_total_above_the_limit_is_refused_before_reading(tmp_path):
    a = np.arange(1 << 18, dtype=np.float64)  # 2 MiB
    path = save({"a": a}, tmp_path / "big.glassnet")
    with pytest.raises(GlassnetFormatError, match="max_bytes"):
        load(path, max_bytes=1 << 20)
    assert np.array_equal(load(path, max_bytes=4 << 20)["a"], a)
    with pytest.raises(ValueError, match="max_bytes"):
        load(path, max_bytes=0)


@pytest.mark.parametrize("case", [
    "shape_lie", "dtype_lie", "object_dtype", "big_endian", "long_double", "structured",
    "negative_shape", "float_shape", "huge_shape", "bad_name", "bad_sha", "header_lie",
    "fortran_flip", "missing_member", "extra_member", "not_a_list_shape",
])
def test_array_index_lies_are_refused(files, tmp_path, case):
    manifest, arrays = _parts(files["net"])
    name = next(iter(manifest["arrays"]))
    meta = manifest["arrays"][name]
    extra = ()
    if case == "shape_lie":
        meta["shape"] = [meta["shape"][0] + 1] + meta["shape"][1:]
    elif case == "dtype_lie":
        meta["dtype"] = "<i8"
    elif case == "object_dtype":
        meta["dtype"] = "|O"
    elif case == "big_endian":
        meta["dtype"] = ">f8"
    elif case == "long_double":
        meta["dtype"] = "<f16"
    elif case == "structured":
        meta["dtype"] = "[('a', '<f8')]"
    elif case == "negative_shape":
        meta["shape"] = [-1]
    elif case == "float_shape":
        meta["shape"] = [2.0, 3]
    elif case == "huge_shape":
        meta["shape"] = [2**40, 2**40]
    elif case == "not_a_list_shape":
        meta["shape"] = "6,3"
    elif case == "bad_name":
        manifest["arrays"]["../../etc/passwd"] = manifest["arrays"].pop(name)
    elif case == "bad_sha":
        meta["sha256"] = "zz"
    elif case == "header_lie":  # the .npy header says int64 where the manifest says float64
        arrays[name] = _npy(np.frombuffer(arrays[name][-int(np.prod(meta["shape"])) * 8:],
                                          dtype="<i8").reshape(meta["shape"]))
    elif case == "fortran_flip":
        arrays[name] = arrays[name].replace(b"'fortran_order': False",
                                            b"'fortran_order': 1    ")
    elif case == "missing_member":
        del arrays[name]
    elif case == "extra_member":
        extra = (("evil.py", b"import os"),)
    dst = _write(tmp_path / "x.glassnet", manifest, arrays, fix_sha=case != "bad_sha",
                 extra=extra)
    with pytest.raises(GlassnetFormatError):
        load(dst)


def test_container_limits(files, tmp_path):
    manifest, arrays = _parts(files["net"])
    # a manifest larger than 16 MiB (padding compresses to almost nothing)
    big = json.dumps(manifest).encode() + b" " * (17 << 20)
    with zipfile.ZipFile(tmp_path / "m.glassnet", "w", zipfile.ZIP_DEFLATED) as zf:
        for n, raw in arrays.items():
            zf.writestr(f"arrays/{n}.npy", raw)
        zf.writestr("manifest.json", big)
    with pytest.raises(GlassnetFormatError, match="limit"):
        load(tmp_path / "m.glassnet")
    # too many members
    with zipfile.ZipFile(tmp_path / "n.glassnet", "w") as zf:
        for i in range(10_001):
            zf.writestr(f"arrays/b{i}.npy", b"")
        zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(GlassnetFormatError, match="members"):
        load(tmp_path / "n.glassnet")
    # more JSON values than the limit (decoding time), in a manifest under 16 MiB
    m = dict(manifest, object={"__tuple__": [[0, 0]] * 400_000})
    _write_manifest_text(tmp_path / "v.glassnet", json.dumps(m), arrays)
    with pytest.raises(GlassnetFormatError, match="values"):
        load(tmp_path / "v.glassnet")
    # a central directory above the limit is refused before zipfile parses it
    with pytest.raises(GlassnetFormatError, match="central directory"):
        read_manifest(files["net"], limits=Limits(max_central_directory=100))
    # deep nesting: beyond the parser's recursion and just beyond the depth limit
    for depth in (100_000, 70):
        m = dict(manifest, object="@")
        text = json.dumps(m).replace('"@"', "[" * depth + "]" * depth)
        _write_manifest_text(tmp_path / "d.glassnet", text, arrays)
        with pytest.raises(GlassnetFormatError, match="nest"):
            load(tmp_path / "d.glassnet")
    # duplicate members, encryption flag, an unsupported compression method
    dup = tmp_path / "dup.glassnet"
    _write(dup, json.loads(json.dumps(manifest)), dict(arrays))
    with pytest.warns(UserWarning), zipfile.ZipFile(dup, "a") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(GlassnetFormatError, match="twice"):
        load(dup)
    bz = tmp_path / "bz.glassnet"
    with zipfile.ZipFile(bz, "w", zipfile.ZIP_BZIP2) as zf:
        for n, raw in arrays.items():
            zf.writestr(f"arrays/{n}.npy", raw)
        zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(GlassnetFormatError, match="compression"):
        load(bz)


def test_zip64_end_records_are_bounded_too(files, tmp_path, monkeypatch):
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)  # makes zipfile write ZIP64 records
    manifest, arrays = _parts(files["net"])
    dst = _write(tmp_path / "z.glassnet", manifest, arrays)
    monkeypatch.undo()
    raw = bytearray(dst.read_bytes())
    assert b"PK\x06\x06" in raw
    assert load(dst) == load(files["net"])
    # the ZIP64 record, which zipfile trusts over the classic one, claims a 1 TB directory
    struct.pack_into("<Q", raw, raw.rfind(b"PK\x06\x06") + 40, 1 << 40)
    dst.write_bytes(bytes(raw))
    with pytest.raises(GlassnetFormatError, match="central directory"):
        load(dst)


def _write_manifest_text(dst, text, arrays):
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, raw in arrays.items():
            zf.writestr(f"arrays/{n}.npy", raw)
        zf.writestr("manifest.json", text)


# ====================================================================== 3. damaged files
def test_every_single_byte_flip_is_refused_or_harmless(files, tmp_path):
    raw = files["net"].read_bytes()
    original = load(files["net"])
    dst = tmp_path / "f.glassnet"
    outcomes = {"refused": 0, "same": 0}
    for i in range(0, len(raw), 2):  # every other byte: each ZIP field is hit
        dst.write_bytes(raw[:i] + bytes([raw[i] ^ 0x5A]) + raw[i + 1:])
        try:
            back = load(dst)
        except GlassnetFormatError:
            outcomes["refused"] += 1
            continue
        # a flip in a ZIP time stamp or attribute field is harmless: same network
        assert back == original, i
        outcomes["same"] += 1
    # measured: 87% of flips refused, the rest in time stamps and attribute fields
    assert outcomes["refused"] > 0.75 * (outcomes["refused"] + outcomes["same"])


def test_truncations_are_refused(files, tmp_path):
    raw = files["regions"].read_bytes()
    dst = tmp_path / "t.glassnet"
    for n in range(0, len(raw), max(1, len(raw) // 150)):
        dst.write_bytes(raw[:n])
        with pytest.raises(GlassnetFormatError):
            load(dst)


@pytest.mark.parametrize("text", [
    b"{not json", b"\xff\xfe\x00garbage", b'{"format": "glassnet", "format_version": NaN}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": 1' + b"1" * 5000 + b"}",
    b"[]", b'"glassnet"',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__tuple__": 5}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__dict__": [[{"'
    b'__dict__": []}, 1]]}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__array__": "a9"}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__float__": "1"}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__bytes__": "%%"}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__objarray__": '
    b'[1, 2], "shape": [3]}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__objarray__": '
    b'[{"__tuple__": []}], "shape": [1]}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__randomstate__": '
    b'{"__dict__": [["bit_generator", "MT19937"]]}}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__generator__": '
    b'"numpy.random._pcg64:PCG64", "state": 7}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__dtype__": "|O"}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__complex__": '
    b'[1, "x"]}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__series__": {'
    b'"values": {"__objarray__": ["a"], "shape": [1]}, "dtype": "period[M]"}, "name": null, '
    b'"index": {"range": [0, 1, 1], "name": null}}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__object__": '
    b'"glassnet.network:ReluNetwork", "state": {"__dict__": [["weights", 1]]}}}',
    b'{"format": "glassnet", "format_version": 1, "arrays": {}, "object": {"__object__": '
    b'"sklearn.preprocessing._data:StandardScaler", "state": {"__dict__": [["__class__", 1]]}}}',
    b'{"format": "glassnet", "format_version": true, "arrays": {}, "object": 1}',
    b'{"format": "glassnet", "format_version": 1, "arrays": [], "object": 1}',
])
def test_bad_manifests_raise_the_format_error(tmp_path, text):
    dst = tmp_path / "b.glassnet"
    with zipfile.ZipFile(dst, "w") as zf:
        zf.writestr("manifest.json", text)
    with pytest.raises(GlassnetFormatError):
        load(dst)


def test_file_system_errors_stay_os_errors_naming_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.glassnet"):
        load(tmp_path / "missing.glassnet")
    with pytest.raises(IsADirectoryError, match=str(tmp_path.name)):
        load(tmp_path)
    fifo = tmp_path / "pipe.glassnet"
    os.mkfifo(fifo)
    t0 = time.perf_counter()
    with pytest.raises(GlassnetFormatError, match="not a regular file"):
        load(fifo)  # never blocks waiting for a writer
    assert time.perf_counter() - t0 < 2


# ---------------------------------------------------------------- inconsistent objects
@pytest.fixture(scope="module")
def regions_file(tmp_path_factory):
    X = np.random.default_rng(4).normal(size=(300, 3))
    r = unwrap(_net(2, sizes=(3, 8, 6, 2), output="identity"), X, X[:, :2])
    return save(r, tmp_path_factory.mktemp("r") / "r.glassnet"), r


@pytest.mark.parametrize("field,make,match", [
    ("labels", lambda r: np.where(r.labels == 0, len(r), r.labels), "labels outside"),
    ("labels", lambda r: np.where(r.labels == 0, -1, r.labels), "labels outside"),
    ("labels", lambda r: r.labels[:-1], "counts sum"),
    ("labels", lambda r: np.where(r.labels == 0, 1, r.labels), "counts do not match"),
    ("counts", lambda r: r.counts - 1000, "negative"),
    ("coef", lambda r: r.coef[:, :, :2], "coef has shape"),
    ("coef", lambda r: r.coef + np.eye(1, r.coef.size).reshape(r.coef.shape), "do not match "
     "the network"),
    ("intercept", lambda r: r.intercept[:-1], "intercept has shape"),
    ("packed_patterns", lambda r: r.packed_patterns[:, :1], "packed_patterns has shape"),
    ("packed_patterns", lambda r: r.packed_patterns ^ np.uint8(1), "do not match the network"),
    ("representatives", lambda r: r.representatives * np.nan, "NaN"),
    ("pred_sum", lambda r: r.pred_sum.astype(np.int64), "kind"),
    ("labels", lambda r: r.labels.astype(np.float64), "kind"),
])
def test_inconsistent_regions_are_refused(regions_file, tmp_path, field, make, match):
    src, r = regions_file
    manifest, _ = _parts(src)
    name = _array_of(manifest, _state(manifest["object"], ":Regions"), field)
    dst = _craft(src, tmp_path / "r.glassnet", arrays={name: make(r)})
    with pytest.raises(GlassnetFormatError, match=match):
        load(dst)


def test_inconsistent_networks_and_estimators_are_refused(files, tmp_path):
    manifest, raw = _parts(files["net"])
    pairs = _state(manifest["object"], ":ReluNetwork")
    w0 = [p for p in pairs if p[0] == "weights"][0][1][0]["__array__"]
    W = np.load(io.BytesIO(raw[w0]))
    cases = {
        "NaN": W * np.nan,
        "shape": W[:-1],  # one output fewer than its bias and the next layer expect
        "2-D": W[0],
    }
    for match, bad in cases.items():
        with pytest.raises(GlassnetFormatError, match=match):
            load(_craft(files["net"], tmp_path / "n.glassnet", arrays={w0: bad}))
    with pytest.raises(GlassnetFormatError, match="output"):
        load(_craft(files["net"], tmp_path / "n.glassnet",
                    edit=lambda m: _set(_state(m["object"], ":ReluNetwork"), "output", "exp")))
    # an MLP whose layers do not chain
    m, raw = _parts(files["mlp"])
    pairs = _state(m["object"], ":MLPClassifier")
    c1 = [p for p in pairs if p[0] == "coefs_"][0][1][1]["__array__"]
    W = np.load(io.BytesIO(raw[c1]))
    with pytest.raises(GlassnetFormatError, match="coefs_"):
        load(_craft(files["mlp"], tmp_path / "m.glassnet", arrays={c1: W[:-1]}))


def test_inconsistent_merger_and_mixture_are_refused(tmp_path):
    from glassnet.datasets import make_cocircles

    df = make_cocircles(n_samples=300, random_state=1)
    X, y = df[["X0", "X1"]], df["target"].to_numpy()
    clf = glassnet.ReluNetClassifier((6,), max_epochs=5, random_state=0).fit(X, y)
    merger = glassnet.RegionMerger(clf, n_regions=2, random_state=0).fit(X, y)
    src = save(merger, tmp_path / "m.glassnet")
    m, raw = _parts(src)
    name = _array_of(m, _state(m["object"], ":RegionMerger"), "region_to_merged_")
    bad = np.load(io.BytesIO(raw[name])) + 5
    with pytest.raises(GlassnetFormatError, match="region_to_merged_"):
        load(_craft(src, tmp_path / "b.glassnet", arrays={name: bad}))
    assert np.array_equal(load(src).predict_proba(X), merger.predict_proba(X))
    # its standardiser, and a mixture of linear models on the same network
    m, raw = _parts(src)
    name = _array_of(m, _state(m["object"], ":Standardizer"), "scale_")
    with pytest.raises(GlassnetFormatError, match="scale_"):
        load(_craft(src, tmp_path / "s.glassnet", arrays={name: -np.load(io.BytesIO(raw[name]))}))
    mlm = glassnet.MixtureOfLinearModels(clf, n_layer_clusters=2, clustering="kmeans",
                                         n_perturb=5, n_epics=2, random_state=0).fit(X, y)
    src = save(mlm, tmp_path / "mlm.glassnet")
    m, raw = _parts(src)
    pairs = _state(m["object"], ":MixtureOfLinearModels")
    for field, change, match in (("epics_", lambda a: a + 2, "epics_"),
                                 ("feature_scale_", lambda a: a * 0, "feature_scale_"),
                                 ("_B_epic", lambda a: a[:, :, :-1], "_B_epic")):
        name = _array_of(m, pairs, field)
        with pytest.raises(GlassnetFormatError, match=match):
            load(_craft(src, tmp_path / "x.glassnet",
                        arrays={name: change(np.load(io.BytesIO(raw[name])))}))
    assert np.array_equal(load(src).predict_proba(X), mlm.predict_proba(X))
    # the mixture's class moved module: a file naming it either way loads the live class
    from glassnet.persist._allow import SAME_CLASS

    for a, b in SAME_CLASS:
        def rename(m, a=a, b=b):
            obj = _find(m["object"], lambda d: d.get("__object__") in (a, b))
            obj["__object__"] = a if obj["__object__"] == b else b

        back = load(_craft(src, tmp_path / "moved.glassnet", edit=rename))
        assert type(back) is type(mlm)
        assert np.array_equal(back.predict_proba(X), mlm.predict_proba(X))


# ====================================================================== 4. safe save
def test_planted_symlinks_are_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "model.glassnet"
    # the old predictable temporary names, planted as links to the victim
    for name in (f".model.glassnet.tmp{os.getpid()}", ".model.glassnet.tmp", "model.glassnet.tmp"):
        os.symlink(victim, tmp_path / name)
    save(_net(), target)
    assert victim.read_text() == "precious" and load(target) == _net()
    assert not target.is_symlink()
    # a link at the target name itself is refused, the victim untouched
    link = tmp_path / "link.glassnet"
    os.symlink(victim, link)
    with pytest.raises(ValueError, match="symbolic link"):
        save(_net(), link)
    assert victim.read_text() == "precious" and link.is_symlink()


def _temp_files(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError, OSError])
def test_interrupted_save_leaves_no_temp_file_and_keeps_the_old_file(tmp_path, monkeypatch,
                                                                       exc):
    target = tmp_path / "m.glassnet"
    save(_net(0), target)
    before = target.read_bytes()
    calls = []
    real = zipfile.ZipFile.writestr

    def dying(self, *a, **k):
        calls.append(1)
        if len(calls) == 3:  # mid-way through the arrays
            raise exc(28, "No space left on device") if exc is OSError else exc()
        return real(self, *a, **k)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", dying)
    with pytest.raises(exc) as info:
        save(_net(1), target)
    if exc is OSError:
        assert str(target) in str(info.value)  # names the user's path, not the temp file
    monkeypatch.undo()
    assert _temp_files(tmp_path) == [] and target.read_bytes() == before


def test_save_errors_name_the_users_path(tmp_path, monkeypatch):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        save(_net(), tmp_path)
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        save(_net(), tmp_path / "no_such_folder" / "m.glassnet")
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")))
    with pytest.raises(OSError, match="m.glassnet"):
        save(_net(), tmp_path / "m.glassnet")
    assert list(tmp_path.iterdir()) == []


def test_saved_file_has_the_usual_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        path = save(_net(), tmp_path / "p.glassnet")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_regions_from_a_file_pass_the_same_checks_as_fresh_ones(regions_file):
    src, r = regions_file
    back = load(src, expected_type=Regions)
    X = np.random.default_rng(4).normal(size=(300, 3))
    assert np.array_equal(back.assign(X), r.labels)
    assert np.array_equal(back.coef, r.coef)


@pytest.mark.parametrize("cls", ["RegionMerger", "RegionPruner"])
@pytest.mark.parametrize("param,value", [("cv", -3), ("task", "bogus"), ("candidates", [0])])
def test_simplifier_parameters_are_checked_on_loading_as_fit_checks_them(tmp_path, cls, param,
                                                                          value):
    X = np.random.default_rng(0).normal(size=(60, 3))
    net = _net(1, output="identity", sizes=(3, 6, 1))
    y = net.forward(X)[:, 0]
    est = getattr(glassnet, cls)(net, n_regions=2).fit(X, y)
    src = save(est, tmp_path / "s.glassnet")

    def edit(m):
        _set(_state(m["object"], f":{cls}"), param, value)

    with pytest.raises(GlassnetFormatError, match=param):
        load(_craft(src, tmp_path / "bad.glassnet", edit=edit))
    assert np.array_equal(load(src).predict(X), est.predict(X))  # the untouched file loads
