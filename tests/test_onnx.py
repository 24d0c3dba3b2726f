"""ONNX import: round trips through torch.onnx.export and skl2onnx, checked against
onnxruntime and the source model, hand-built graphs for every supported operator, and
clear errors for unsupported, damaged and hostile files."""

from __future__ import annotations

import io
import tracemalloc
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import glassnet.io as glassnet_io
from glassnet import ReluNetwork, unwrap
from glassnet.io import as_network, from_onnx

FLOAT = TensorProto.FLOAT


def ort_run(model_bytes: bytes, X: np.ndarray, output: str | None = None) -> np.ndarray:
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    outs = sess.run([output] if output else None, {name: X.astype(np.float32)})
    return np.asarray(outs[0])


def torch_export(module, d: int, **kwargs) -> bytes:
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, (torch.zeros(3, d),), buf, opset_version=17, dynamo=False,
            input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}},
            **kwargs,
        )
    return buf.getvalue()


def tensor(name: str, arr: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def make_model(nodes, inits, d: int | None, out: str = "y", opset: int = 17, ml: bool = False,
               extra_outputs=()) -> onnx.ModelProto:
    shape = None if d is None else ["n", d]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", FLOAT, shape)],
        [helper.make_tensor_value_info(out, FLOAT, None), *extra_outputs], initializer=inits,
    )
    imports = [helper.make_opsetid("", opset)]
    if ml:
        imports.append(helper.make_opsetid("ai.onnx.ml", 1))
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 8
    return model


def mlp_graph(rng, sizes, opset: int = 17, link: str | None = None):
    """x -> (Gemm Relu)* Gemm [link], weights in torch layout (transB=1)."""
    nodes, inits = [], []
    prev = "x"
    for i in range(len(sizes) - 1):
        W = rng.normal(size=(sizes[i + 1], sizes[i]))
        b = rng.normal(size=sizes[i + 1])
        inits += [tensor(f"W{i}", W), tensor(f"b{i}", b)]
        out = f"z{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"W{i}", f"b{i}"], [out], transB=1,
                                      name=f"gemm{i}"))
        prev = out
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [prev], [f"a{i}"], name=f"relu{i}"))
            prev = f"a{i}"
    if link:
        nodes.append(helper.make_node(link, [prev], ["y"], name="link"))
    else:
        nodes[-1].output[0] = "y"
    return make_model(nodes, inits, sizes[0], opset=opset)


