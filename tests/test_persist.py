"""Save/load round trips and the errors for foreign, damaged and newer files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import glassnet
from glassnet import Regions, ReluNetwork, unwrap
from glassnet.persist import FORMAT_VERSION, GlassnetFormatError, load, register, save


def _random_net(seed: int = 0, sizes=(3, 7, 5, 2), output="softmax", names=True) -> ReluNetwork:
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    fn = [f"f{i}" for i in range(sizes[0])] if names else None
    return ReluNetwork(Ws, bs, output=output, feature_names=fn)


def _rewrite(src, dst, edit_manifest=None, edit_member=None):
    """Copy a glassnet zip, changing the manifest or one member on the way."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "manifest.json" and edit_manifest is not None:
                m = json.loads(data)
                edit_manifest(m)
                data = json.dumps(m).encode()
            elif edit_member is not None:
                data = edit_member(item.filename, data)
            zout.writestr(item.filename, data)


def test_network_round_trip_is_exact(tmp_path):
    net = _random_net()
    path = save(net, tmp_path / "net.glassnet")
    back = load(path)
    assert isinstance(back, ReluNetwork)
    assert back == net
    assert back.output == "softmax" and back.feature_names == ("f0", "f1", "f2")
    X = np.random.default_rng(1).normal(size=(50, 3))
    assert np.array_equal(back.forward(X), net.forward(X))


def test_public_names_are_the_io_functions():
    assert glassnet.save is save and glassnet.load is load


def test_regions_round_trip_is_exact(tmp_path):
    net = _random_net(output="identity", sizes=(4, 6, 6, 1), names=False)
    X = np.random.default_rng(2).normal(size=(300, 4))
    y = X[:, 0] - X[:, 1]
    r = unwrap(net, X, y)
    back = load(save(r, tmp_path / "r.glassnet"), expected_type=Regions)
    assert len(back) == len(r) and back.network == net
    for name in ("labels", "counts", "packed_patterns", "coef", "intercept", "representatives",
                 "pred_sum", "pred_sumsq", "y_sum", "y_sumsq"):
        assert np.array_equal(getattr(back, name), getattr(r, name)), name
    assert back.max_abs_error == r.max_abs_error
    assert back.feature_names == r.feature_names
    assert np.array_equal(back.assign(X), r.labels)
    pd.testing.assert_frame_equal(back.to_frame(), r.to_frame())


def test_regions_without_target(tmp_path):
    r = unwrap(_random_net(), np.random.default_rng(3).normal(size=(40, 3)))
    back = load(save(r, tmp_path / "r.glassnet"))
    assert back.y_sum is None and back.y_mean is None


def test_sklearn_objects_and_containers_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=120) > 0, "good", "bad")
    mlp = MLPClassifier((6,), max_iter=50, random_state=0)
    with pytest.warns(Warning):  # not converged in 50 iterations
        mlp.fit(X, y)
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    frame = pd.DataFrame({"a": [1.5, np.nan], "b": ["x", None], "c": [1, 2]}, index=[10, 20])
    obj = {
        "mlp": mlp,
        "pipe": pipe,
        "frame": frame,
        "series": pd.Series([1.0, 2.0], name="s"),
        "misc": (1, np.float32(2.5), float("inf"), {3, 4}, b"\x00\x01", None, [True, "s"]),
        7: np.arange(6, dtype=np.int16).reshape(2, 3),
        "rng": np.random.RandomState(5),
    }
    back = load(save(obj, tmp_path / "o.glassnet"))
    assert np.array_equal(back["mlp"].predict_proba(X), mlp.predict_proba(X))
    assert list(back["mlp"].classes_) == ["bad", "good"]
    assert np.array_equal(back["pipe"].predict_proba(X), pipe.predict_proba(X))
    pd.testing.assert_frame_equal(back["frame"], frame, check_dtype=False)
    assert list(back["frame"].index) == [10, 20]
    pd.testing.assert_series_equal(back["series"], obj["series"])
    misc = back["misc"]
    assert misc[0] == 1 and misc[1] == np.float32(2.5) and misc[1].dtype == np.float32
    assert misc[2] == float("inf") and misc[3] == {3, 4} and misc[4] == b"\x00\x01"
    assert misc[5] is None and misc[6] == [True, "s"]
    assert back[7].dtype == np.int16 and np.array_equal(back[7], obj[7])
    assert back["rng"].randint(1000) == np.random.RandomState(5).randint(1000)


