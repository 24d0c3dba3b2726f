"""Import ONNX ReLU networks, defensively.

An ONNX file often arrives from another team, so it is treated as untrusted input:

* the bytes are parsed inside ``try``; anything the protobuf parser rejects is a ``ValueError``;
* every tensor's declared size (product of its dims times the item size) is checked against
  the bytes actually stored *before* it is turned into an array, and against a cap, so a file
  claiming a 10 GB tensor costs nothing;
* nodes are ordered topologically here (Kahn's algorithm), so a cycle, a missing input or a
  value produced twice is reported instead of looping or guessing;
* the supported function must be one chain from the single input to the chosen output;
  every matrix built while folding the chain is size-checked before it is allocated.

Damaged or hostile files raise ``ValueError``; well-formed graphs using an operator that is
not a piece of a ReLU network raise ``TypeError`` naming the operator and the node.

This module reads and checks the graph and finds the chain; :mod:`glassnet.io._onnx_ops`
translates the chain's operators, :mod:`glassnet.io._onnx_fold` folds them into dense layers,
:mod:`glassnet.io._onnx_load` parses bytes and tensors, :mod:`glassnet.io._onnx_verify` runs
the original graph on probe rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.io._compose import Affine, network_from_ops
from glassnet.io._onnx_load import _load
from glassnet.io._onnx_ops import OpTranslator
from glassnet.network import LINKS, ReluNetwork

_MAX_NODES = 100_000
_MIN_OPSET = 9

_PASS_THROUGH = {"Identity", "Dropout"}


def from_onnx(
    model: Any,
    *,
    output: str | None = None,
    output_name: str | None = None,
    feature_names: Sequence[str] | None = None,
) -> ReluNetwork:
    """Import an ONNX ReLU network as an exact :class:`~glassnet.ReluNetwork`.

    Supported operators (default domain, opset 9 and later): ``Gemm``, ``MatMul`` followed by
    ``Add``, ``Add``/``Sub``/``Mul``/``Div`` by a constant, ``Relu``, ``Identity``,
    ``Dropout`` (inference: a no-op), ``Flatten`` and ``Reshape`` to ``(rows, features)``,
    ``Cast`` to a float type, ``BatchNormalization`` (inference mode, folded into the
    adjacent dense layer) and, from ``ai.onnx.ml``, ``Scaler``. A ``Sigmoid`` or ``Softmax``
    at the end becomes the output link, and so does the binary-classifier tail
    ``Concat(1 - sigmoid(z), sigmoid(z))`` that skl2onnx writes (imported, like
    :func:`~glassnet.io.from_sklearn`, as one sigmoid output: the probability of the second
    class). A final ``ZipMap`` is read as the probability tensor it wraps. Constants may be
    initializers or ``Constant`` nodes (also behind ``Identity``/``Cast``).

    The network is read in float64 from the stored weights, so it reproduces a float32
    ONNX model up to float32 rounding.

    Parameters
    ----------
    model : str, os.PathLike, bytes, file-like or onnx.ModelProto
        A path to a ``.onnx`` file, its bytes, an open binary file, or a loaded model.
        Tensors stored in external data files are refused (re-save the model with all
        tensors embedded).
    output : {"identity", "sigmoid", "softmax"}, optional
        Override the link read from the graph.
    output_name : str, optional
        The graph value to import, for graphs with several floating-point outputs (for
        example ``"probabilities"``); by default the single float output is used, integer
        label outputs being ignored.
    feature_names : sequence of str, optional

    Returns
    -------
    ReluNetwork

    Raises
    ------
    ValueError
        For bytes that are not a readable ONNX model, or a damaged or hostile graph: a cycle,
        a missing or twice-produced value, tensors whose declared size does not match their
        data or exceeds 2**26 elements, shapes that do not chain, an opset below 9.
    TypeError
        For an unsupported argument type or operator (the message names the operator and
        the node), several data inputs, or a graph that is not a single chain.

    Examples
    --------
    >>> import numpy as np
    >>> from onnx import TensorProto, helper, numpy_helper
    >>> from glassnet import ReluNetwork
    >>> W0, W1 = np.ones((3, 4), np.float32), np.ones((4, 1), np.float32)
    >>> graph = helper.make_graph(
    ...     [helper.make_node("MatMul", ["x", "W0"], ["h"]), helper.make_node("Relu", ["h"], ["a"]),
    ...      helper.make_node("MatMul", ["a", "W1"], ["y"])],
    ...     "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
    ...     [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1])],
    ...     [numpy_helper.from_array(W0, "W0"), numpy_helper.from_array(W1, "W1")])
    >>> model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    >>> ReluNetwork.from_onnx(model.SerializeToString())
    ReluNetwork(3 -> 4 -> 1, output='identity')
    """
    if output is not None and output not in LINKS:
        raise ValueError(f"output must be one of {LINKS}; got {output!r}.")
    proto = _load(model)
    imp = _Importer(proto, output_name)
    ops, graph_link = imp.run()
    link = graph_link if output is None else output
    if link == "softmax" and _out_width(ops) == 1:
        raise ValueError("The graph ends in a Softmax over a single output; that is constant 1.")
    net = network_from_ops(ops, output=link, feature_names=feature_names)
    from glassnet.io._onnx_verify import verify_onnx

    verify_onnx(net, proto, imp, graph_link)
    return net


def _out_width(ops: list) -> int:
    last = [op for op in ops if isinstance(op, Affine)]
    return int(last[-1].W.shape[0]) if last else 0

# ---------------------------------------------------------------------- the importer
class _Importer(OpTranslator):
    """Reads and checks the graph, and reduces it to the one chain from input to output;
    :class:`~glassnet.io._onnx_ops.OpTranslator` turns that chain's operators into layers."""

    def __init__(self, proto: Any, output_name: str | None) -> None:
        self.proto = proto
        self.output_name = output_name
        self.const_cache: dict[str, np.ndarray] = {}

    # ---------------------------------------------------------------- graph checks
    def run(self) -> tuple[list, str]:
        import onnx.defs

        proto = self.proto
        if not proto.HasField("graph"):
            raise ValueError("The ONNX model has no graph.")
        g = proto.graph
        self.opsets: dict[str, int] = {}
        for imp in proto.opset_import:
            domain = imp.domain or "ai.onnx"
            self.opsets[domain] = int(imp.version)
        opset = self.opsets.get("ai.onnx")
        if opset is None:
            raise ValueError("The model declares no opset for the default ONNX domain.")
        newest = onnx.defs.onnx_opset_version()
        if not _MIN_OPSET <= opset <= newest:
            raise ValueError(
                f"The model uses opset {opset}; supported are opsets {_MIN_OPSET} to {newest}. "
                "Convert it with onnx.version_converter.convert_version."
            )
        self.opset = opset
        if len(g.sparse_initializer):
            raise ValueError("Sparse initializers are not supported; store the weights densely.")
        if len(g.node) > _MAX_NODES:
            raise ValueError(f"The graph has {len(g.node)} nodes, more than {_MAX_NODES}.")
        self.inits: dict[str, Any] = {}
        for t in g.initializer:
            if not t.name:
                raise ValueError("An initializer has no name.")
            if t.name in self.inits:
                raise ValueError(f"The initializer {t.name!r} is defined twice.")
            self.inits[t.name] = t
        data_inputs = [i for i in g.input if i.name not in self.inits]
        if not data_inputs:
            raise ValueError("The graph has no data input (every input is an initializer).")
        if len(data_inputs) > 1:
            raise TypeError(
                f"The graph has {len(data_inputs)} data inputs "
                f"{[i.name for i in data_inputs][:5]}; only single-input networks are supported."
            )
        self.input = data_inputs[0]
        if not self.input.name:
            raise ValueError("The graph input has no name.")
        self.nodes = list(g.node)
        self.producer: dict[str, tuple[int, int]] = {}
        known = set(self.inits) | {self.input.name}
        for k, node in enumerate(self.nodes):
            for pos, name in enumerate(node.output):
                if not name:
                    continue
                if name in known or name in self.producer:
                    raise ValueError(f"The value {name!r} is produced twice ({self._where(k)}).")
                self.producer[name] = (k, pos)
        for k, node in enumerate(self.nodes):
            for name in node.input:
                if name and name not in known and name not in self.producer:
                    raise ValueError(
                        f"{self._where(k)} reads {name!r}, which no node produces and which is "
                        "neither an initializer nor a graph input (missing input)."
                    )
        order = self._topological_order()
        self.dynamic = {self.input.name}
        for k in order:
            if any(name in self.dynamic for name in self.nodes[k].input):
                self.dynamic.update(n for n in self.nodes[k].output if n)
        target = self._choose_output()
        self.target = target
        chain, link = self._walk_back(target)
        return self._to_ops(chain), link

    def _where(self, k: int) -> str:
        node = self.nodes[k]
        name = node.name or f"#{k}"
        return f"node {name!r} ({node.op_type})"

    def _topological_order(self) -> list[int]:
        n = len(self.nodes)
        indegree = np.zeros(n, dtype=np.int64)
        users: dict[int, list[int]] = {}
        for k, node in enumerate(self.nodes):
            for name in node.input:
                if name in self.producer:
                    src = self.producer[name][0]
                    users.setdefault(src, []).append(k)
                    indegree[k] += 1
        queue = deque(int(k) for k in np.flatnonzero(indegree == 0))
        order: list[int] = []
        while queue:
            k = queue.popleft()
            order.append(k)
            for u in users.get(k, ()):
                indegree[u] -= 1
                if indegree[u] == 0:
                    queue.append(u)
        if len(order) != n:
            stuck = [self._where(int(k)) for k in np.flatnonzero(indegree > 0)[:5]]
            raise ValueError(f"The graph has a cycle through {', '.join(stuck)}.")
        return order

    def _choose_output(self) -> str:
        from onnx import TensorProto as T

        g = self.proto.graph
        if self.output_name is not None:
            name = str(self.output_name)
            if name not in self.producer:
                raise ValueError(
                    f"output_name={name!r} is not a value computed by the graph; graph outputs "
                    f"are {[o.name for o in g.output][:10]}."
                )
            if name not in self.dynamic:
                raise ValueError(f"The value {name!r} does not depend on the graph input.")
            return name
        float_types = {T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16}
        candidates: list[str] = []
        for o in g.output:
            name = o.name
            if name not in self.dynamic or name not in self.producer:
                continue
            node = self.nodes[self.producer[name][0]]
            kind = o.type.WhichOneof("value")
            if node.op_type == "ZipMap" and node.domain == "ai.onnx.ml" and node.input:
                name = node.input[0]
            elif kind == "tensor_type":
                if o.type.tensor_type.elem_type not in float_types | {T.UNDEFINED}:
                    continue  # class labels and the like
            elif kind is not None:
                continue
            if name not in candidates:
                candidates.append(name)
        if not candidates:
            raise ValueError(
                "The graph has no floating-point output computed from its input "
                f"(outputs: {[o.name for o in g.output][:10]})."
            )
        if len(candidates) > 1:
            raise ValueError(
                f"The graph has several floating-point outputs {candidates[:10]}; choose one "
                "with output_name=."
            )
        return candidates[0]

    # ---------------------------------------------------------------- chain
    def _dyn_inputs(self, k: int) -> list[int]:
        return [i for i, name in enumerate(self.nodes[k].input) if name in self.dynamic]

    def _step(self, value: str) -> int:
        """The node producing ``value``, which must be its first output."""
        k, pos = self.producer[value]
        if pos != 0:
            raise TypeError(
                f"The chain uses output #{pos} of {self._where(k)}; only the first output of an "
                "operator can feed the network."
            )
        return k

    def _single_dyn(self, k: int) -> str:
        dyn = self._dyn_inputs(k)
        if len(dyn) != 1:
            raise TypeError(
                f"{self._where(k)} combines {len(dyn)} values computed from the input; only a "
                "single chain of layers (no skip connections or branches) is supported."
            )
        return self.nodes[k].input[dyn[0]]

    def _walk_back(self, target: str) -> tuple[list[int], str]:
        """Nodes from the input to ``target`` (forward order) and the output link."""
        chain: list[int] = []
        link = "identity"
        terminal = True  # still in the tail after the last dense layer
        value = target
        guard = 0
        while value != self.input.name:
            guard += 1
            if guard > len(self.nodes) + 1:  # pragma: no cover - excluded by the topological sort
                raise ValueError("The graph could not be walked back to its input.")
            k = self._step(value)
            node = self.nodes[k]
            op = node.op_type
            if op == "ZipMap" and node.domain == "ai.onnx.ml" and terminal and link == "identity":
                value = self._single_dyn(k)
                continue
            self._check_domain(k)
            if op in _PASS_THROUGH or (op == "Cast" and self._cast_is_float(k)):
                if op == "Dropout":
                    self._check_dropout(k)
                value = self._single_dyn(k)
                continue
            if terminal and link == "identity" and op in ("Sigmoid", "Softmax"):
                if op == "Softmax":
                    self._check_softmax_axis(k)
                link = "sigmoid" if op == "Sigmoid" else "softmax"
                value = self._single_dyn(k)
                continue
            if terminal and link == "identity" and op == "Concat":
                value = self._binary_tail(k)
                link = "sigmoid"
                continue
            terminal = False
            chain.append(k)
            value = self._single_dyn(k)
        chain.reverse()
        return chain, link

    def _check_dropout(self, k: int) -> None:
        """Dropout is a no-op only in inference mode (``training_mode`` absent or false)."""
        node = self.nodes[k]
        if len(node.input) >= 3 and node.input[2]:
            flag = node.input[2]
            if flag in self.dynamic:
                raise TypeError(f"{self._where(k)} takes its training_mode from the input.")
            if bool(np.any(self._const(flag, k))):
                raise TypeError(
                    f"{self._where(k)} runs in training mode (random); export the model in "
                    "eval mode."
                )

    def _check_domain(self, k: int) -> None:
        node = self.nodes[k]
        domain = node.domain or "ai.onnx"
        if domain not in ("ai.onnx", "ai.onnx.ml"):
            raise TypeError(f"{self._where(k)} belongs to the custom domain {node.domain!r}.")
        if domain not in self.opsets:
            raise ValueError(
                f"{self._where(k)} uses domain {domain!r}, which the model never imports."
            )

    def _cast_is_float(self, k: int) -> bool:
        from onnx import TensorProto as T

        to = self._attr(k, "to", None)
        if to in (T.FLOAT, T.DOUBLE, T.FLOAT16, T.BFLOAT16):
            return True
        raise TypeError(f"{self._where(k)} casts the data to the non-float type {to}.")

    def _check_softmax_axis(self, k: int) -> None:
        axis = self._attr(k, "axis", 1 if self.opset < 13 else -1)
        if axis not in (1, -1):
            raise TypeError(f"{self._where(k)} applies softmax over axis {axis}, not the outputs.")

    def _binary_tail(self, k: int) -> str:
        """``Concat(1 - s, s)`` with ``s = Sigmoid(z)``: return ``z``."""
        node = self.nodes[k]
        unsupported = TypeError(
            f"{self._where(k)} is not supported; the only Concat allowed is the binary "
            "classifier output Concat(1 - sigmoid(z), sigmoid(z))."
        )
        if len(node.input) != 2 or self._attr(k, "axis", None) not in (1, -1):
            raise unsupported
        neg, pos = node.input
        if pos not in self.producer or neg not in self.producer:
            raise unsupported
        ks = self._step(pos)
        ksub = self._step(neg)
        sub = self.nodes[ksub]
        if (
            self.nodes[ks].op_type != "Sigmoid"
            or sub.op_type != "Sub"
            or len(sub.input) != 2
            or sub.input[1] != pos
            or sub.input[0] in self.dynamic
        ):
            raise unsupported
        one = self._const(sub.input[0], ksub)
        if one.size != 1 or float(one.reshape(-1)[0]) != 1.0:
            raise unsupported
        return self._single_dyn(ks)
