"""Fuzzing glassnet.load (issue 12 acceptance): only documented errors, bounded memory and time.

Valid files of every saveable kind are mutated at the byte level (flips, truncation, spliced
members) and at the manifest level (hypothesis-generated JSON values put anywhere in the
tree, arrays replaced by random bytes with their checksums fixed so the content checks are
reached). A load must return an object or raise ``GlassnetFormatError`` (or an ``OSError``
for file-system problems), nothing else. A batch of hostile files, zip bombs included, is
also loaded in a child process under ``RLIMIT_AS`` of 1.5 GB and a CPU-time limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet
from glassnet import ReluNetwork, unwrap
from glassnet.persist import GlassnetFormatError, load, save

DOCUMENTED = (GlassnetFormatError, OSError)
FUZZ = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _net(seed, sizes, output):
    rng = np.random.default_rng(seed)
    return ReluNetwork([rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:],
                                                                 strict=True)],
                       [rng.normal(size=b) for b in sizes[1:]], output=output)


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """name -> bytes of a valid file, one per saveable kind."""
    from sklearn.cluster import KMeans
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from glassnet.datasets import make_cocircles

    d = tmp_path_factory.mktemp("fuzz_valid")
    df = make_cocircles(n_samples=160, random_state=3)
    X, y = df[["X0", "X1"]], df["target"].to_numpy()
    Xa = X.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = glassnet.ReluNetClassifier((6,), max_epochs=3, random_state=0).fit(X, y)
        reg = glassnet.ReluNetRegressor((5,), max_epochs=2, random_state=0).fit(X, Xa[:, 0])
        objs = {
            "network": _net(0, (2, 5, 4, 3), "softmax"),
            "regions": unwrap(_net(1, (2, 6, 1), "identity"), Xa, Xa[:, 0]),
            "classifier": clf,
            "regressor": reg,
            "merger": glassnet.RegionMerger(clf, n_regions=2, random_state=0).fit(X, y),
            "pruner": glassnet.RegionPruner(clf, n_regions=2).fit(X, y),
            "mlm": glassnet.MixtureOfLinearModels(clf, n_layer_clusters=2, clustering="kmeans",
                                                  n_perturb=5, n_epics=2,
                                                  random_state=0).fit(X, y),
            "partition": glassnet.partition_2d(clf.network_, ((-1, 1), (-1, 1))),
            "pipeline": make_pipeline(StandardScaler(), MLPRegressor(
                hidden_layer_sizes=(3,), max_iter=20, random_state=0)).fit(Xa, Xa[:, 0]),
            "kmeans": KMeans(2, n_init=1, random_state=0).fit(Xa),
            "containers": {"frame": pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None]}),
                           "rng": np.random.default_rng(0), "rs": np.random.RandomState(1),
                           "misc": (1, {2, 3}, b"\x00", np.float32(2.5), float("nan"))},
        }
    return _Files({k: save(v, d / f"{k}.glassnet").read_bytes() for k, v in objs.items()})


class _Files(dict):
    """The valid files' bytes; a short repr keeps hypothesis's failure reports readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} valid glassnet files>"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "x.glassnet"


KINDS = ["network", "regions", "classifier", "regressor", "merger", "pruner", "mlm",
         "partition", "pipeline", "kmeans", "containers"]