def test_functions_and_foreign_objects_are_refused(tmp_path):
    with pytest.raises(TypeError, match="function"):
        save({"scoring": lambda y, p: 0.0}, tmp_path / "f.glassnet")

    class Foreign:
        pass

    with pytest.raises(TypeError, match="not on the list"):
        save([Foreign()], tmp_path / "g.glassnet")
    assert not (tmp_path / "f.glassnet").exists() and not (tmp_path / "g.glassnet").exists()


def test_register_custom_class(tmp_path):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    Point.__module__ = __name__
    Point.__qualname__ = "_RegisteredPoint"
    globals()["_RegisteredPoint"] = Point
    try:
        register(Point, lambda p: {"x": p.x, "y": p.y}, lambda s: Point(s["x"], s["y"]))
        back = load(save(Point(1, np.arange(3)), tmp_path / "p.glassnet"))
        assert back.x == 1 and np.array_equal(back.y, np.arange(3))
    finally:
        del globals()["_RegisteredPoint"]
    with pytest.raises(ValueError, match="both"):
        register(Point, to_state=lambda p: {})


def test_no_pickle_inside(tmp_path):
    path = save(unwrap(_random_net(), np.ones((5, 3))), tmp_path / "r.glassnet")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert "manifest.json" in names
        assert all(n == "manifest.json" or (n.startswith("arrays/") and n.endswith(".npy"))
                   for n in names)
        for n in names:
            if n.endswith(".npy"):
                # .npy files of object dtype would need pickle: none may exist
                header = zf.read(n)[:200]
                assert b"'|O'" not in header


def test_newer_format_version_is_refused(tmp_path):
    src = save(_random_net(), tmp_path / "a.glassnet")
    dst = tmp_path / "b.glassnet"
    _rewrite(src, dst, edit_manifest=lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(GlassnetFormatError, match="Upgrade glassnet"):
        load(dst)


def test_altered_array_is_detected(tmp_path):
    src = save(_random_net(), tmp_path / "a.glassnet")
    dst = tmp_path / "b.glassnet"

    def flip(name, data):
        if name == "arrays/a0.npy":
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        return data

    _rewrite(src, dst, edit_member=flip)
    with pytest.raises(GlassnetFormatError, match="damaged.*checksum"):
        load(dst)


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.98])
def test_truncated_file_is_detected(tmp_path, cut):
    src = save(_random_net(sizes=(3, 30, 30, 2)), tmp_path / "a.glassnet")
    raw = src.read_bytes()
    dst = tmp_path / "t.glassnet"
    dst.write_bytes(raw[: int(len(raw) * cut)])
    with pytest.raises(GlassnetFormatError):
        load(dst)


def test_foreign_class_in_manifest_is_refused(tmp_path):
    src = save({"a": 1}, tmp_path / "a.glassnet")
    dst = tmp_path / "b.glassnet"
    _rewrite(src, dst, edit_manifest=lambda m: m.update(
        object={"__object__": "os:system", "state": {}}))
    with pytest.raises(GlassnetFormatError, match="refusing"):
        load(dst)


