"""The exact list of classes and types a glassnet file may name (private to ``glassnet.persist``).

A name is ``"module:qualname"``. It is accepted only if it is on one of the lists below
(or was registered with :func:`glassnet.persist.register`), character for character: no
prefix or package rule, no attribute walk. The class is then looked up as one entry of
the module's namespace and must report that same module and qualified name, so a
re-export (``numpy.X`` that is really ``numpy.testing...X``) never matches.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

# Objects rebuilt from their state. Keep docs/persistence.md in step with this list.
CLASSES: tuple[str, ...] = (
    # glassnet
    "glassnet.network:ReluNetwork",
    "glassnet.regions:Regions",
    "glassnet.estimators:ReluNetClassifier",
    "glassnet.estimators:ReluNetRegressor",
    "glassnet.simplify.merge:RegionMerger",
    "glassnet.simplify._ward:Hierarchy",
    "glassnet.simplify._glm:Standardizer",
    "glassnet._estimator_inputs:InputEncoder",
    "glassnet.simplify.prune:RegionPruner",
    "glassnet.simplify._common:ConstantModel",
    "glassnet.simplify.l1path:L1Path",
    "glassnet.mlm:MixtureOfLinearModels",
    "glassnet.mlm.model:MixtureOfLinearModels",
    "glassnet.partition:Partition2D",
    # scikit-learn: the estimators glassnet keeps inside its own, and the usual
    # preprocessing + MLP pipelines users import from
    "sklearn.pipeline:Pipeline",
    "sklearn.preprocessing._data:StandardScaler",
    "sklearn.preprocessing._data:MinMaxScaler",
    "sklearn.preprocessing._data:MaxAbsScaler",
    "sklearn.preprocessing._data:RobustScaler",
    "sklearn.preprocessing._label:LabelBinarizer",
    "sklearn.preprocessing._label:LabelEncoder",
    "sklearn.preprocessing._encoders:OneHotEncoder",
    "sklearn.neural_network._multilayer_perceptron:MLPClassifier",
    "sklearn.neural_network._multilayer_perceptron:MLPRegressor",
    "sklearn.neural_network._stochastic_optimizers:AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers:SGDOptimizer",
    "sklearn.linear_model._logistic:LogisticRegression",
    "sklearn.linear_model._base:LinearRegression",
    "sklearn.linear_model._ridge:Ridge",
    "sklearn.linear_model._coordinate_descent:Lasso",
    "sklearn.cluster._kmeans:KMeans",
    "sklearn.mixture._gaussian_mixture:GaussianMixture",
    "sklearn.neighbors._unsupervised:NearestNeighbors",
    "sklearn.utils._bunch:Bunch",
)

# One class under two exact names (it moved module): a file written under either name
# loads wherever the class lives now. Both names are on CLASSES.
SAME_CLASS: tuple[tuple[str, str], ...] = (
    ("glassnet.mlm:MixtureOfLinearModels", "glassnet.mlm.model:MixtureOfLinearModels"),
)

# Types that may appear as values (``{"__type__": ...}``), e.g. an estimator's ``dtype``
# parameter. Calling any of them only makes a number or a string.
_VALUE_TYPES: tuple[type, ...] = (
    float, int, bool, str, complex,
    np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
    np.uint64, np.uint32, np.uint16, np.uint8, np.bool_, np.complex128, np.complex64,
)
_BIT_GENERATORS: tuple[type, ...] = (
    np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64,
)

# classes registered by the user at run time: exact name -> the class object itself
_REGISTERED: dict[str, type] = {}


def class_path(cls: type) -> str:
    """``"module:qualname"`` of a class."""
    return f"{cls.__module__}:{cls.__qualname__}"


VALUE_TYPES: dict[str, type] = {class_path(t): t for t in _VALUE_TYPES}
BIT_GENERATORS: dict[str, type] = {class_path(t): t for t in _BIT_GENERATORS}


def register_class(cls: type) -> None:
    _REGISTERED[class_path(cls)] = cls


def is_allowed_class(cls: type) -> bool:
    """Whether instances of exactly ``cls`` (not a subclass) may be saved."""
    path = class_path(cls)
    if path in _REGISTERED:
        return _REGISTERED[path] is cls
    return path in CLASSES and _lookup(path) is cls


def is_allowed_name(path: Any) -> bool:
    return isinstance(path, str) and (path in CLASSES or path in _REGISTERED)


def resolve_class(path: str) -> type:
    """The class named by ``path``, which must be on the allowlist (checked by the caller).

    Raises
    ------
    LookupError
        If this installation has no such class.
    """
    if path in _REGISTERED:
        return _REGISTERED[path]
    if path not in CLASSES:  # callers check first; this keeps the function safe on its own
        raise LookupError(path)
    for name in (path, *_partners(path)):
        cls = _lookup(name)
        if cls is not None:
            return cls
    raise LookupError(path)


def _partners(path: str) -> list[str]:
    return [b if a == path else a for a, b in SAME_CLASS if path in (a, b)]


def _lookup(path: str) -> type | None:
    module_name, qualname = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    obj = vars(module).get(qualname)  # one namespace entry: no attribute walk
    if not isinstance(obj, type) or class_path(obj) != path:
        return None
    return obj