def _load_bytes(raw: bytes, path) -> str:
    """Load ``raw`` from ``path``; the name of the outcome (never another exception)."""
    path.write_bytes(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. scikit-learn's version warning on edited files
        try:
            load(path)
        except DOCUMENTED as exc:
            return type(exc).__name__
    return "loaded"


def _members(raw: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return [(n, zf.read(n)) for n in zf.namelist()]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in members:
            zf.writestr(n, data)
    return buf.getvalue()


def _nodes(tree, path=()):
    """Every (container path) in a JSON tree, for hypothesis to pick from."""
    out = [path]
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.extend(_nodes(v, (*path, k)))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            out.extend(_nodes(v, (*path, i)))
    return out


def _replace(tree, path, value):
    if not path:
        return value
    parent = tree
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return tree


TAGS = ["__array__", "__float__", "__scalar__", "__tuple__", "__set__", "__dict__", "__bytes__",
        "__complex__", "__dtype__", "__type__", "__objarray__", "__randomstate__",
        "__generator__", "__tensor__", "__dataframe__", "__series__", "__object__"]
NAMES = ["glassnet.network:ReluNetwork", "glassnet.regions:Regions", "numpy:float64",
         "sklearn.pipeline:Pipeline", "builtins:eval", "os:system", "a0", "|O", "<f8", ">f8",
         "nan", "shape", "state", "items", "index", "range"]
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(NAMES)
           | st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(st.sampled_from(TAGS) | st.text(max_size=6), inner,
                                     max_size=3)),
    max_leaves=12,
)


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_byte_flips_and_truncations(valid, scratch, kind, data):
    raw = bytearray(valid[kind])
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    out = _load_bytes(bytes(raw), scratch)
    assert out in ("loaded", "GlassnetFormatError")


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_manifest_edits(valid, scratch, kind, data):
    members = _members(valid[kind])
    i = [n for n, _ in members].index("manifest.json")
    manifest = json.loads(members[i][1])
    for _ in range(data.draw(st.integers(1, 3))):
        nodes = _nodes(manifest)
        path = nodes[data.draw(st.integers(0, len(nodes) - 1))]
        manifest = _replace(manifest, path, data.draw(json_values))
    members[i] = ("manifest.json", json.dumps(manifest).encode())
    out = _load_bytes(_zip(members), scratch)
    assert out in ("loaded", "GlassnetFormatError")