def test_not_a_glassnet_file(tmp_path):
    p = tmp_path / "x.glassnet"
    p.write_text("hello")
    with pytest.raises(GlassnetFormatError, match="not a glassnet file"):
        load(p)
    with zipfile.ZipFile(tmp_path / "z.zip", "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(GlassnetFormatError, match="not a glassnet file"):
        load(tmp_path / "z.zip")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.glassnet")


def test_expected_type(tmp_path):
    path = save(_random_net(), tmp_path / "n.glassnet")
    with pytest.raises(TypeError, match="not a Regions"):
        load(path, expected_type=Regions)


# ---------------------------------------------------------------------- fitted glassnet objects
@pytest.fixture(scope="module")
def circles():
    from glassnet.datasets import make_cocircles

    df = make_cocircles(n_samples=400, random_state=1)
    return df[["X0", "X1"]], df["target"].to_numpy()


@pytest.fixture(scope="module")
def classifier(circles):
    X, y = circles
    return glassnet.ReluNetClassifier((8, 8), max_epochs=15, learning_rate=0.01,
                                      random_state=0).fit(X, y)


def _same_params(a, b):
    pa, pb = a.get_params(deep=False), b.get_params(deep=False)
    assert pa.keys() == pb.keys()
    for k in pa:
        if isinstance(pa[k], ReluNetwork | np.ndarray):
            continue
        assert repr(pa[k]) == repr(pb[k]), k


def test_estimators_round_trip(tmp_path, classifier, circles):
    X, y = circles
    back = load(save(classifier, tmp_path / "c.glassnet"))
    _same_params(back, classifier)
    assert back.network_ == classifier.network_
    assert np.array_equal(back.predict_proba(X), classifier.predict_proba(X))
    assert back.loss_curve_ == classifier.loss_curve_
    assert list(back.feature_names_in_) == ["X0", "X1"]
    reg = glassnet.ReluNetRegressor((6,), max_epochs=5, random_state=0).fit(X, X["X0"] * 2)
    back = load(save(reg, tmp_path / "r.glassnet"))
    assert np.array_equal(back.predict(X), reg.predict(X))
    # a loaded estimator can be refitted (its parameters are intact)
    again = back.fit(X, X["X0"] * 2)
    assert np.array_equal(again.predict(X), reg.predict(X))


def test_simplifiers_round_trip(tmp_path, classifier, circles):
    X, y = circles
    merger = glassnet.RegionMerger(classifier, n_regions=3, random_state=0).fit(X, y)
    pruner = glassnet.RegionPruner(classifier, n_regions=3).fit(X, y)
    mlm = glassnet.MixtureOfLinearModels(classifier, n_layer_clusters=3, clustering="kmeans",
                                         n_perturb=10, n_epics=2, random_state=0).fit(X, y)
    for est in (merger, pruner, mlm):
        back = load(save(est, tmp_path / "m.glassnet"))
        assert type(back) is type(est)
        _same_params(back, est)
        assert np.array_equal(back.predict_proba(X), est.predict_proba(X))
        assert np.array_equal(back.predict(X), est.predict(X))
    back = load(save(mlm, tmp_path / "m.glassnet"))
    pd.testing.assert_frame_equal(back.summary(), mlm.summary())
    # the loaded mixture draws the same heatmap: the same coefficients in the same cells
    drawn, original = back.plot_coefficients(), mlm.plot_coefficients()
    np.testing.assert_array_equal(drawn.ax_.images[0].get_array(),
                                  original.ax_.images[0].get_array())
    assert ([t.get_text() for t in drawn.ax_.get_xticklabels()]
            == [t.get_text() for t in original.ax_.get_xticklabels()])


def test_l1_path_and_partition_round_trip(tmp_path, circles):
    X, y = circles
    est = glassnet.ReluNetClassifier((6,), max_epochs=5, random_state=0)
    path = glassnet.l1_path(est, X, y, [0.0, 0.01]).plot()  # holds a figure after plot()
    back = load(save(path, tmp_path / "p.glassnet"))
    pd.testing.assert_frame_equal(back.table_, path.table_)
    assert back.recommended_ == path.recommended_ and not hasattr(back, "figure_")
    net = path.estimators_[0].network_
    part = glassnet.partition_2d(net, ((-1.5, 1.5), (-1.5, 1.5)))
    back = load(save(part, tmp_path / "q.glassnet"))
    assert len(back) == len(part) and back.network == net
    assert np.array_equal(back.areas, part.areas) and np.array_equal(back.patterns, part.patterns)


def test_feature_groups_and_categorical_estimators_round_trip(tmp_path):
    # ReluNetwork.feature_groups (one-hot inputs of one original column stay one group)
    rng = np.random.default_rng(5)
    Ws, bs = [rng.normal(size=(4, 4)), rng.normal(size=(1, 4))], [np.zeros(4), np.zeros(1)]
    net = ReluNetwork(Ws, bs, feature_names=["age", "job_a", "job_b", "job_c"],
                      feature_groups={"job": ["job_a", "job_b", "job_c"]})
    back = load(save(net, tmp_path / "g.glassnet"))
    assert back == net and dict(back.feature_groups) == {"job": ("job_a", "job_b", "job_c")}
    # an estimator with standardised inputs and a categorical column: every parameter and
    # fitted attribute comes back, and the predictions are bit for bit the same
    X = pd.DataFrame({"age": rng.normal(40, 10, 150),
                      "job": rng.choice(["clerk", "nurse", "pilot"], 150)})
    y = np.where(X["age"] > 40, "good", "bad").astype(object)  # classes_ of object dtype
    clf = glassnet.ReluNetClassifier((5,), max_epochs=3, random_state=0,
                                     categorical_features=["job"]).fit(X, y)
    back = load(save(clf, tmp_path / "c.glassnet"))
    _same_params(back, clf)
    assert back.standardize is True and back.categorical_features == ["job"]
    assert back.network_ == clf.network_
    assert back.network_.feature_groups == clf.network_.feature_groups
    assert set(vars(back)) == set(vars(clf))
    assert np.array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert list(back.predict(X)) == list(clf.predict(X)) and back.classes_.dtype == object
    unseen = X.assign(job=["astronaut"] * len(X))  # unknown category: same handling
    assert np.array_equal(back.predict_proba(unseen), clf.predict_proba(unseen))


def _listed_sklearn_objects():
    from sklearn.cluster import KMeans
    from sklearn.linear_model import Lasso, LinearRegression, Ridge
    from sklearn.mixture import GaussianMixture
    from sklearn.neighbors import NearestNeighbors
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import (
        LabelEncoder,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        RobustScaler,
    )
    from sklearn.utils import Bunch

    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=80)
    cats = np.array([["a", "x"], ["b", "y"], ["c", "x"], ["a", "y"]] * 5, dtype=object)
    return [
        (MinMaxScaler().fit(X), "transform", X),
        (MaxAbsScaler().fit(X), "transform", X),
        (RobustScaler().fit(X), "transform", X),
        (LinearRegression().fit(X, y), "predict", X),
        (Ridge(alpha=0.5).fit(X, y), "predict", X),
        (Lasso(alpha=0.01).fit(X, y), "predict", X),
        (MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", max_iter=5, random_state=0)
         .fit(X, y), "predict", X),
        (KMeans(3, n_init=1, random_state=0).fit(X), "predict", X),
        (GaussianMixture(2, random_state=0).fit(X), "predict_proba", X),
        (NearestNeighbors(n_neighbors=3, algorithm="brute").fit(X), "kneighbors", X),
        (NearestNeighbors(n_neighbors=3).fit(X), "kneighbors", X),  # KD tree, rebuilt
        (NearestNeighbors(n_neighbors=3, algorithm="ball_tree", metric="manhattan").fit(X),
         "kneighbors", X),
        (OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(cats), "transform",
         cats),
        (LabelEncoder().fit(["b", "a", "c"]), "transform", ["a", "c"]),
        (Bunch(a=np.arange(3), b="text"), None, None),
    ]