# ---------------------------------------------------------------------- torch
@pytest.mark.parametrize("link", [None, "sigmoid", "softmax"])
def test_torch_export_matches_onnxruntime_and_torch(link, rng):
    import torch

    torch.manual_seed(0)
    k = 3 if link == "softmax" else 1
    layers = [torch.nn.Flatten(), torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
              torch.nn.Dropout(0.2), torch.nn.Linear(8, 6), torch.nn.ReLU(), torch.nn.Identity(),
              torch.nn.Linear(6, k)]
    if link == "sigmoid":
        layers.append(torch.nn.Sigmoid())
    if link == "softmax":
        layers.append(torch.nn.Softmax(dim=1))
    module = torch.nn.Sequential(*layers)
    module.train()
    with torch.no_grad():  # non-trivial running statistics for the batch norm
        for _ in range(5):
            module(torch.randn(64, 4) * 2 + 1)
    module.eval()
    data = torch_export(module, 4)
    net = from_onnx(data)
    assert net.hidden_sizes == (8, 6)
    assert net.output == (link or "identity")
    X = rng.normal(size=(300, 4)) * 2
    np.testing.assert_allclose(net.predict_output(X), ort_run(data, X), atol=1e-6, rtol=1e-6)
    with torch.no_grad():
        ref = module.double()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(net.predict_output(X), ref, atol=1e-10, rtol=1e-10)
    # the same network as the torch importer builds
    direct = ReluNetwork.from_torch(module)
    for a, b in zip(net.weights, direct.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_torch_dynamo_exporter(rng):
    """torch's default (torch.export based) exporter gives the same network."""
    import torch

    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(3, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (torch.zeros(5, 3),), opset_version=17, dynamo=True,
                                    verbose=False)
    data = program.model_proto.SerializeToString()
    net = ReluNetwork.from_onnx(data)
    X = rng.normal(size=(5, 3))  # the dynamo export fixes the batch size it was traced with
    np.testing.assert_allclose(net.forward(X), ort_run(data, X), atol=1e-6)
    with torch.no_grad():
        ref = module.double()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(net.forward(X), ref, atol=1e-12)


# ---------------------------------------------------------------------- scikit-learn
@pytest.fixture(scope="module")
def sk_data():
    r = np.random.default_rng(7)
    X = r.normal(size=(400, 5))
    return X, (X[:, 0] + X[:, 1] ** 2 > 1).astype(int), np.digitize(X[:, 2], [-0.5, 0.5])


def _skl(est, X, **options):
    from skl2onnx import to_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return to_onnx(est, X[:1].astype(np.float32), target_opset=17, options=options or None)


@pytest.mark.parametrize("zipmap", [True, False])
def test_skl2onnx_binary_classifier(sk_data, zipmap):
    from sklearn.neural_network import MLPClassifier

    X, yb, _ = sk_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier((10, 6), max_iter=200, random_state=0).fit(X, yb)
    model = _skl(est, X, zipmap=zipmap)
    net = from_onnx(model)
    assert net.output == "sigmoid" and net.n_outputs == 1
    p = net.predict_output(X)[:, 0]
    proba = ort_run(model.SerializeToString(), X, "probabilities") if not zipmap else None
    if proba is not None:
        np.testing.assert_allclose(p, proba[:, 1], atol=1e-6)
    else:
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        maps = sess.run(["output_probability"], {"X": X.astype(np.float32)})[0]
        np.testing.assert_allclose(p, [m[1] for m in maps], atol=1e-6)
    np.testing.assert_allclose(p, est.predict_proba(X)[:, 1], atol=1e-5)
    direct = ReluNetwork.from_sklearn(est)
    for a, b in zip(net.weights, direct.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)  # float32 storage


def test_skl2onnx_multiclass_and_regressors(sk_data):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    X, _, y3 = sk_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier((8,), max_iter=200, random_state=0).fit(X, y3)
        reg = MLPRegressor(hidden_layer_sizes=(9, 4), max_iter=200, random_state=0)
        reg.fit(X, X[:, 0] - X[:, 3])
        reg2 = MLPRegressor(hidden_layer_sizes=(6,), max_iter=200, random_state=0)
        reg2.fit(X, X[:, :2] * 2)
    m = _skl(clf, X, zipmap=False)
    net = from_onnx(m)
    assert net.output == "softmax" and net.n_outputs == 3
    np.testing.assert_allclose(net.predict_output(X), ort_run(m.SerializeToString(), X,
                                                              "probabilities"), atol=1e-6)
    np.testing.assert_allclose(net.predict_output(X), clf.predict_proba(X), atol=1e-5)
    m = _skl(reg, X)
    net = from_onnx(m.SerializeToString())
    assert net.output == "identity" and net.hidden_sizes == (9, 4)
    np.testing.assert_allclose(net.forward(X), ort_run(m.SerializeToString(), X), atol=1e-5,
                               rtol=1e-6)
    np.testing.assert_allclose(net.forward(X)[:, 0], reg.predict(X), atol=1e-5)
    # skl2onnx ends a multi-target regressor with Reshape(-1, 1), which interleaves the targets
    # of all rows into one column; the importer refuses it and the logits can be chosen instead
    m = _skl(reg2, X)
    with pytest.raises(TypeError, match="mixes samples"):
        from_onnx(m)
    net = from_onnx(m, output_name=m.graph.node[-1].input[0])
    assert net.n_outputs == 2
    ref = ort_run(m.SerializeToString(), X).reshape(len(X), 2)
    np.testing.assert_allclose(net.forward(X), ref, atol=1e-5, rtol=1e-6)
    np.testing.assert_allclose(net.forward(X), reg2.predict(X), atol=1e-5)


# ---------------------------------------------------------------------- hand-built graphs
@pytest.mark.parametrize("opset", [9, 11, 13, 17])
def test_gemm_chain_across_opsets(opset, rng):
    link = "Softmax" if opset >= 13 else None
    model = mlp_graph(rng, (3, 6, 5, 2), opset=opset, link=link)
    data = model.SerializeToString()
    net = from_onnx(data)
    X = rng.normal(size=(200, 3))
    np.testing.assert_allclose(net.predict_output(X), ort_run(data, X), atol=1e-5, rtol=1e-6)
    regions = unwrap(net, X)
    assert regions.max_abs_error < 1e-9


def test_matmul_add_constants_reshape_scaler_and_batchnorm(rng):
    """Every supported building block in one graph, checked against onnxruntime."""
    d = 4
    W0, b0 = rng.normal(size=(d, 6)), rng.normal(size=6)
    W1, b1 = rng.normal(size=(6, 2)), rng.normal(size=2)
    gamma, beta = rng.uniform(0.5, 2, size=d), rng.normal(size=d)
    mean, var = rng.normal(size=d), rng.uniform(0.5, 2, size=d)
    nodes = [
        helper.make_node("Scaler", ["x"], ["s0"], domain="ai.onnx.ml", offset=[0.5] * d,
                         scale=[2.0, 1.0, 0.5, 3.0], name="scaler"),
        helper.make_node("Sub", ["s0", "mu"], ["s1"], name="center"),
        helper.make_node("Div", ["s1", "sd"], ["s2"], name="scale"),
        helper.make_node("BatchNormalization", ["s2", "g", "be", "m", "v"], ["s3"], epsilon=1e-3,
                         name="bn"),
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(
            np.array([0, -1], dtype=np.int64))),
        helper.make_node("Reshape", ["s3", "shape"], ["s4"], name="reshape"),
        helper.make_node("Constant", [], ["W0c"], value=tensor("W0c", W0)),
        helper.make_node("Identity", ["W0c"], ["W0i"]),
        helper.make_node("MatMul", ["s4", "W0i"], ["m0"], name="mm0"),
        helper.make_node("Add", ["b0", "m0"], ["z0"], name="add0"),  # constant first
        helper.make_node("Relu", ["z0"], ["a0"]),
        helper.make_node("Dropout", ["a0"], ["a1"], name="drop"),
        helper.make_node("Mul", ["a1", "two"], ["a2"], name="times2"),
        helper.make_node("MatMul", ["a2", "W1"], ["m1"], name="mm1"),
        helper.make_node("Add", ["m1", "b1"], ["z1"], name="add1"),
        helper.make_node("Sub", ["one", "z1"], ["y"], name="flip"),  # 1 - z: a negated layer
    ]
    inits = [tensor("mu", rng.normal(size=d)), tensor("sd", rng.uniform(1, 2, size=(1, d))),
             tensor("g", gamma), tensor("be", beta), tensor("m", mean), tensor("v", var),
             tensor("b0", b0), tensor("W1", W1), tensor("b1", b1), tensor("two", np.array(2.0)),
             tensor("one", np.array([1.0]))]
    model = make_model(nodes, inits, d, ml=True)
    data = model.SerializeToString()
    net = from_onnx(data)
    assert net.hidden_sizes == (6,)
    X = rng.normal(size=(300, d))
    np.testing.assert_allclose(net.forward(X), ort_run(data, X), atol=1e-5, rtol=1e-5)


