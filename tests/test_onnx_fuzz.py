"""Fuzzing the ONNX importer with mutated files.

Every mutation (byte flips, truncations, edited tensor dims, rewired nodes, edited raw data)
must either import into a network that computes what the ONNX reference evaluator computes,
or raise ValueError/TypeError: never another exception, never a hang, never a huge allocation.
"""

from __future__ import annotations

import signal
import tracemalloc
import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from glassnet.io import from_onnx

N_CASES = 320
PER_CASE_SECONDS = 5


def base_model() -> bytes:
    """A small ReLU network using most supported operators, tensors stored as raw bytes."""
    rng = np.random.default_rng(0)
    d = 4

    def t(name, arr, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)

    nodes = [
        helper.make_node("Constant", [], ["shape"],
                         value=numpy_helper.from_array(np.array([0, -1], dtype=np.int64))),
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("BatchNormalization", ["r", "g", "be", "m", "v"], ["n"], name="bn"),
        helper.make_node("Gemm", ["n", "W0", "b0"], ["z0"], transB=1, name="gemm0"),
        helper.make_node("Relu", ["z0"], ["a0"], name="relu0"),
        helper.make_node("MatMul", ["a0", "W1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["z1"], name="add1"),
        helper.make_node("Relu", ["z1"], ["a1"], name="relu1"),
        helper.make_node("Dropout", ["a1"], ["a2"], name="drop"),
        helper.make_node("Gemm", ["a2", "W2", "b2"], ["z2"], name="gemm2"),
        helper.make_node("Sigmoid", ["z2"], ["y"], name="link"),
    ]
    inits = [
        t("g", rng.uniform(0.5, 2, d)), t("be", rng.normal(size=d)), t("m", rng.normal(size=d)),
        t("v", rng.uniform(0.5, 2, d)), t("W0", rng.normal(size=(6, d))),
        t("b0", rng.normal(size=6)),
        t("W1", rng.normal(size=(6, 5))), t("b1", rng.normal(size=(1, 5))),
        t("W2", rng.normal(size=(5, 1))), t("b2", rng.normal(size=1)),
    ]
    graph = helper.make_graph(
        nodes, "fuzz", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])], initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])
    model.ir_version = 8
    return model.SerializeToString()


def mutations(data: bytes, rng: np.random.Generator):
    """Yield (kind, mutated bytes), deterministic for a given generator."""
    proto = onnx.load_model_from_string(data)
    names = [n.name for n in proto.graph.node]
    values = ["x"] + [o for n in proto.graph.node for o in n.output]
    for case in range(N_CASES):
        kind = case % 6
        if kind == 0:  # random byte overwrites
            b = bytearray(data)
            for _ in range(rng.integers(1, 4)):
                b[rng.integers(len(b))] = rng.integers(256)
            yield "flip", bytes(b)
        elif kind == 1:  # truncation
            yield "truncate", data[: rng.integers(0, len(data))]
        elif kind == 2:  # edited dims of one initializer (raw data unchanged)
            m = onnx.load_model_from_string(data)
            init = m.graph.initializer[rng.integers(len(m.graph.initializer))]
            choice = rng.integers(5)
            dims = list(init.dims)
            if choice == 0:
                dims = dims[::-1]
            elif choice == 1 and dims:
                dims[rng.integers(len(dims))] += int(rng.choice([-1, 1]))
            elif choice == 2:
                dims = [int(10 ** rng.integers(4, 12)), int(10 ** rng.integers(4, 12))]
            elif choice == 3:
                dims = [int(rng.integers(-3, 0))] + dims
            else:
                dims = [0]
            del init.dims[:]
            init.dims.extend(dims)
            yield "dims", m.SerializeToString()
        elif kind == 3:  # rewired node inputs (cycles, missing values, branches)
            m = onnx.load_model_from_string(data)
            node = m.graph.node[rng.integers(len(m.graph.node))]
            if len(node.input):
                j = rng.integers(len(node.input))
                node.input[j] = str(rng.choice(values + ["nowhere"]))
            yield "rewire", m.SerializeToString()
        elif kind == 4:  # replaced operator type or attribute
            m = onnx.load_model_from_string(data)
            node = m.graph.node[rng.integers(len(m.graph.node))]
            if rng.random() < 0.6:
                node.op_type = str(rng.choice(["Tanh", "Relu", "Identity", "Gemm", "MatMul", "Add",
                                               "Concat", "Softmax", "Loop", "Flatten", "Cast"]))
            else:
                for a in node.attribute:
                    if a.type == onnx.AttributeProto.INT:
                        a.i = int(rng.integers(-2, 3))
                    elif a.type == onnx.AttributeProto.FLOAT:
                        a.f = float(rng.choice([0.0, -1.0, 1e30, np.nan]))
            yield f"op({names[0] if not node.name else node.name})", m.SerializeToString()
        else:  # raw data lengths that disagree with the dims
            m = onnx.load_model_from_string(data)
            init = m.graph.initializer[rng.integers(len(m.graph.initializer))]
            raw = init.raw_data
            init.raw_data = raw[: rng.integers(0, len(raw))] if rng.random() < 0.5 else raw + raw
            yield "raw", m.SerializeToString()


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a hang
    raise _Timeout()