def test_every_listed_scikit_learn_class_round_trips(tmp_path):
    """Each listed scikit-learn class saves, loads and computes exactly as before."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the tiny fits
        objs = _listed_sklearn_objects()
    for i, (obj, method, arg) in enumerate(objs):
        back = load(save(obj, tmp_path / f"{i}.glassnet"))
        assert type(back) is type(obj)
        if method is None:  # the Bunch
            assert back.b == "text" and np.array_equal(back.a, obj.a)
            continue
        got, want = getattr(back, method)(arg), getattr(obj, method)(arg)
        for g, w in zip(got if isinstance(got, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,), strict=True):
            assert np.array_equal(g, w), type(obj).__name__


def test_explicit_encoders_cover_every_attribute():
    """ReluNetwork and Regions are saved field by field: a new attribute must be added there.

    Every other class is saved through its whole state, so it needs no such list.
    """
    from glassnet.persist._core import _REGION_FIELDS, _network_state

    net = ReluNetwork([np.eye(2)], [np.zeros(2)], feature_names=["a", "b"],
                      feature_groups={"g": ["a", "b"]})
    derived = {"_Wt"}  # the transposed weights, rebuilt by the constructor
    stored = {"_W", "_b", "_output", "_feature_names", "_feature_groups"}
    assert set(ReluNetwork.__slots__) == stored | derived
    assert set(_network_state(net)) == {"weights", "biases", "output", "feature_names",
                                        "feature_groups"}
    r = unwrap(net, np.random.default_rng(0).normal(size=(20, 2)))
    assert set(vars(r)) == {*_REGION_FIELDS, "network", "feature_names", "_lookup"}


# ---------------------------------------------------------------------- persistence outside io
OLD_FILE = Path(__file__).parent / "data" / "saved_before_persist_move.glassnet"


def _manual_forward(net: ReluNetwork, X: np.ndarray) -> np.ndarray:
    """The network's pre-link output by plain matrix products (not ReluNetwork's code)."""
    h = X
    for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        h = h @ np.asarray(W).T + b
        if i < len(net.weights) - 1:
            h = np.maximum(h, 0.0)
    return h


def test_file_written_before_persistence_left_io_still_loads():
    # tests/data/saved_before_persist_move.glassnet was written by glassnet.io.save (commit
    # e5080f5) before the move to glassnet.persist: it must load unchanged
    d = load(OLD_FILE)
    net, regions, pruner, X, y = (d[k] for k in ("network", "regions", "pruner", "X", "y"))
    assert X.shape == (120, 3) and X.dtype == np.float64
    expit = 1.0 / (1.0 + np.exp(-_manual_forward(net, X)))
    np.testing.assert_allclose(net.predict_output(X).reshape(-1), expit.reshape(-1), rtol=1e-12)
    # the stored regions are the ones unwrapping the stored network finds today
    fresh = unwrap(net, X, y)
    assert np.array_equal(regions.labels, fresh.labels)
    assert np.array_equal(regions.coef, fresh.coef)
    # inside each region the stored LLM is the network (brute force on its own rows)
    z = np.einsum("nkf,nf->nk", regions.coef[regions.labels], X) + regions.intercept[
        regions.labels]
    np.testing.assert_allclose(z, _manual_forward(net, X), rtol=1e-9, atol=1e-9)
    assert pruner.n_regions_ == 3 and len(pruner.models_) == 3
    proba = pruner.predict_proba(X)
    assert proba.shape == (120, 2) and np.allclose(proba.sum(axis=1), 1.0)


def test_saved_files_do_not_name_where_persistence_lives(tmp_path):
    # the format names only the saved classes, so moving the persistence code cannot
    # invalidate files: every "module:qualname" of a saved tree is a saved object's class
    names = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("__object__", "__type__", "__class__"):
                if isinstance(node.get(key), str):
                    names.append(node[key])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    d = load(OLD_FILE)
    path = save(d, tmp_path / "again.glassnet")
    for p in (OLD_FILE, path):
        with zipfile.ZipFile(p) as zf:
            walk(json.loads(zf.read("manifest.json")))
    assert names and not [n for n in names if n.startswith(("glassnet.io", "glassnet.persist"))]
    assert "glassnet.simplify.prune:RegionPruner" in names


def test_io_no_longer_saves_and_persist_is_the_public_home():
    import glassnet.io
    import glassnet.persist

    for name in ("save", "load", "register", "GlassnetFormatError"):
        assert not hasattr(glassnet.io, name), name
        assert name in glassnet.persist.__all__
    assert glassnet.save is glassnet.persist.save and glassnet.load is glassnet.persist.load


def _pair(tree, key):
    """The [key, value] pair of a saved ``__dict__`` anywhere in a manifest tree."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            if len(node) == 2 and node[0] == key:
                return node
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    raise AssertionError(f"{key} not in the manifest")