@pytest.mark.parametrize("kind", KINDS)
@FUZZ
@given(data=st.data())
def test_spliced_members_and_rewritten_arrays(valid, scratch, kind, data):
    members = _members(valid[kind])
    names = [n for n, _ in members]
    action = data.draw(st.sampled_from(["swap", "foreign", "drop", "duplicate", "array"]))
    if action == "swap" and len(members) > 2:  # two members' contents exchanged
        a, b = (data.draw(st.integers(0, len(members) - 1)) for _ in range(2))
        members[a], members[b] = (names[a], members[b][1]), (names[b], members[a][1])
    elif action == "foreign":  # a member from a file of another kind
        other = _members(valid[data.draw(st.sampled_from(KINDS))])
        j = data.draw(st.integers(0, len(other) - 1))
        k = data.draw(st.integers(0, len(members) - 1))
        members[k] = (names[k], other[j][1])
    elif action == "drop":
        members.pop(data.draw(st.integers(0, len(members) - 1)))
    elif action == "duplicate":
        members.append(members[data.draw(st.integers(0, len(members) - 1))])
    else:  # an array's bytes replaced by random ones of the same size, checksum fixed
        arrays = [n for n in names if n.startswith("arrays/")]
        if arrays:
            name = data.draw(st.sampled_from(arrays))
            k = names.index(name)
            head_len = _npy_header_len(members[k][1])
            body = data.draw(st.binary(min_size=len(members[k][1]) - head_len,
                                       max_size=len(members[k][1]) - head_len))
            new = members[k][1][:head_len] + body
            members[k] = (name, new)
            m = names.index("manifest.json")
            manifest = json.loads(members[m][1])
            manifest["arrays"][name[7:-4]]["sha256"] = hashlib.sha256(new).hexdigest()
            members[m] = ("manifest.json", json.dumps(manifest).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names
        raw = _zip(members)
    out = _load_bytes(raw, scratch)
    assert out in ("loaded", "GlassnetFormatError")


def _npy_header_len(raw: bytes) -> int:
    bio = io.BytesIO(raw)
    version = np.lib.format.read_magic(bio)
    if version == (1, 0):
        np.lib.format.read_array_header_1_0(bio)
    else:
        np.lib.format.read_array_header_2_0(bio)
    return bio.tell()


# ---------------------------------------------------------------- child process, bounded
CHILD = textwrap.dedent("""
    import json, resource, sys, time, warnings
    warnings.simplefilter("ignore")
    from glassnet.persist import GlassnetFormatError, load
    import glassnet.estimators, glassnet.mlm, glassnet.simplify, glassnet.partition  # noqa
    import sklearn.cluster, sklearn.neural_network, sklearn.pipeline  # noqa
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (90, 90))
    out = {}
    for path in sys.argv[2:]:
        t0 = time.perf_counter()
        try:
            load(path)
            kind = "loaded"
        except (GlassnetFormatError, OSError) as exc:
            kind = type(exc).__name__
        except BaseException as exc:  # reported, so the parent can fail with the name
            kind = "UNDOCUMENTED " + type(exc).__name__ + ": " + str(exc)[:200]
        out[path] = [kind, time.perf_counter() - t0]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"results": out, "peak_mib": peak_kib / 1024}))
""")


def _bomb(n_bytes: int, declared_shape) -> bytes:
    """One .npy member of ``n_bytes`` zeros; the manifest and header claim ``declared_shape``."""
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": "<f8", "fortran_order": False, "shape": tuple(declared_shape)})
    manifest = {"format": "glassnet", "format_version": 1, "object": {"__array__": "a0"},
                "arrays": {"a0": {"sha256": "0" * 64, "dtype": "<f8",
                                  "shape": list(declared_shape)}}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("arrays/a0.npy", "w", force_zip64=True) as f:
            f.write(head.getvalue())
            chunk = bytes(1 << 20)
            for _ in range(n_bytes >> 20):
                f.write(chunk)
        zf.writestr("manifest.json", json.dumps(manifest))
    return buf.getvalue()


def test_hostile_batch_in_a_memory_limited_child(valid, tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    # zip bombs: a lying shape, and an honest one just above the default limit of 2 GiB
    for name, raw in (("bomb_lie", _bomb(512 << 20, (10,))),
                      ("bomb_limit", _bomb(0, (2**28 + 1,))),
                      ("bomb_honest_small", _bomb(64 << 20, ((64 << 20) // 8,)))):
        p = tmp_path / f"{name}.glassnet"
        p.write_bytes(raw)
        paths.append(str(p))
    # random byte mutations of every kind
    for kind in KINDS:
        base = valid[kind]
        for j in range(6):
            raw = bytearray(base)
            for i in rng.integers(0, len(raw), size=j + 1):
                raw[i] ^= int(rng.integers(1, 256))
            p = tmp_path / f"{kind}_{j}.glassnet"
            p.write_bytes(bytes(raw))
            paths.append(str(p))
    deep = tmp_path / "deep.glassnet"
    deep.write_bytes(_zip([("manifest.json", b"[" * 200_000 + b"]" * 200_000)]))
    paths.append(str(deep))
    paths.append(str(tmp_path / "missing.glassnet"))
    limit = int(1.5 * 2**30)
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(limit), *paths], capture_output=True, text=True,
        timeout=180, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                          "MKL_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    results = report["results"]
    bad = {p: r for p, r in results.items() if r[0] not in ("loaded", "GlassnetFormatError",
                                                            "FileNotFoundError")}
    assert not bad, bad
    assert results[str(tmp_path / "bomb_lie.glassnet")][0] == "GlassnetFormatError"
    assert results[str(tmp_path / "bomb_limit.glassnet")][0] == "GlassnetFormatError"
    assert results[str(deep)][0] == "GlassnetFormatError"
    assert results[str(tmp_path / "missing.glassnet")][0] == "FileNotFoundError"
    # each refusal is quick: the lying 512 MiB bomb is refused from its header
    assert results[str(tmp_path / "bomb_lie.glassnet")][1] < 5
    assert max(r[1] for r in results.values()) < 30
    assert report["peak_mib"] < 1.5 * 1024
    print(f"child: {len(results)} files, peak RSS {report['peak_mib']:.0f} MiB, slowest "
          f"{max(r[1] for r in results.values()):.2f} s, outcomes "
          f"{sorted({r[0] for r in results.values()})}")


@pytest.mark.slow
def test_many_random_mutations(valid, tmp_path):
    """A longer deterministic run: 3000 mutated files across every kind."""
    rng = np.random.default_rng(1)
    seen = {}
    for n in range(3000):
        kind = KINDS[n % len(KINDS)]
        raw = bytearray(valid[kind])
        for i in rng.integers(0, len(raw), size=int(rng.integers(1, 6))):
            raw[i] ^= int(rng.integers(1, 256))
        if rng.random() < 0.2:
            raw = raw[: int(rng.integers(0, len(raw)))]
        out = _load_bytes(bytes(raw), tmp_path / "x.glassnet")
        seen[out] = seen.get(out, 0) + 1
    assert set(seen) <= {"loaded", "GlassnetFormatError"}, seen
    print(f"3000 mutated files: {seen}")
