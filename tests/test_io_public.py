"""The public names of glassnet.io that other packages use instead of its private ones.

``as_network`` recognises unwrapped regions by their attributes (``io`` sits below
``regions`` and does not import the class), ``is_onnx_model``/``is_torch_module`` tell model
kinds apart for the MLM, and ``load_model_file`` reads other libraries' model files.
"""

from __future__ import annotations

import types

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from glassnet import ReluNetwork, unwrap
from glassnet.io import (
    REGIONS_ATTRIBUTES,
    as_network,
    classes_of,
    is_onnx_model,
    is_regions,
    is_torch_module,
    load_model_file,
)


def _net(seed=0, sizes=(3, 5, 4, 1), output="sigmoid") -> ReluNetwork:
    rng = np.random.default_rng(seed)
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    return ReluNetwork(Ws, bs, output=output)


def test_real_regions_give_their_network():
    net = _net()
    r = unwrap(net, np.random.default_rng(1).normal(size=(60, 3)))
    assert is_regions(r)
    assert as_network(r) is net


def test_look_alike_with_every_regions_attribute_is_accepted():
    # the documented rule: every attribute of REGIONS_ATTRIBUTES and a ReluNetwork network
    net = _net()
    fake = types.SimpleNamespace(**{k: None for k in REGIONS_ATTRIBUTES})
    fake.network = net
    assert is_regions(fake) and as_network(fake) is net


@pytest.mark.parametrize("missing", ["counts", "packed_patterns", "coef", "intercept",
                                     "max_abs_error"])
def test_look_alike_missing_a_regions_attribute_is_refused(missing):
    attrs = {k: None for k in REGIONS_ATTRIBUTES if k not in (missing, "network")}
    fake = types.SimpleNamespace(**attrs, network=_net())
    assert not is_regions(fake)
    with pytest.raises(TypeError, match="Cannot turn a SimpleNamespace into a ReluNetwork"):
        as_network(fake)


def test_object_holding_a_network_it_is_not_is_refused():
    # a mixture of linear models keeps the network it explains in ``network``: not that network
    from glassnet import MixtureOfLinearModels

    net = _net()
    mlm = MixtureOfLinearModels(network=net)
    assert not is_regions(mlm)
    with pytest.raises(TypeError, match="MixtureOfLinearModels"):
        as_network(mlm)
    # every attribute, but a network that is not a ReluNetwork
    fake = types.SimpleNamespace(**{k: None for k in REGIONS_ATTRIBUTES})
    fake.network = MLPClassifier()
    assert not is_regions(fake)


def test_model_kind_predicates():
    assert is_onnx_model(b"\x08\x07") and is_onnx_model(bytearray(b"x"))
    assert is_onnx_model("model.ONNX") and not is_onnx_model("model.pt")
    assert not is_onnx_model(_net()) and not is_torch_module(_net())
    assert not is_torch_module(LogisticRegression())
    torch = pytest.importorskip("torch")

    assert is_torch_module(torch.nn.Sequential(torch.nn.Linear(2, 1)))
    assert is_torch_module(torch.nn.ReLU()) and not is_onnx_model(torch.nn.ReLU())


def test_classes_of_a_classifier_and_a_pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = LogisticRegression().fit(X, y)
    assert list(classes_of(clf)) == ["no", "yes"]
    assert list(classes_of(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y))) == [
        "no", "yes"]
    assert classes_of(_net()) is None


def test_load_model_file_reads_other_libraries_only(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    path = tmp_path / "m.pt"
    torch.save(module, path)
    model, net, description = load_model_file(path)
    assert isinstance(model, torch.nn.Sequential) and "m.pt" in description
    X = np.random.default_rng(0).normal(size=(20, 3))
    with torch.no_grad():
        expected = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(net.forward(X), expected, rtol=1e-5, atol=1e-5)
    # glassnet's own files belong to glassnet.persist.load_model, one layer up
    own = tmp_path / "model.glassnet"
    own.write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(ValueError, match="model.glassnet is a glassnet file: load it with "
                       "glassnet.persist.load_model"):
        load_model_file(own)
    csv = tmp_path / "data.pt"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="data.pt is not a torch file: it is a text file"):
        load_model_file(csv)
    with pytest.raises(ValueError, match="cannot tell the format of x.bin"):
        (tmp_path / "x.bin").write_bytes(b"\x00")
        load_model_file(tmp_path / "x.bin")
    with pytest.raises(FileNotFoundError):
        load_model_file(tmp_path / "missing.onnx")
