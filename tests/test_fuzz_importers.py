"""Fuzzing every importer (issue 12 acceptance): from_torch, from_sklearn and from_onnx either
import a network that computes what the original model computes, or raise ValueError/TypeError
(ImportMismatchError is a ValueError). Never another exception, never a hang, and hostile ONNX
files (huge claimed tensors, external data) cost bounded memory: they are loaded in a child
process under ``resource.setrlimit(RLIMIT_AS)``."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet.io import from_sklearn, from_torch

DOCUMENTED = (ValueError, TypeError)
SPECIAL = [0.0, 1e-300, -1e-300, 1e-30, 1e30, -1e30, 1e300, np.nan, np.inf, -np.inf]
FUZZ = settings(max_examples=30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _values(draw, shape, rng_seed):
    """Gaussian values with, sometimes, special values (huge, tiny, NaN, inf) mixed in."""
    rng = np.random.default_rng(rng_seed)
    a = rng.normal(size=shape)
    if draw(st.booleans()):
        mask = rng.random(shape) < 0.3
        a[mask] = rng.choice(SPECIAL, size=int(mask.sum()))
    return a


# ---------------------------------------------------------------------- torch
@st.composite
def torch_modules(draw):
    import torch
    from torch import nn

    d = draw(st.integers(1, 4))
    widths = [d, *draw(st.lists(st.integers(1, 5), min_size=0, max_size=3)),
              draw(st.integers(1, 3))]
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.float64, torch.float16]))
    layers: list = []
    seed = draw(st.integers(0, 2**16))
    for i in range(len(widths) - 1):
        lin = nn.Linear(widths[i], widths[i + 1], bias=draw(st.booleans()))
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(_values(draw, lin.weight.shape, seed + i)))
            if lin.bias is not None:
                lin.bias.copy_(torch.as_tensor(_values(draw, lin.bias.shape, seed + 1000 + i)))
        layers.append(lin)
        if i < len(widths) - 2:
            extra = draw(st.sampled_from(["relu", "relu", "bn", "dropout", "tanh", "none"]))
            if extra == "bn":
                bn = nn.BatchNorm1d(widths[i + 1])
                with torch.no_grad():
                    bn.running_var.copy_(torch.as_tensor(
                        np.abs(_values(draw, (widths[i + 1],), seed + 7))))
                layers += [bn, nn.ReLU()]
            elif extra == "dropout":
                layers += [nn.ReLU(), nn.Dropout(0.3)]
            elif extra == "tanh":
                layers.append(nn.Tanh())
            elif extra == "relu":
                layers.append(nn.ReLU())
    tail = draw(st.sampled_from([None, "sigmoid", "softmax"]))
    if tail == "sigmoid":
        layers.append(nn.Sigmoid())
    elif tail == "softmax":
        layers.append(nn.Softmax(dim=1))
    return nn.Sequential(*layers).to(dtype)


@FUZZ
@given(torch_modules())
def test_from_torch_fuzz(module):
    import torch

    try:
        net = from_torch(module)
    except DOCUMENTED:
        return
    # imported: it must compute what the module computes (independent check, other rows)
    X = np.random.default_rng(1).normal(size=(16, net.n_features))
    module.eval()
    with torch.no_grad():
        ref = module.double()(torch.as_tensor(X)).numpy()
    with np.errstate(all="ignore"):
        got = net.predict_output(X)
    ok = np.isfinite(ref).all(axis=1) & np.isfinite(got).all(axis=1)
    scale = 1.0 + np.abs(ref[ok]).max(initial=0.0)
    assert np.allclose(got[ok], ref[ok], rtol=1e-3, atol=1e-3 * scale)


# ---------------------------------------------------------------------- scikit-learn
@pytest.fixture(scope="module")
def fitted_mlps():
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [
            MLPClassifier(hidden_layer_sizes=(4, 3), max_iter=30, random_state=0).fit(
                X, X[:, 0] > 0),
            MLPClassifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(
                X, np.digitize(X[:, 1], [-0.5, 0.5])),
            MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(X, X[:, 2]),
        ]


@FUZZ
@given(data=st.data())
def test_from_sklearn_fuzz(fitted_mlps, data):
    mlp = copy.deepcopy(data.draw(st.sampled_from(fitted_mlps)))
    seed = data.draw(st.integers(0, 2**16))
    dtype = data.draw(st.sampled_from([np.float64, np.float32, np.float16, np.int64, object]))
    for i in range(len(mlp.coefs_)):
        shape = mlp.coefs_[i].shape
        if data.draw(st.integers(0, 9)) == 0:  # an odd shape
            shape = (shape[0], max(1, shape[1] + data.draw(st.sampled_from([-1, 1]))))
        W = _values(data.draw, shape, seed + i)
        b = _values(data.draw, mlp.intercepts_[i].shape, seed + 1000 + i)
        with np.errstate(all="ignore"):  # huge values overflow float16 / int64: intended
            mlp.coefs_[i], mlp.intercepts_[i] = W.astype(dtype), b.astype(dtype)
    if data.draw(st.integers(0, 5)) == 0:
        mlp.activation = data.draw(st.sampled_from(["tanh", "relu", "identity", "bogus"]))
    if data.draw(st.integers(0, 5)) == 0:
        mlp.out_activation_ = data.draw(st.sampled_from(["softmax", "logistic", "exp", "relu"]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = from_sklearn(mlp)
    except DOCUMENTED:
        return
    X = np.random.default_rng(2).normal(size=(16, net.n_features))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        ref = (mlp.predict_proba(X) if hasattr(mlp, "classes_") else mlp.predict(X))
        got = net.predict_output(X)
    ref = np.asarray(ref, dtype=np.float64).reshape(16, -1)
    if ref.shape[1] == 2 and got.shape[1] == 1:
        ref = ref[:, 1:]
    ok = np.isfinite(ref).all(axis=1)
    scale = 1.0 + np.abs(ref[ok]).max(initial=0.0)
    assert np.allclose(got[ok], ref[ok], rtol=1e-4, atol=1e-4 * scale)


# ---------------------------------------------------------------------- ONNX weights
@st.composite
def onnx_models(draw):
    from onnx import TensorProto, helper, numpy_helper

    dtypes = {np.float32: TensorProto.FLOAT, np.float64: TensorProto.DOUBLE,
              np.float16: TensorProto.FLOAT16}
    dt = draw(st.sampled_from(list(dtypes)))
    d = draw(st.integers(1, 4))
    widths = [d, *draw(st.lists(st.integers(1, 4), max_size=2)), draw(st.integers(1, 2))]
    seed = draw(st.integers(0, 2**16))
    nodes, inits, value = [], [], "x"
    for i in range(len(widths) - 1):
        n_in = widths[i] + (draw(st.sampled_from([-1, 1])) if draw(st.integers(0, 9)) == 0 else 0)
        with np.errstate(all="ignore"):  # huge values overflow float16/float32: intended
            W = _values(draw, (max(n_in, 1), widths[i + 1]), seed + i).astype(dt)
            b = _values(draw, (widths[i + 1],), seed + 1000 + i).astype(dt)
        inits += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        op = draw(st.sampled_from(["Gemm", "MatMulAdd"]))
        if op == "Gemm":
            alpha = draw(st.sampled_from([1.0, 0.5, -2.0, 1e30]))
            nodes.append(helper.make_node("Gemm", [value, f"W{i}", f"b{i}"], [f"z{i}"],
                                          alpha=alpha))
        else:
            nodes += [helper.make_node("MatMul", [value, f"W{i}"], [f"m{i}"]),
                      helper.make_node("Add", [f"m{i}", f"b{i}"], [f"z{i}"])]
        value = f"z{i}"
        if i < len(widths) - 2:
            nodes.append(helper.make_node("Relu", [value], [f"a{i}"]))
            value = f"a{i}"
    nodes.append(helper.make_node("Identity", [value], ["y"]))
    graph = helper.make_graph(
        nodes, "fuzz", [helper.make_tensor_value_info("x", dtypes[dt], ["n", d])],
        [helper.make_tensor_value_info("y", dtypes[dt], None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), dt


@FUZZ
@given(onnx_models())
def test_from_onnx_fuzz(case):
    from glassnet.io import from_onnx

    blob, dt = case
    try:
        net = from_onnx(blob)
    except DOCUMENTED:
        return
    import onnxruntime as ort

    X = np.random.default_rng(3).normal(size=(16, net.n_features))
    try:
        sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
        ref = sess.run(None, {"x": X.astype(dt)})[0].astype(np.float64)
    except Exception:  # noqa: BLE001 - no float16 kernel: the reference evaluator instead
        import onnx
        from onnx.reference import ReferenceEvaluator

        with np.errstate(all="ignore"):
            ref = ReferenceEvaluator(onnx.load_model_from_string(blob)).run(
                None, {"x": X.astype(dt)})[0].astype(np.float64)
    with np.errstate(all="ignore"):
        got = net.forward(X)
    ok = np.isfinite(ref).all(axis=1)
    tol = {np.float64: 1e-9, np.float32: 1e-3, np.float16: 5e-2}[dt]
    scale = 1.0 + np.abs(ref[ok]).max(initial=0.0)
    assert np.allclose(got[ok], ref[ok], rtol=tol, atol=tol * scale)


# ---------------------------------------------------------------------- ONNX in a child
CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from glassnet.io import from_onnx

    class Timeout(Exception):
        pass

    def alarm(signum, frame):
        raise Timeout()

    signal.signal(signal.SIGALRM, alarm)
    for path in sys.argv[2:]:
        signal.alarm(10)
        try:
            with open(path, "rb") as f:
                from_onnx(f.read())
            outcome = "ok"
        except (ValueError, TypeError):
            outcome = "refused"
        except Timeout:
            outcome = "timeout"
        except BaseException as exc:  # what must not happen
            outcome = type(exc).__name__ + ": " + str(exc)[:200]
        finally:
            signal.alarm(0)
        print(json.dumps([path, outcome]), flush=True)
    """
)