def test_mutated_onnx_files_load_correctly_or_fail_cleanly():
    data = base_model()
    rng = np.random.default_rng(20240917)
    X = np.random.default_rng(1).normal(size=(64, 4))
    failures: list[str] = []
    loaded = verified = 0
    old = signal.signal(signal.SIGALRM, _alarm)
    tracemalloc.start()
    try:
        for i, (kind, blob) in enumerate(mutations(data, rng)):
            signal.setitimer(signal.ITIMER_REAL, PER_CASE_SECONDS)
            try:
                net = from_onnx(blob)
            except (ValueError, TypeError):
                continue
            except _Timeout:
                failures.append(f"case {i} ({kind}): took over {PER_CASE_SECONDS}s")
                continue
            except Exception as exc:  # noqa: BLE001 - collecting what must not happen
                failures.append(f"case {i} ({kind}): {type(exc).__name__}: {exc}")
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            loaded += 1
            ref = _reference(blob, X, net.n_features)
            if ref is None:
                continue
            ours = net.predict_output(X[:, : net.n_features])
            scale = max(1.0, float(np.abs(ref).max()))
            if ours.shape != ref.shape or not np.allclose(ours, ref, rtol=1e-4, atol=1e-4 * scale):
                failures.append(f"case {i} ({kind}): loaded but computes something else")
            else:
                verified += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGALRM, old)
    assert not failures, "\n".join(failures[:20])
    # the mutations must leave some models importable, or the test checks nothing
    assert loaded >= 20 and verified >= 20, (loaded, verified)
    assert peak < 200 * 2**20, f"peak traced memory {peak / 2**20:.0f} MiB"


def _reference(blob: bytes, X: np.ndarray, d: int) -> np.ndarray | None:
    """Output of onnx's reference evaluator, or None when it cannot run the model."""
    if d > X.shape[1]:
        return None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            sess = ReferenceEvaluator(onnx.load_model_from_string(blob))
            out = sess.run(None, {"x": X[:, :d].astype(np.float32)})[0]
    except Exception:  # noqa: BLE001 - the reference may reject what it cannot run
        return None
    out = np.asarray(out, dtype=np.float64)
    if out.ndim != 2 or out.shape[0] != X.shape[0] or not np.isfinite(out).all():
        return None
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_base_model_is_imported_exactly(seed):
    """Sanity check of the fuzz base: the unmutated model matches the reference."""
    net = from_onnx(base_model())
    X = np.random.default_rng(seed).normal(size=(32, 4))
    ref = _reference(base_model(), X, 4)
    assert ref is not None
    np.testing.assert_allclose(net.predict_output(X), ref, rtol=1e-5, atol=1e-6)