def test_flatten_from_rank3_and_relu_first(rng):
    W, b = rng.normal(size=(5, 6)), rng.normal(size=5)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "W", "b"], ["y"], transB=1, alpha=0.5, beta=2.0),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", FLOAT, ["n", 2, 3])],
                              [helper.make_tensor_value_info("y", FLOAT, None)],
                              [tensor("W", W), tensor("b", b)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    data = model.SerializeToString()
    net = from_onnx(data)
    assert net.n_features == 6 and net.hidden_sizes == (6,)
    X = rng.normal(size=(50, 6))
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": X.reshape(50, 2, 3).astype(np.float32)})[0]
    np.testing.assert_allclose(net.forward(X), ref, atol=1e-5)


def test_batchnorm_between_relus_becomes_diagonal_layer(rng):
    """A BatchNorm with no dense neighbour is kept as its own (diagonal) layer."""
    d = 3
    nodes = [
        helper.make_node("Gemm", ["x", "W0", "b0"], ["z0"]),
        helper.make_node("Relu", ["z0"], ["a0"]),
        helper.make_node("BatchNormalization", ["a0", "g", "be", "m", "v"], ["n0"]),
        helper.make_node("Relu", ["n0"], ["y"]),
    ]
    inits = [tensor("W0", rng.normal(size=(d, 4))), tensor("b0", rng.normal(size=4)),
             tensor("g", rng.uniform(0.5, 1.5, 4)), tensor("be", rng.normal(size=4)),
             tensor("m", rng.normal(size=4)), tensor("v", rng.uniform(0.5, 1.5, 4))]
    data = make_model(nodes, inits, d).SerializeToString()
    net = from_onnx(data)
    assert net.hidden_sizes == (4, 4)
    X = rng.normal(size=(100, d))
    np.testing.assert_allclose(net.forward(X), ort_run(data, X), atol=1e-5)


def test_output_choice_and_link_override(rng):
    model = mlp_graph(rng, (2, 4, 3), link="Softmax")
    # expose the logits as a second float output
    model.graph.output.append(helper.make_tensor_value_info("z1", FLOAT, None))
    data = model.SerializeToString()
    with pytest.raises(ValueError, match="output_name"):
        from_onnx(data)
    logits = from_onnx(data, output_name="z1")
    probs = from_onnx(data, output_name="y")
    assert logits.output == "identity" and probs.output == "softmax"
    assert from_onnx(data, output_name="z1", output="softmax") == probs
    with pytest.raises(ValueError, match="not a value"):
        from_onnx(data, output_name="nope")
    with pytest.raises(ValueError, match="output must be"):
        from_onnx(data, output_name="y", output="tanh")


def test_paths_files_and_as_network(tmp_path, rng):
    model = mlp_graph(rng, (3, 4, 1))
    data = model.SerializeToString()
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    net = from_onnx(data)
    assert from_onnx(str(path)) == net
    assert from_onnx(path) == net
    with open(path, "rb") as fh:
        assert from_onnx(fh) == net
    assert from_onnx(model) == net
    assert as_network(path) == net and as_network(data) == net and as_network(model) == net
    named = ReluNetwork.from_onnx(path, feature_names=["a", "b", "c"])
    assert named.feature_names == ("a", "b", "c")
    regions = unwrap(path, rng.normal(size=(20, 3)))
    assert regions.network == net
    with pytest.raises(ValueError, match="No ONNX file"):
        from_onnx(tmp_path / "missing.onnx")
    with pytest.raises(TypeError, match="expects a path"):
        from_onnx(12)
    with pytest.raises(ValueError, match="empty"):
        from_onnx(b"")


# ---------------------------------------------------------------------- unsupported graphs
def test_unsupported_operator_names_op_and_node(rng):
    model = mlp_graph(rng, (3, 4, 1))
    model.graph.node[1].op_type = "Tanh"
    with pytest.raises(TypeError, match=r"'relu0' \(Tanh\).*MixtureOfLinearModels"):
        from_onnx(model)
    model.graph.node[1].op_type = "LeakyRelu"
    with pytest.raises(TypeError, match="LeakyRelu"):
        from_onnx(model)


def test_skip_connection_and_several_inputs_rejected(rng):
    nodes = [
        helper.make_node("Gemm", ["x", "W", "b"], ["z"], name="g0"),
        helper.make_node("Relu", ["z"], ["a"]),
        helper.make_node("Add", ["a", "x"], ["y"], name="skip"),
    ]
    inits = [tensor("W", rng.normal(size=(3, 3))), tensor("b", rng.normal(size=3))]
    with pytest.raises(TypeError, match="'skip'.*single chain"):
        from_onnx(make_model(nodes, inits, 3))
    model = make_model(nodes[:2], inits, 3, out="a")
    model.graph.input.append(helper.make_tensor_value_info("x2", FLOAT, ["n", 3]))
    with pytest.raises(TypeError, match="2 data inputs"):
        from_onnx(model)


def test_sigmoid_inside_network_and_logsoftmax_rejected(rng):
    model = mlp_graph(rng, (3, 4, 2), link="LogSoftmax")
    with pytest.raises(TypeError, match="LogSoftmax"):
        from_onnx(model)
    model = mlp_graph(rng, (3, 4, 2))
    model.graph.node[1].op_type = "Sigmoid"
    with pytest.raises(TypeError, match="Sigmoid"):
        from_onnx(model)


def test_reshape_that_mixes_rows_rejected(rng):
    nodes = [helper.make_node("Reshape", ["x", "shape"], ["r"], name="rs"),
             helper.make_node("Gemm", ["r", "W", "b"], ["y"])]
    inits = [numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape"),
             tensor("W", rng.normal(size=(4, 2))), tensor("b", rng.normal(size=2))]
    with pytest.raises(TypeError, match="'rs'.*one row per sample"):
        from_onnx(make_model(nodes, inits, 4))


# ---------------------------------------------------------------------- damaged and hostile
def test_truncated_and_garbage_bytes(rng):
    data = mlp_graph(rng, (3, 4, 1)).SerializeToString()
    for cut in (1, 7, len(data) // 2, len(data) - 3):
        with pytest.raises(ValueError):
            from_onnx(data[:cut])
    with pytest.raises(ValueError, match="could not be parsed|no graph|no opset"):
        from_onnx(b"\xff" * 64)


def test_cycle_missing_input_and_duplicate_value(rng):
    model = mlp_graph(rng, (3, 4, 1))
    model.graph.node[0].input[0] = "a0"  # gemm0 <- relu0 <- gemm0
    with pytest.raises(ValueError, match="cycle"):
        from_onnx(model)
    model = mlp_graph(rng, (3, 4, 1))
    model.graph.node[1].input[0] = "ghost"
    with pytest.raises(ValueError, match="ghost.*missing input"):
        from_onnx(model)
    model = mlp_graph(rng, (3, 4, 1))
    model.graph.node[1].output[0] = "z0"
    with pytest.raises(ValueError, match="produced twice"):
        from_onnx(model)


def test_wrong_shapes_between_initializers(rng):
    model = mlp_graph(rng, (3, 4, 2))
    model.graph.initializer[2].CopyFrom(tensor("W1", rng.normal(size=(2, 5))))
    with pytest.raises(ValueError, match="expects 5 inputs"):
        from_onnx(model)
    model = mlp_graph(rng, (3, 4, 2))
    model.graph.initializer[1].CopyFrom(tensor("b0", rng.normal(size=3)))
    with pytest.raises(ValueError, match="3 values for 4"):
        from_onnx(model)


def test_claimed_10gb_tensor_is_refused_without_allocating(rng):
    model = mlp_graph(rng, (3, 4, 1))
    huge = TensorProto(name="W0", data_type=FLOAT, dims=[50_000, 50_000], raw_data=b"\0" * 16)
    model.graph.initializer[0].CopyFrom(huge)
    data = model.SerializeToString()
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="declares 2500000000 elements"):
            from_onnx(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    # a small claim that does not match the stored bytes is refused too
    model.graph.initializer[0].CopyFrom(
        TensorProto(name="W0", data_type=FLOAT, dims=[4, 3], raw_data=b"\0" * 16))
    with pytest.raises(ValueError, match="stores 16 bytes"):
        from_onnx(model)
    model.graph.initializer[0].CopyFrom(
        TensorProto(name="W0", data_type=FLOAT, dims=[4, 3], float_data=[1.0] * 5))
    with pytest.raises(ValueError, match="stores 5"):
        from_onnx(model)


def test_folding_cannot_blow_up_memory(rng):
    """Two thin matrices whose product would be huge are refused before multiplying."""
    n = 20_000
    nodes = [helper.make_node("MatMul", ["x", "A"], ["h"]),
             helper.make_node("MatMul", ["h", "B"], ["y"])]
    inits = [tensor("A", np.ones((n, 1))), tensor("B", np.ones((1, n)))]
    with pytest.raises(ValueError, match="would build a 20000 x 20000 matrix"):
        from_onnx(make_model(nodes, inits, n))


def test_old_opset_external_data_and_nan_weights(rng):
    with pytest.raises(ValueError, match="opset 8"):
        from_onnx(mlp_graph(rng, (3, 4, 1), opset=8))
    model = mlp_graph(rng, (3, 4, 1))
    t = model.graph.initializer[0]
    t.data_location = TensorProto.EXTERNAL
    with pytest.raises(ValueError, match="external data"):
        from_onnx(model)
    model = mlp_graph(rng, (3, 4, 1))
    model.graph.initializer[1].CopyFrom(tensor("b0", [np.nan, 0, 0, 0]))
    with pytest.raises(ValueError, match="non-finite|NaN"):
        from_onnx(model)


# ---------------------------------------------------------------------- verification on probe rows
def test_gemm_alpha_beta_trans_b_matches_onnxruntime(rng):
    W0, b0 = rng.normal(size=(5, 3)), rng.normal(size=5)
    W1, b1 = rng.normal(size=(1, 5)), rng.normal(size=1)
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["h"], alpha=0.5, beta=2.0, transB=1),
             helper.make_node("Relu", ["h"], ["a"]),
             helper.make_node("Gemm", ["a", "W1", "b1"], ["y"], alpha=-1.5, beta=0.25)]
    model = make_model(nodes, [tensor("W0", W0), tensor("b0", b0), tensor("W1", W1.T),
                               tensor("b1", b1)], 3)
    data = model.SerializeToString()
    net = from_onnx(data)
    X = rng.normal(size=(50, 3))
    np.testing.assert_allclose(net.forward(X), ort_run(data, X), rtol=1e-4, atol=1e-5)


