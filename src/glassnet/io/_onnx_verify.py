"""Run an imported ONNX graph itself on probe rows and compare (the importer's last check).

Only the part of the graph the importer read is run: the nodes the chosen output depends
on, with only the initializers they use (so a tensor the importer never size-checked is
never materialised). The runtime is onnxruntime when it is installed and can run the graph
(it lacks some float16 kernels), else onnx's own pure-numpy
``onnx.reference.ReferenceEvaluator``, which ships with ``onnx``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet.io._verify import RTOL_FLOAT32, check_agreement, probe_rows
from glassnet.network import ReluNetwork

_RTOL_FLOAT16 = 1e-2


def verify_onnx(net: ReluNetwork, proto: Any, imp: Any, link_in_graph: str) -> None:
    """Compare ``net`` with the graph's own output (value ``imp.target``) on probe rows.

    ``link_in_graph`` is the link the graph applies itself (the comparison is made after
    that link, whatever ``output=`` the caller chose for the network).
    """
    import onnx
    from onnx import TensorProto as T

    sub = _subgraph(proto, imp)
    elem = imp.input.type.tensor_type.elem_type
    dtype = {T.DOUBLE: np.float64, T.FLOAT16: np.float16}.get(elem, np.float32)
    rtol = {np.float64: None, np.float16: _RTOL_FLOAT16}.get(dtype, RTOL_FLOAT32)
    X = probe_rows(net.n_features)
    shape = _feed_shape(imp, net.n_features)
    rows = X.reshape((X.shape[0], *shape)).astype(dtype)
    batch = _fixed_batch(imp)
    ref_net = net if net.output == link_in_graph else net.with_layers(
        net.weights, net.biases, output=link_in_graph)

    def run(sess: Any) -> np.ndarray:
        # a graph exported with a fixed batch size is fed padded batches of that size
        step = batch or rows.shape[0]
        outs = []
        for s in range(0, rows.shape[0], step):
            part = rows[s : s + step]
            n = part.shape[0]
            if n < step:
                part = np.concatenate([part, np.zeros((step - n, *part.shape[1:]), dtype)])
            out = np.asarray(sess.run(None, {imp.input.name: part})[0], dtype=np.float64)
            outs.append(out.reshape(out.shape[0], -1)[:n])
        return np.concatenate(outs)

    def reference() -> np.ndarray:
        blob = sub.SerializeToString()
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                return run(_ort_session(blob))
            except Exception:  # noqa: BLE001 - no onnxruntime, or no kernel for a dtype
                from onnx.reference import ReferenceEvaluator

                return run(ReferenceEvaluator(onnx.load_model_from_string(blob)))

    check_agreement(ref_net, X, reference, model="ONNX graph", float32=dtype != np.float64,
                    rtol=rtol)


def _ort_session(blob: bytes) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4
    return ort.InferenceSession(blob, opts, providers=["CPUExecutionProvider"])


def _fixed_batch(imp: Any) -> int | None:
    t = imp.input.type
    if t.WhichOneof("value") != "tensor_type" or not t.tensor_type.HasField("shape"):
        return None
    dims = t.tensor_type.shape.dim
    if not len(dims) or not dims[0].HasField("dim_value") or dims[0].dim_value <= 0:
        return None
    return int(dims[0].dim_value)


def _feed_shape(imp: Any, d: int) -> tuple[int, ...]:
    from glassnet.io._onnx_fold import _input_shape, _prod

    shape = _input_shape(imp.input)
    if shape is not None and _prod(shape) == d:
        return tuple(int(s) for s in shape)
    return (d,)


def _subgraph(proto: Any, imp: Any) -> Any:
    """A copy of the model holding only what ``imp.target`` depends on."""
    import onnx

    needed: set[int] = set()
    stack = [imp.target]
    while stack:
        value = stack.pop()
        if value not in imp.producer:
            continue
        k = imp.producer[value][0]
        if k in needed:
            continue
        needed.add(k)
        stack.extend(v for v in imp.nodes[k].input if v)
    used = {v for k in needed for v in imp.nodes[k].input if v}
    sub = onnx.ModelProto()
    sub.ir_version = proto.ir_version
    sub.opset_import.extend(proto.opset_import)
    g = sub.graph
    g.name = proto.graph.name or "glassnet_verify"
    g.node.extend(imp.nodes[k] for k in imp._topological_order() if k in needed)
    g.initializer.extend(t for t in proto.graph.initializer if t.name in used)
    g.input.append(imp.input)
    out = onnx.ValueInfoProto()
    out.name = imp.target
    g.output.append(out)
    return sub
