"""Gaps found by mutation testing in glassnet's persistence (issue 19): paths no test ran.

Oracles: the original objects themselves (equality, the next random draws of an identically
seeded generator), hand-written manifests, and the documented error types.
"""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from sklearn.utils import Bunch

from glassnet.persist import GlassnetFormatError, load, save


def _roundtrip(obj, tmp_path):
    return load(save(obj, tmp_path / "obj.glassnet"))


@pytest.mark.parametrize("dt", ["<f8", ">i4", "int8", "bool", "<U5", "complex128", "M8[s]"])
def test_dtype_objects_roundtrip_in_native_byte_order(tmp_path, dt):
    back = _roundtrip({"dt": np.dtype(dt)}, tmp_path)["dt"]
    assert isinstance(back, np.dtype)
    expected = np.dtype(dt).newbyteorder("=")
    assert back == expected and back.kind == np.dtype(dt).kind
    assert back.itemsize == np.dtype(dt).itemsize


def test_random_generator_roundtrip_continues_the_same_stream(tmp_path):
    rng = np.random.default_rng(2024)
    rng.normal(size=11)  # advance: the saved state is mid-stream, not the seed
    back = _roundtrip({"rng": rng}, tmp_path)["rng"]
    assert isinstance(back, np.random.Generator)
    assert type(back.bit_generator) is type(rng.bit_generator)
    oracle = np.random.default_rng(2024)
    oracle.normal(size=11)
    expected = oracle.random(6)
    np.testing.assert_array_equal(back.random(6), expected)
    np.testing.assert_array_equal(rng.random(6), expected)  # saving did not advance the original


def test_dict_subclass_bunch_roundtrip_keeps_class_keys_and_values(tmp_path):
    b = Bunch(alpha=1.5, names=["a", "b"], coef=np.arange(4.0))
    back = _roundtrip({"b": b}, tmp_path)["b"]
    assert type(back) is Bunch
    assert sorted(back.keys()) == ["alpha", "coef", "names"]
    assert back.alpha == 1.5 and back["names"] == ["a", "b"]  # attribute access works again
    np.testing.assert_array_equal(back.coef, np.arange(4.0))


@pytest.mark.parametrize("t", [int, float, str, bool, np.float64, np.int32])
def test_type_objects_roundtrip_to_the_same_type(tmp_path, t):
    assert _roundtrip({"t": t}, tmp_path)["t"] is t


def test_saving_or_loading_a_directory_is_a_clear_error(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="it is a directory; give a file name"):
        save({"a": 1}, folder)
    with pytest.raises(IsADirectoryError, match="Is a directory, not a glassnet file"):
        load(folder)
    assert list(folder.iterdir()) == []  # nothing was written inside it


def _with_manifest(tmp_path, **changes):
    path = save({"a": 1}, tmp_path / "m.glassnet")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest.update(changes)
    out = tmp_path / "edited.glassnet"
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
    return out


def test_the_unedited_manifest_rewritten_still_loads(tmp_path):
    # control for the tests below: rewriting the zip by hand is not itself what they refuse
    assert load(_with_manifest(tmp_path)) == {"a": 1}


@pytest.mark.parametrize("version", [0, -1, True, "1", 1.0, None])
def test_format_version_below_1_or_not_an_int_is_damaged(tmp_path, version):
    with pytest.raises(GlassnetFormatError, match="bad format_version"):
        load(_with_manifest(tmp_path, format_version=version))


def test_a_newer_format_version_asks_to_upgrade(tmp_path):
    with pytest.raises(GlassnetFormatError, match=r"format 2 .*Upgrade glassnet"):
        load(_with_manifest(tmp_path, format_version=2))


def test_a_manifest_of_another_format_is_not_a_glassnet_file(tmp_path):
    # the specific message, not the generic "is damaged or not a glassnet file" one
    with pytest.raises(GlassnetFormatError, match=r"is not a glassnet file \(unknown manifest\)"):
        load(_with_manifest(tmp_path, format="pickle"))


def test_each_foreign_file_gets_its_own_reason(tmp_path):
    # issue 19: the older test's regex "not a glassnet file" also matched the generic
    # message, so a wrong branch went unnoticed; each case here names its own cause
    text = tmp_path / "x.glassnet"
    text.write_text("hello")
    with pytest.raises(GlassnetFormatError, match=r"\(not a readable ZIP archive\)"):
        load(text)
    other = tmp_path / "z.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(GlassnetFormatError, match=r"is not a glassnet file \(no manifest\.json\)"):
        load(other)