def test_probe_check_catches_a_misread_gemm(rng, monkeypatch):
    """An importer that forgets Gemm's alpha is caught by running the graph itself."""
    import glassnet.io._onnx as imp

    real_attr = imp._Importer._attr

    def forgetful(self, k, name, default):
        return default if name == "alpha" else real_attr(self, k, name, default)

    monkeypatch.setattr(imp._Importer, "_attr", forgetful)
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["y"], alpha=3.0, transB=1)]
    model = make_model(nodes, [tensor("W0", rng.normal(size=(2, 3))),
                               tensor("b0", rng.normal(size=2))], 3)
    with pytest.raises(glassnet_io.ImportMismatchError, match="does not reproduce the original"):
        from_onnx(model.SerializeToString())


def test_dropout_in_training_mode_is_refused(rng):
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["h"], transB=1),
             helper.make_node("Dropout", ["h", "ratio", "train"], ["d"]),
             helper.make_node("Relu", ["d"], ["a"]),
             helper.make_node("Gemm", ["a", "W1", "b1"], ["y"], transB=1)]
    inits = [tensor("W0", rng.normal(size=(4, 3))), tensor("b0", np.zeros(4)),
             tensor("ratio", np.array(0.5)), tensor("W1", rng.normal(size=(1, 4))),
             tensor("b1", np.zeros(1))]
    train = numpy_helper.from_array(np.array(True), "train")
    with pytest.raises(TypeError, match="training mode"):
        from_onnx(make_model(nodes, [*inits, train], 3).SerializeToString())
    # the same graph in inference mode imports, and matches onnxruntime
    evalm = numpy_helper.from_array(np.array(False), "train")
    data = make_model(nodes, [*inits, evalm], 3).SerializeToString()
    X = rng.normal(size=(20, 3))
    np.testing.assert_allclose(from_onnx(data).forward(X), ort_run(data, X), rtol=1e-4, atol=1e-5)


def test_probe_check_without_onnxruntime_uses_the_reference_evaluator(rng, monkeypatch):
    import sys

    import glassnet.io._onnx as imp

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["y"], alpha=3.0, transB=1)]
    model = make_model(nodes, [tensor("W0", rng.normal(size=(2, 3))),
                               tensor("b0", rng.normal(size=2))], 3)
    net = from_onnx(model.SerializeToString())  # verified by onnx.reference
    real_attr = imp._Importer._attr
    monkeypatch.setattr(imp._Importer, "_attr", lambda self, k, name, default: (
        default if name == "alpha" else real_attr(self, k, name, default)))
    with pytest.raises(glassnet_io.ImportMismatchError):
        from_onnx(model.SerializeToString())
    assert net.n_features == 3