def _hostile_models(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def model(init, extra_nodes=()):
        nodes = [*extra_nodes, helper.make_node("MatMul", ["x", "W"], ["y"])]
        graph = helper.make_graph(
            nodes, "h", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 2])],
            [] if init is None else [init])
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        return m

    out = {}
    huge = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    del huge.dims[:]
    huge.dims.extend([2**31, 2**31])  # claims 2**62 values, stores 24 bytes
    out["claims 2**62 values"] = model(huge)
    big = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    del big.dims[:]
    big.dims.extend([3, 2**27])  # 1.5 GiB claimed, within int range of one dim
    out["claims 1.5 GiB"] = model(big)
    const = helper.make_node("Constant", [], ["W"], value=huge)
    out["Constant claims 2**62"] = model(None, [const])
    fifo = tmp_path / "weights.bin"
    os.mkfifo(fifo)  # reading it would block: the importer must never open it
    ext = numpy_helper.from_array(np.ones((3, 2), np.float32), "W")
    ext.ClearField("raw_data")
    ext.data_location = TensorProto.EXTERNAL
    for k, v in {"location": str(fifo), "offset": "0", "length": "24"}.items():
        e = ext.external_data.add()
        e.key, e.value = k, v
    out["external data (fifo)"] = model(ext)
    ext2 = copy.deepcopy(ext)
    ext2.external_data[0].value = "../../../../etc/passwd"
    out["external data (../etc/passwd)"] = model(ext2)
    return {k: onnx.ModelProto.SerializeToString(v) for k, v in out.items()}


def test_hostile_onnx_files_in_a_memory_limited_child(tmp_path):
    sys.path.insert(0, os.path.dirname(__file__))
    from test_onnx_fuzz import base_model, mutations

    files: dict[str, str] = {}
    for name, blob in _hostile_models(tmp_path).items():
        p = tmp_path / f"hostile{len(files)}.onnx"
        p.write_bytes(blob)
        files[str(p)] = name
    rng = np.random.default_rng(99)
    for i, (kind, blob) in enumerate(mutations(base_model(), rng)):
        if i >= 90:
            break
        p = tmp_path / f"mut{i}.onnx"
        p.write_bytes(blob)
        files[str(p)] = kind
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD, str(1 << 30), *files],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    outcomes = dict(json.loads(line) for line in res.stdout.splitlines())
    assert set(outcomes) == set(files)
    bad = {files[p]: o for p, o in outcomes.items() if o not in ("ok", "refused")}
    assert not bad, bad
    hostile = [p for p, name in files.items() if not os.path.basename(p).startswith("mut")]
    assert all(outcomes[p] == "refused" for p in hostile), {files[p]: outcomes[p] for p in hostile}
    assert sum(o == "ok" for o in outcomes.values()) >= 5  # the mutations leave some importable
