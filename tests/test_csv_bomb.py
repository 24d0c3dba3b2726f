"""Compressed CSVs from other teams: a decompression bomb is refused while it is read.

A ``.csv.gz`` of a few megabytes can expand to gigabytes of valid rows (zeros under
deflate expand about 1,000x), which filled the memory before any check ran. Real CSV text
compresses 3-30x; glassnet refuses a compressed file once it has expanded more than 200
times its size on disk (past a floor, 64 MiB by default; lowered here so the bombs stay
small). Accepted compressed files must read exactly as the plain file (the oracle).
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

import glassnet
import glassnet._csv_read as csv_read
from glassnet._csv import CSVStream, read_csv
from glassnet.cli import main

ROWS = b"0,0,0,0\n" * (1 << 17)  # 1 MiB of rows that compress ~500x


def _write(path, payload: bytes) -> None:
    name = path.name
    if name.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(payload)
    elif name.endswith(".bz2"):
        path.write_bytes(bz2.compress(payload))
    elif name.endswith(".xz"):
        path.write_bytes(lzma.compress(payload))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name[: -len(".zip")], payload)
    else:
        path.write_bytes(payload)


@pytest.fixture
def small_floor(monkeypatch):
    monkeypatch.setattr(csv_read, "_RATIO_FLOOR", 1 << 20)


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_bomb_is_refused_by_both_readers(tmp_path, small_floor, suffix):
    path = tmp_path / f"bomb.csv{suffix}"
    _write(path, b"a,b,c,label\n" + ROWS * 8)  # 8 MiB of rows
    size = path.stat().st_size
    assert 8 * len(ROWS) > 200 * size, "the test file must expand more than 200x"
    with pytest.raises(ValueError, match="decompression bomb") as exc:
        read_csv(path, "label")
    assert f"{size:,} bytes" in str(exc.value)
    net = glassnet.ReluNetwork([np.ones((2, 3)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="decompression bomb"):
        for _ in CSVStream(path, net, "label", None, chunk_size=1000).chunks():
            pass


def test_bomb_through_the_cli_is_one_line_exit_2(tmp_path, small_floor, capsys):
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    glassnet.save(glassnet.ReluNetwork.from_torch(seq), tmp_path / "net.glassnet")
    path = tmp_path / "bomb.csv.gz"
    _write(path, b"a,b,c,label\n" + ROWS * 8)
    code = main(["unwrap", str(tmp_path / "net.glassnet"), str(path), "--no-report", "-q"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "decompression bomb" in err[0], err


@pytest.mark.parametrize("suffix", [".gz", ".bz2", ".xz", ".zip"])
def test_real_compressed_csv_reads_as_the_plain_file(tmp_path, suffix):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(3000, 5)).round(6), columns=list("abcde"))
    frame["label"] = rng.integers(0, 2, 3000)
    plain = tmp_path / "data.csv"
    frame.to_csv(plain, index=False)
    packed = tmp_path / f"data.csv{suffix}"
    _write(packed, plain.read_bytes())
    X0, y0 = read_csv(plain, "label")
    X1, y1 = read_csv(packed, "label")
    pd.testing.assert_frame_equal(X0, X1)
    pd.testing.assert_series_equal(y0, y1)
    np.testing.assert_array_equal(X1.to_numpy(), frame[list("abcde")].to_numpy())
