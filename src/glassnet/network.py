"""The canonical network object: a stack of dense layers with ReLU between them.

A :class:`ReluNetwork` with hidden layers ``l = 1..L`` computes::

    z(1) = W[0] x + b[0],        x(l) = max(0, z(l)),
    z(l+1) = W[l] x(l) + b[l],   eta = W[L] x(L) + b[L],

and returns ``eta`` from :meth:`ReluNetwork.forward` and ``link(eta)`` from
:meth:`ReluNetwork.predict_output`. All arithmetic is float64.

Activation patterns
-------------------
A hidden neuron is **on** when its pre-activation is strictly positive and **off**
otherwise; a pre-activation exactly equal to 0 counts as off. Because ``max(0, 0) = 0``
the rule never changes the network's output, only which side of a boundary a point on
that boundary is filed under. Neurons are ordered layer by layer (first hidden layer
first), in the order of the rows of each weight matrix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.special import expit
from scipy.special import softmax as _softmax

from glassnet._validation import check_chunk_size, check_X

LINKS = ("identity", "sigmoid", "softmax")

# Rows per chunk are chosen so one float64 activation buffer stays near this many bytes.
_CHUNK_BYTES = 32 * 2**20


class ReluNetwork:
    """An immutable feed-forward ReLU network in float64.

    Parameters
    ----------
    weights : sequence of array-like
        ``weights[i]`` has shape ``(n_out, n_in)``. The last matrix is the output layer;
        every earlier one feeds a hidden layer followed by ReLU. At least one matrix.
    biases : sequence of array-like
        ``biases[i]`` has shape ``(n_out,)``, one per weight matrix.
    output : {"identity", "sigmoid", "softmax"}
        The link applied by :meth:`predict_output` to the raw output. ``"sigmoid"`` acts on
        every output independently (binary or multi-label classification); ``"softmax"``
        needs at least two outputs.
    feature_names : sequence of str, optional
        Names of the input features. DataFrames passed later are matched to them by name.
    feature_groups : mapping of str to sequence of str, optional
        Groups of inputs that encode one original column, for example the one-hot columns
        of a categorical variable: ``{"education": ("education_1", "education_2")}``.
        Members are names from ``feature_names`` (required when groups are given); every
        input belongs to at most one group, and a group name may not be the name of an
        input outside that group. Inputs not named in any group form a group of their
        own, named after the input (see :meth:`groups_index`). Stored as a read-only
        mapping ``{group: tuple of input names}`` in the order given.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> net.forward(np.array([[1.0, -2.0]]))
    array([[1.]])
    >>> net.activation_patterns(np.array([[1.0, -2.0]]))
    array([[ True, False]])
    """

    __slots__ = ("_W", "_Wt", "_b", "_output", "_feature_names", "_feature_groups")

    def __init__(
        self,
        weights: Sequence[Any],
        biases: Sequence[Any],
        output: str = "identity",
        feature_names: Sequence[str] | None = None,
        feature_groups: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if isinstance(weights, np.ndarray) or isinstance(biases, np.ndarray):
            raise TypeError(
                "weights and biases must be sequences (lists) of arrays, one per layer."
            )
        weights = list(weights)
        biases = list(biases)
        if len(weights) == 0:
            raise ValueError("A network needs at least one layer (the output layer).")
        if len(weights) != len(biases):
            raise ValueError(
                f"Got {len(weights)} weight matrices but {len(biases)} bias vectors; "
                "pass one bias vector per layer."
            )
        Ws: list[np.ndarray] = []
        bs: list[np.ndarray] = []
        for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
            W = _as_float_array(W, f"weights[{i}]")
            b = _as_float_array(b, f"biases[{i}]")
            if W.ndim != 2:
                raise ValueError(f"weights[{i}] must be 2-D (n_out, n_in); got shape {W.shape}.")
            if W.shape[0] == 0 or W.shape[1] == 0:
                raise ValueError(f"weights[{i}] has an empty dimension: shape {W.shape}.")
            if b.ndim != 1 or b.shape[0] != W.shape[0]:
                raise ValueError(
                    f"biases[{i}] must have shape ({W.shape[0]},) to match weights[{i}] "
                    f"of shape {W.shape}; got {b.shape}."
                )
            if i > 0 and W.shape[1] != Ws[-1].shape[0]:
                raise ValueError(
                    f"weights[{i}] has {W.shape[1]} inputs but weights[{i - 1}] has "
                    f"{Ws[-1].shape[0]} outputs (shapes {Ws[-1].shape} -> {W.shape}); "
                    "weights[i] must have shape (n_out, n_in)."
                )
            if not (np.isfinite(W).all() and np.isfinite(b).all()):
                raise ValueError(f"Layer {i} has NaN or infinite weights or biases.")
            Ws.append(_frozen(W))
            bs.append(_frozen(b))
        if output not in LINKS:
            raise ValueError(f"output must be one of {LINKS}; got {output!r}.")
        if output == "softmax" and Ws[-1].shape[0] < 2:
            raise ValueError("A softmax output needs at least 2 outputs; use 'sigmoid' for one.")
        if feature_names is not None:
            feature_names = tuple(str(f) for f in feature_names)
            if len(feature_names) != Ws[0].shape[1]:
                raise ValueError(
                    f"Got {len(feature_names)} feature names for {Ws[0].shape[1]} input features."
                )
            if len(set(feature_names)) != len(feature_names):
                raise ValueError("feature_names must be unique.")
        self._W = tuple(Ws)
        self._Wt = tuple(_frozen(np.ascontiguousarray(W.T)) for W in Ws)
        self._b = tuple(bs)
        self._output = output
        self._feature_names = feature_names
        self._feature_groups = _check_groups(feature_groups, feature_names)

    # ------------------------------------------------------------------ structure
    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """Weight matrices, each ``(n_out, n_in)``, read-only."""
        return self._W

    @property
    def biases(self) -> tuple[np.ndarray, ...]:
        """Bias vectors, read-only."""
        return self._b

    @property
    def output(self) -> str:
        """The output link: ``"identity"``, ``"sigmoid"`` or ``"softmax"``."""
        return self._output

    @property
    def task(self) -> str:
        """``"regression"`` for an identity output link, else ``"classification"``.

        The one place the task is read from the output link: sigmoid and softmax outputs
        are probabilities of classes, an identity output is a value.
        """
        return "regression" if self._output == "identity" else "classification"

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        return self._feature_names

    @property
    def feature_groups(self) -> Mapping[str, tuple[str, ...]] | None:
        """Read-only mapping original column -> names of the inputs encoding it, or None.

        Only the groups given at construction are listed; :meth:`groups_index` also
        covers the inputs outside every group.
        """
        return self._feature_groups

    def groups_index(self) -> dict[str, np.ndarray]:
        """Input indices of every group, covering each input exactly once.

        Returns
        -------
        dict of str to ndarray of int
            The declared :attr:`feature_groups` (indices into the inputs, in the order the
            members were given) plus one singleton group per input outside them, named
            after that input (``"x{i}"`` when the network has no feature names). Groups
            are ordered by their first input.
        """
        names = self._feature_names or tuple(f"x{i}" for i in range(self.n_features))
        pos = {n: i for i, n in enumerate(names)}
        owner: dict[int, str] = {}
        for g, members in (self._feature_groups or {}).items():
            for m in members:
                owner[pos[m]] = g
        out: dict[str, np.ndarray] = {}
        for i, n in enumerate(names):
            g = owner.get(i)
            if g is None:
                out[n] = np.array([i], dtype=np.intp)
            elif g not in out:
                out[g] = np.array([pos[m] for m in self._feature_groups[g]], dtype=np.intp)
        return out

    @property
    def n_features(self) -> int:
        return int(self._W[0].shape[1])

    @property
    def n_outputs(self) -> int:
        return int(self._W[-1].shape[0])

    @property
    def hidden_sizes(self) -> tuple[int, ...]:
        """Widths of the hidden layers (empty for a purely linear network)."""
        return tuple(int(W.shape[0]) for W in self._W[:-1])

    @property
    def n_hidden(self) -> int:
        """Total number of hidden neurons, the length ``H`` of an activation pattern."""
        return int(sum(self.hidden_sizes))

    @property
    def layer_offsets(self) -> tuple[int, ...]:
        """Start of each hidden layer's block in an activation pattern, plus the end ``H``."""
        return tuple(int(v) for v in np.concatenate([[0], np.cumsum(self.hidden_sizes)]))

    def default_chunk_size(self) -> int:
        """Rows per chunk keeping one float64 activation buffer near 32 MB."""
        width = max([self.n_features, self.n_outputs, *self.hidden_sizes])
        return max(1024, _CHUNK_BYTES // (8 * width))

    # ------------------------------------------------------------------ evaluation
    def check_input(self, X: Any, name: str = "X", allow_empty: bool = False) -> np.ndarray:
        """Validate ``X`` against this network (shape, finiteness, feature names)."""
        return check_X(
            X,
            n_features=self.n_features,
            feature_names=self._feature_names,
            name=name,
            allow_empty=allow_empty,
        )

    def forward(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """Raw network output ``eta`` (before the link), shape ``(n, n_outputs)``, float64."""
        X = self.check_input(X)
        step = check_chunk_size(chunk_size, self.default_chunk_size())
        out = np.empty((X.shape[0], self.n_outputs))
        for s in range(0, X.shape[0], step):
            out[s : s + step] = self._forward_chunk(X[s : s + step])
        return out

    def predict_output(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """Network output after the link (probabilities for sigmoid/softmax)."""
        return self.apply_link(self.forward(X, chunk_size=chunk_size))

    def apply_link(self, eta: np.ndarray) -> np.ndarray:
        """Apply this network's output link to raw outputs of shape ``(n, n_outputs)``."""
        eta = np.asarray(eta, dtype=np.float64)
        if self._output == "sigmoid":
            return expit(eta)
        if self._output == "softmax":
            return _softmax(eta, axis=-1)
        return eta.copy()

    def activation_patterns(self, X: Any, *, chunk_size: int | None = None) -> np.ndarray:
        """On/off state of every hidden neuron, shape ``(n, H)`` bool.

        A neuron is on when its pre-activation is strictly positive; exactly 0 is off.
        """
        X = self.check_input(X)
        step = check_chunk_size(chunk_size, self.default_chunk_size())
        pat = np.empty((X.shape[0], self.n_hidden), dtype=bool)
        for s in range(0, X.shape[0], step):
            self._forward_chunk(X[s : s + step], pat[s : s + step])
        return pat

    def pre_activations(self, X: Any) -> list[np.ndarray]:
        """Pre-activations ``z(l)`` of every hidden layer, each ``(n, h_l)``."""
        return self._layer_values(self.check_input(X), post=False)

    def hidden_outputs(self, X: Any) -> list[np.ndarray]:
        """Post-activation outputs ``x(l) = max(0, z(l))`` of every hidden layer."""
        return self._layer_values(self.check_input(X), post=True)

    def _layer_values(self, X: np.ndarray, post: bool) -> list[np.ndarray]:
        values = []
        a = X
        for Wt, b in zip(self._Wt[:-1], self._b[:-1], strict=True):
            z = a @ Wt
            z += b
            a = np.maximum(z, 0.0)
            values.append(a if post else z)
        return values

    def _forward_chunk(self, X: np.ndarray, patterns_out: np.ndarray | None = None) -> np.ndarray:
        """Forward pass of validated rows; optionally writes the patterns into ``patterns_out``."""
        a = X
        off = 0
        for Wt, b in zip(self._Wt[:-1], self._b[:-1], strict=True):
            z = a @ Wt
            z += b
            h = z.shape[1]
            if patterns_out is not None:
                np.greater(z, 0.0, out=patterns_out[:, off : off + h])
            np.maximum(z, 0.0, out=z)
            a = z
            off += h
        out = a @ self._Wt[-1]
        out += self._b[-1]
        return out

    # ------------------------------------------------------------------ local linear models
    def local_linear_models(self, patterns: Any) -> tuple[np.ndarray, np.ndarray]:
        """Exact local linear model of each activation pattern.

        Parameters
        ----------
        patterns : array-like of bool, shape (R, H)
            Activation patterns (see the module docstring for the neuron order).

        Returns
        -------
        coef : ndarray of shape (R, n_outputs, n_features)
        intercept : ndarray of shape (R, n_outputs)
            Inside the region of pattern ``r``, ``forward(x) = coef[r] @ x + intercept[r]``.
        """
        P = np.asarray(patterns)
        if P.ndim == 1:
            P = P[None, :]
        if P.ndim != 2 or P.shape[1] != self.n_hidden:
            raise ValueError(
                f"patterns must have shape (R, {self.n_hidden}); got {np.shape(patterns)}."
            )
        if P.dtype != bool:
            if not np.isin(P, (0, 1)).all():
                raise ValueError("patterns must hold only 0/1 or booleans.")
            P = P.astype(bool)
        return self.local_linear_models_packed(np.packbits(P, axis=1))

    def local_linear_models_packed(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`local_linear_models`, from patterns packed with ``np.packbits(axis=1)``.

        Computed by accumulating the chain ``W[L] D(L) W[L-1] ... D(1) W[0]`` from the
        output backwards, batched over patterns: one matrix product per layer for a whole
        chunk of patterns, about the cost of one forward pass per output and pattern.
        """
        R = packed.shape[0]
        k, d = self.n_outputs, self.n_features
        coef = np.empty((R, k, d))
        intercept = np.empty((R, k))
        width = max([d, *self.hidden_sizes, 1])
        step = max(256, _CHUNK_BYTES // (8 * k * width))
        for s in range(0, R, step):
            # products of finite weights may overflow; callers that need finite models
            # (the certificate) check and name the region instead of a RuntimeWarning
            with np.errstate(over="ignore", invalid="ignore"):
                c, i = self._llm_chunk(packed[s : s + step])
            coef[s : s + step] = c
            intercept[s : s + step] = i
        return coef, intercept

    def _llm_chunk(self, packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        R = packed.shape[0]
        k, d = self.n_outputs, self.n_features
        L = len(self.hidden_sizes)
        if L == 0:
            return (
                np.broadcast_to(self._W[0], (R, k, d)).copy(),
                np.broadcast_to(self._b[0], (R, k)).copy(),
            )
        masks = np.unpackbits(packed, axis=1, count=self.n_hidden)
        offs = self.layer_offsets
        # u holds W[L] D(L) ... W[l] D(l) for all patterns, as rows (pattern, output).
        h = self.hidden_sizes[-1]
        u = np.empty((R, k, h))
        u[...] = self._W[L][None, :, :]
        u *= masks[:, None, offs[L - 1] : offs[L]]
        u = u.reshape(R * k, h)
        intercept = u @ self._b[L - 1]
        for layer in range(L - 1, 0, -1):
            u = u @ self._W[layer]
            u3 = u.reshape(R, k, -1)
            u3 *= masks[:, None, offs[layer - 1] : offs[layer]]
            intercept += u @ self._b[layer - 1]
        coef = (u @ self._W[0]).reshape(R, k, d)
        intercept = intercept.reshape(R, k) + self._b[L]
        return coef, intercept

    def neuron_affine_maps(self, pattern: Any) -> tuple[np.ndarray, np.ndarray]:
        """Pre-activation of every hidden neuron as an affine function of the input.

        Inside the region of ``pattern`` (shape ``(H,)`` bool), neuron ``i``'s pre-activation
        is ``A[i] @ x + c[i]``. Returns ``A`` of shape ``(H, n_features)`` and ``c`` of shape
        ``(H,)``. The region is ``{x : A[i] x + c[i] > 0 if on, <= 0 if off}``.
        """
        P = np.asarray(pattern)
        if P.shape != (self.n_hidden,):
            raise ValueError(f"pattern must have shape ({self.n_hidden},); got {P.shape}.")
        P = P.astype(bool)
        A = np.empty((self.n_hidden, self.n_features))
        c = np.empty(self.n_hidden)
        M, v = self._W[0], self._b[0]
        offs = self.layer_offsets
        for layer, _h in enumerate(self.hidden_sizes):
            A[offs[layer] : offs[layer + 1]] = M
            c[offs[layer] : offs[layer + 1]] = v
            on = P[offs[layer] : offs[layer + 1]].astype(np.float64)
            W = self._W[layer + 1]
            M = W @ (M * on[:, None])
            v = W @ (v * on) + self._b[layer + 1]
        return A, c

    # ------------------------------------------------------------------ importers
    @classmethod
    def from_sklearn(cls, estimator: Any) -> ReluNetwork:
        """Import a fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` (ReLU).

        See :func:`glassnet.io.from_sklearn`.
        """
        from glassnet.io import from_sklearn

        return from_sklearn(estimator)

    @classmethod
    def from_torch(cls, module: Any, **kwargs: Any) -> ReluNetwork:
        """Import a PyTorch ``nn.Sequential``. See :func:`glassnet.io.from_torch`."""
        from glassnet.io import from_torch

        return from_torch(module, **kwargs)

    @classmethod
    def from_onnx(cls, model: Any, **kwargs: Any) -> ReluNetwork:
        """Import an ONNX ReLU network (path, bytes, file object or ``onnx.ModelProto``).

        See :func:`glassnet.io.from_onnx`.
        """
        from glassnet.io import from_onnx

        return from_onnx(model, **kwargs)

    # ------------------------------------------------------------------ python protocol
    def with_feature_names(self, feature_names: Sequence[str] | None) -> ReluNetwork:
        """A copy of this network with other feature names.

        Feature groups follow the inputs by position (a renamed one-hot column stays in its
        group); with ``feature_names=None`` the groups are dropped, since they are
        expressed in input names.
        """
        groups = None
        if self._feature_groups is not None and feature_names is not None:
            new = [str(f) for f in feature_names]
            if len(new) == self.n_features:
                pos = {n: i for i, n in enumerate(self._feature_names)}
                groups = {
                    g: tuple(new[pos[m]] for m in members)
                    for g, members in self._feature_groups.items()
                }
        return ReluNetwork(self._W, self._b, self._output, feature_names, groups)

    def with_feature_groups(
        self, feature_groups: Mapping[str, Sequence[str]] | None
    ) -> ReluNetwork:
        """A copy of this network with other feature groups (``None`` removes them)."""
        return ReluNetwork(self._W, self._b, self._output, self._feature_names, feature_groups)

    def with_layers(
        self, weights: Sequence[Any], biases: Sequence[Any], output: str | None = None
    ) -> ReluNetwork:
        """A network with other layers but this one's inputs: names and groups are kept.

        Use it for every rebuild that keeps the input space (folding a scaler into the first
        layer, pruning or merging hidden neurons, slicing outputs) so that
        :attr:`feature_groups` is never lost on the way.
        """
        return ReluNetwork(
            weights,
            biases,
            self._output if output is None else output,
            self._feature_names,
            self._feature_groups,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReluNetwork):
            return NotImplemented
        return (
            self._output == other._output
            and self._feature_names == other._feature_names
            and self._feature_groups == other._feature_groups
            and len(self._W) == len(other._W)
            and all(a.shape == b.shape and np.array_equal(a, b)
                    for a, b in zip(self._W, other._W, strict=True))
            and all(np.array_equal(a, b) for a, b in zip(self._b, other._b, strict=True))
        )

    __hash__ = None  # type: ignore[assignment]

    def __copy__(self) -> ReluNetwork:
        return self  # immutable

    def __deepcopy__(self, memo: dict) -> ReluNetwork:
        return self  # immutable

    def __reduce__(self):
        groups = None if self._feature_groups is None else dict(self._feature_groups)
        return (
            ReluNetwork,
            (list(self._W), list(self._b), self._output, self._feature_names, groups),
        )

    def __repr__(self) -> str:
        sizes = " -> ".join(str(s) for s in (self.n_features, *self.hidden_sizes, self.n_outputs))
        n = len(self._feature_groups or ())
        groups = "" if self._feature_groups is None else f", {n} group{'' if n == 1 else 's'}"
        return f"ReluNetwork({sizes}, output={self._output!r}{groups})"


def _check_groups(
    groups: Mapping[str, Sequence[str]] | None, names: tuple[str, ...] | None
) -> Mapping[str, tuple[str, ...]] | None:
    """Validate ``feature_groups`` against the input names; return a read-only copy."""
    if groups is None:
        return None
    if not isinstance(groups, Mapping):
        raise TypeError(
            "feature_groups must be a mapping {original column: [input names]}; "
            f"got {type(groups).__name__}."
        )
    if names is None:
        raise ValueError(
            "feature_groups needs feature_names: groups are written in input names."
        )
    known = set(names)
    owner: dict[str, str] = {}
    out: dict[str, tuple[str, ...]] = {}
    for g, members in groups.items():
        if not isinstance(g, str) or not g:
            raise TypeError(f"feature_groups keys must be non-empty strings; got {g!r}.")
        if isinstance(members, str) or not isinstance(members, Sequence | np.ndarray):
            raise TypeError(
                f"feature_groups[{g!r}] must be a sequence of input names; got {members!r}."
            )
        members = tuple(str(m) for m in members)
        if not members:
            raise ValueError(f"feature_groups[{g!r}] is empty; every group needs an input.")
        for m in members:
            if m not in known:
                raise ValueError(
                    f"feature_groups[{g!r}] names {m!r}, which is not one of the network's "
                    "feature_names."
                )
            if m in owner:
                raise ValueError(
                    f"Input {m!r} is in both feature_groups[{owner[m]!r}] and "
                    f"feature_groups[{g!r}]; every input belongs to at most one group."
                )
            owner[m] = g
        out[g] = members
    for g, members in out.items():
        if g in known and g not in members:
            raise ValueError(
                f"Group name {g!r} is also the name of an input outside that group; "
                "rename the group."
            )
    return MappingProxyType(out)


def _as_float_array(a: Any, name: str) -> np.ndarray:
    if hasattr(a, "detach"):  # a torch tensor slipped in
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}.")
    return np.array(arr, dtype=np.float64, copy=True)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.setflags(write=False)
    return a