@pytest.mark.parametrize("edit, message", [
    (lambda models: models.__setitem__(0, 3), "models_ holds a int"),
    (lambda models: models.pop(), "models_ does not hold 3 models"),
])
def test_loader_runs_the_simplifiers_own_check(tmp_path, edit, message):
    # a pruner whose models_ list was altered: the check now lives in simplify
    # (RegionPruner.check_fitted_consistency) and the loader calls it
    def alter(m):
        value = _pair(m["object"], "models_")[1]
        edit(value if isinstance(value, list) else value["__list__"])

    dst = tmp_path / "altered.glassnet"
    _rewrite(OLD_FILE, dst, edit_manifest=alter)
    with pytest.raises(GlassnetFormatError, match=message):
        load(dst)


def test_check_fitted_consistency_on_a_fitted_pruner():
    d = load(OLD_FILE)
    pruner = d["pruner"]
    pruner.check_fitted_consistency()  # a fitted pruner passes
    pruner.models_ = pruner.models_[:2]
    with pytest.raises(ValueError, match="does not hold 3 models"):
        pruner.check_fitted_consistency()
    pruner.models_ = [object()] * 3
    with pytest.raises(ValueError, match="models_ holds a object"):
        pruner.check_fitted_consistency()


def test_load_model_reads_every_format_through_one_function(tmp_path):
    from glassnet.persist import load_model

    net = _random_net(output="sigmoid", sizes=(3, 5, 1))
    folder = tmp_path / "trained"
    folder.mkdir()
    save(net, folder / "model.glassnet")
    model, network, description = load_model(folder)  # a directory written by train
    assert model == net and network == net and "model.glassnet" in description
    # a .glassnet file holding regions is not a model
    r = unwrap(net, np.random.default_rng(0).normal(size=(30, 3)))
    with pytest.raises(ValueError, match="r.glassnet holds unwrapped Regions, not a model"):
        load_model(save(r, tmp_path / "r.glassnet"))
    # another library's file goes to glassnet.io.load_model_file: a pickle is refused
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(b"\x80\x04N.")
    with pytest.raises(ValueError, match="m.pkl is a pickle file"):
        load_model(pkl)
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.glassnet")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="directory without a model.glassnet"):
        load_model(empty)