def test_a_zip64_locator_without_its_record_is_damaged(tmp_path):
    import struct

    data = save({"a": 1}, tmp_path / "ok.glassnet").read_bytes()
    pos = data.rfind(b"PK\x05\x06")
    # a ZIP64 end-of-central-directory locator pointing at offset 0, where no ZIP64 record is
    locator = b"PK\x06\x07" + struct.pack("<LQL", 0, 0, 1)
    bad = tmp_path / "zip64.glassnet"
    bad.write_bytes(data[:pos] + locator + data[pos:])
    with pytest.raises(GlassnetFormatError, match="is damaged: bad ZIP64 end record"):
        load(bad)


def test_n_jobs_range_on_loading(tmp_path):
    # a stored n_jobs must be an int with 1 <= |n_jobs| <= 1024 (a thread bomb otherwise):
    # the bounds themselves load, one past them is refused
    from sklearn.neighbors import NearestNeighbors

    X = np.random.default_rng(0).normal(size=(20, 2))
    for n_jobs in (1024, -1024, -1, 1):
        path = save(NearestNeighbors(n_neighbors=2, n_jobs=n_jobs).fit(X),
                    tmp_path / f"ok{n_jobs}.glassnet")
        assert load(path).n_jobs == n_jobs
    for n_jobs in (1025, -1025, 0):
        path = save(NearestNeighbors(n_neighbors=2, n_jobs=n_jobs).fit(X),
                    tmp_path / f"bad{n_jobs}.glassnet")
        with pytest.raises(GlassnetFormatError, match=rf"n_jobs={n_jobs} is out of range"):
            load(path)


def test_dtypes_in_the_other_byte_order_are_refused():
    # a glassnet file is read as raw bytes viewed in the stored dtype: a big-endian float
    # on a little-endian machine would be read as garbage, so such dtypes are refused
    import sys

    from glassnet.persist._zip import native_dtype

    other = ">" if sys.byteorder == "little" else "<"
    mine = "<" if other == ">" else ">"
    for code in ("f8", "i4", "c16", "u2"):
        with pytest.raises(ValueError, match="not in this machine's byte order"):
            native_dtype(other + code)
        assert native_dtype(mine + code) == np.dtype(mine + code)


def test_estimator_whose_input_count_disagrees_with_its_network_is_refused(tmp_path):
    # a ReluNetClassifier "fitted" by hand: n_features_in_ must equal the network's inputs
    # (plus one-hot widening, none here); 3 loads, 4 is refused on loading
    import glassnet
    from glassnet import ReluNetwork

    net = ReluNetwork([np.ones((2, 3)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)],
                      output="sigmoid")
    for n_in, ok in ((3, True), (4, False)):
        clf = glassnet.ReluNetClassifier((2,))
        clf.network_, clf.classes_, clf.n_features_in_ = net, np.array([0, 1]), n_in
        path = save(clf, tmp_path / f"clf{n_in}.glassnet")
        if ok:
            assert load(path).n_features_in_ == 3
        else:
            with pytest.raises(GlassnetFormatError,
                               match=r"n_features_in_=4 .* gives 4 inputs but the network has 3"):
                load(path)


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_npy_members_of_both_header_versions_load(tmp_path, version):
    # np.save writes .npy version 1.0 unless the header outgrows 64 KiB, then 2.0; both are
    # valid members. Rewrite every array of a saved network in the given version (same
    # bytes after the header, checksums recomputed) and load it back exactly.
    import hashlib
    import io

    from numpy.lib import format as npy

    from glassnet import ReluNetwork

    rng = np.random.default_rng(0)
    net = ReluNetwork([rng.normal(size=(4, 3)), rng.normal(size=(1, 4))],
                      [rng.normal(size=4), rng.normal(size=1)])
    src = save(net, tmp_path / "net.glassnet")
    with zipfile.ZipFile(src) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = [n for n in zf.namelist() if n != "manifest.json"]
        members = {n: np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in names}
    dst = tmp_path / "v.glassnet"
    with zipfile.ZipFile(dst, "w") as zf:
        for n, a in members.items():
            buf = io.BytesIO()
            npy.write_array(buf, a, version=version, allow_pickle=False)
            raw = buf.getvalue()
            assert npy.read_magic(io.BytesIO(raw)) == version
            manifest["arrays"][n[len("arrays/"):-4]]["sha256"] = hashlib.sha256(raw).hexdigest()
            zf.writestr(n, raw)
        zf.writestr("manifest.json", json.dumps(manifest))
    assert load(dst) == net
