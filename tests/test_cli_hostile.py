"""The command line against hostile input (issue 12 defects 7 and 8, safe model loading).

Every bad input is exit code 2 with exactly one line on stderr; loading a model file never
runs code stored in it; no output path may replace an input or a file glassnet did not
write (unless --force).
"""

from __future__ import annotations

import os
import pickle
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet
from glassnet.cli import build_parser, main
from glassnet.cli.train import training_memory


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """Exit 2, exactly one stderr line, a glassnet error naming every fragment."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), err
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny network (glassnet, torch and skops files) and a CSV it reads."""
    d = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = (X[:, 0] + X[:, 1] ** 2 > 0.3).astype(int)
    df.to_csv(d / "data.csv", index=False)
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1),
                              torch.nn.Sigmoid())
    torch.save(seq, d / "seq.pt")
    glassnet.save(glassnet.ReluNetwork.from_torch(seq), d / "net.glassnet")
    return d, seq, X


# ---------------------------------------------------------------------- exit codes (defect 8)
BAD_OPTIONS = [
    ("train", "--lr", "1e300"), ("train", "--lr", "0"), ("train", "--lr", "nan"),
    ("train", "--lr", "-1"), ("train", "--epochs", "0"), ("train", "--epochs", "-1"),
    ("train", "--epochs", "1.5"), ("train", "--batch-size", "0"),
    ("train", "--test-size", "1.5"), ("train", "--test-size", "-0.1"),
    ("train", "--test-size", "nan"), ("train", "--l1", "inf"), ("train", "--l1", "-1"),
    ("train", "--seed", "-3"), ("train", "--seed", "1e3"), ("train", "--top", "-1"),
    ("train", "--top", "0"), ("unwrap", "--stream-above", "nan"),
    ("unwrap", "--stream-above", "inf"), ("unwrap", "--stream-above", "-1"),
    ("unwrap", "--chunk-size", "-5"), ("unwrap", "--top", "-1"),
    ("simplify", "--test-size", "1"), ("simplify", "--epochs", "0"), ("demo", "--epochs", "0"),
    ("demo", "--seed", "nan"),
]


@pytest.mark.parametrize("command,option,value", BAD_OPTIONS)
def test_bad_numbers_are_one_line_exit_2(files, capsys, tmp_path, command, option, value):
    d, _, _ = files
    positional = {"train": [d / "data.csv", "--target", "label", "--out", tmp_path / "o"],
                  "unwrap": [d / "net.glassnet", d / "data.csv"],
                  "simplify": [d / "net.glassnet", d / "data.csv", "--target", "label"],
                  "demo": ["--out", tmp_path / "demo"]}[command]
    code, _, err = run(capsys, command, *positional, option, value)
    assert_one_line_error(code, err, option, repr(value))
    assert not (tmp_path / "o").exists() and not (tmp_path / "demo").exists()


@pytest.mark.parametrize("extra,fragment", [
    (["--hidden", "100000000"], "GiB"), (["--hidden", "0"], "--hidden"),
    (["--hidden", "4,-2"], "--hidden"),
])
def test_absurd_networks_refused_before_allocating(files, capsys, tmp_path, extra, fragment):
    d, _, _ = files
    t0 = time.perf_counter()
    code, _, err = run(capsys, "train", d / "data.csv", "--target", "label", "--out",
                       tmp_path / "o", *extra)
    assert_one_line_error(code, err, fragment)
    assert time.perf_counter() - t0 < 10  # refused from the estimate, nothing allocated


def test_memory_estimate_counts_the_parameters_torch_counts():
    # oracle: torch's own parameter count of the same architecture; the estimate is
    # 32 bytes a parameter plus activations, so it grows at least that fast
    for widths in [(3, 8, 1), (10, 40, 40, 3), (2, 1, 1)]:
        layers = [torch.nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True)]
        n_params = sum(p.numel() for m in layers for p in m.parameters())
        need = training_memory(widths[0], widths[1:-1], widths[-1], batch_size=1, n_rows=1)
        activations = sum(widths) * 4 * 3 + max(widths) * 8 * 2
        assert need == 32 * n_params + activations


def test_bad_l1_values_and_counts(files, capsys):
    d, _, _ = files
    base = ["simplify", d / "net.glassnet", d / "data.csv", "--target", "label", "-q"]
    code, _, err = run(capsys, *base, "--n-regions", "-2")
    assert_one_line_error(code, err, "--n-regions")
    code, _, err = run(capsys, *base, "--method", "l1", "--l1-values", "0,nan")
    assert_one_line_error(code, err, "--l1-values")


# property: whatever text a numeric option gets, the parser either refuses it (exit 2, one
# line) or returns a value inside the documented range
RANGES = {  # option: (command, kind, low, high, low open, high open); oracle for the parser
    "--lr": ("train", float, 0.0, 1.0, True, False),
    "--l1": ("train", float, 0.0, 100.0, False, False),
    "--test-size": ("train", float, 0.0, 1.0, False, True),
    "--epochs": ("train", int, 1, 1_000_000, False, False),
    "--batch-size": ("train", int, 1, 10**8, False, False),
    "--seed": ("train", int, 0, 2**32 - 1, False, False),
    "--top": ("unwrap", int, 1, 1_000_000, False, False),
    "--chunk-size": ("unwrap", int, 0, 10**9, False, False),
    "--stream-above": ("unwrap", float, 0.0, 1e9, False, False),
}
_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["nan", "-inf", "inf", "1e308", "1e-320", "0x10", "", " ", "1_000",
                     "٣", "NaN", "-0", "+5", "1e3"]),
    st.text(max_size=6),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(option=st.sampled_from(sorted(RANGES)), value=_values)
def test_fuzz_numeric_options_parse_or_refuse(option, value):
    import contextlib
    import io

    command, kind, lo, hi, lo_open, hi_open = RANGES[option]
    positional = {"train": ["d.csv", "--target", "y", "--out", "o"],
                  "unwrap": ["m.glassnet", "d.csv"]}[command]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            args = build_parser().parse_args([command, *positional, f"{option}={value}"])
        except SystemExit as exc:
            assert exc.code == 2
            lines = err.getvalue().strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("glassnet: error: argument "), lines
            return
    got = getattr(args, option[2:].replace("-", "_"))
    assert type(got) is kind and np.isfinite(got)
    assert (got > lo) if lo_open else (got >= lo)
    if hi is not None:
        assert (got < hi) if hi_open else (got <= hi)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(top=_values, chunk=_values, above=_values)
def test_fuzz_unwrap_exit_codes(files, capsys, top, chunk, above):
    # the whole command: exit 0 or 2, never 1; an error is exactly one line
    d, _, _ = files
    code, _, err = run(capsys, "unwrap", d / "net.glassnet", d / "data.csv", "--target",
                       "label", "--no-report", "-q", f"--top={top}", f"--chunk-size={chunk}",
                       f"--stream-above={above}")
    assert code in (0, 2), err
    if code == 2:
        assert_one_line_error(code, err)
    else:
        assert err == ""


# ---------------------------------------------------------------------- model files
@pytest.mark.parametrize("suffix,fragment", [
    (".pt", "is not a torch file"), (".pth", "is not a torch file"),
    (".skops", "is not a skops file"), (".joblib", "is a pickle file"),
    (".pkl", "is a pickle file"), (".onnx", "is not an ONNX file"),
    (".glassnet", "not a glassnet file"),
])
def test_csv_renamed_as_model_is_refused(files, capsys, tmp_path, suffix, fragment):
    d, _, _ = files
    fake = tmp_path / f"model{suffix}"
    fake.write_bytes((d / "data.csv").read_bytes())
    code, _, err = run(capsys, "unwrap", fake, d / "data.csv", "--no-report")
    assert_one_line_error(code, err, f"model{suffix}", fragment)
    if suffix in (".joblib", ".pkl"):  # trusted, still not a pickle
        code, _, err = run(capsys, "unwrap", fake, d / "data.csv", "--no-report",
                           "--trust-pickle")
        assert code == 2 and "is not a pickle/joblib file" in err.strip().splitlines()[-1]


@pytest.mark.parametrize("content", [b"", b"\x00" * 100, bytes(range(256)) * 4, b"PK\x03\x04"])
@pytest.mark.parametrize("suffix", [".pt", ".skops", ".onnx", ".glassnet"])
def test_empty_and_binary_junk_model_files(files, capsys, tmp_path, suffix, content):
    d, _, _ = files
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(content)
    code, _, err = run(capsys, "unwrap", junk, d / "data.csv", "--no-report")
    assert_one_line_error(code, err, f"junk{suffix}")


class _RunsCode:
    """Pickles as a call to ``os.system``: loading it would create ``self.marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_crafted_torch_file_cannot_run_code(files, capsys, tmp_path, legacy):
    d, _, _ = files
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save(_RunsCode(marker), path, _use_new_zipfile_serialization=not legacy)
    code, _, err = run(capsys, "unwrap", path, d / "data.csv", "--no-report")
    assert_one_line_error(code, err, "evil.pt", "--trust-pickle")
    assert not marker.exists()  # refused before anything ran


class MyLinear(torch.nn.Linear):
    """A subclass with its own forward: not the built-in layer, whatever its weights."""

    def forward(self, x):
        return 2 * super().forward(x)


def test_torch_file_with_foreign_or_altered_modules(files, capsys, tmp_path):
    d, seq, _ = files
    torch.save(torch.nn.Sequential(MyLinear(3, 1)), tmp_path / "sub.pt")
    code, _, err = run(capsys, "unwrap", tmp_path / "sub.pt", d / "data.csv", "--no-report")
    assert_one_line_error(code, err, "sub.pt", "MyLinear")
    # an allowed class whose instance dict carries a callable 'forward' (another allowed
    # module): torch would run ReLU instead of the affine map, so the file is refused
    altered = torch.nn.Sequential(torch.nn.Linear(3, 3))
    altered[0].__dict__["forward"] = torch.nn.ReLU()
    x = torch.tensor([[-1.0, 2.0, 3.0]])
    assert torch.equal(altered(x), torch.relu(x))  # the alteration changes the computation
    torch.save(altered, tmp_path / "altered.pt")
    code, _, err = run(capsys, "unwrap", tmp_path / "altered.pt", d / "data.csv", "--target",
                       "label", "--no-report")
    assert_one_line_error(code, err, "altered.pt", "'forward'")
    torch.save(seq.state_dict(), tmp_path / "sd.pt")
    code, _, err = run(capsys, "unwrap", tmp_path / "sd.pt", d / "data.csv", "--no-report")
    assert_one_line_error(code, err, "state_dict")


def test_safe_torch_file_loads_without_warning_and_exactly(files, capsys):
    d, seq, X = files
    code, out, err = run(capsys, "unwrap", d / "seq.pt", d / "data.csv", "--target", "label",
                         "--no-report", "-q")
    assert code == 0 and err == ""
    # oracle: torch's own forward pass gives the activation patterns; count distinct ones
    with torch.no_grad():
        h = seq[0](torch.tensor(X, dtype=torch.float32)).numpy()
    n_patterns = len({tuple(row) for row in (h > 0)})
    assert f"{n_patterns} activation regions on 120 rows" in out


def test_pickle_refused_unless_trusted(files, capsys, tmp_path):
    d, _, _ = files
    marker = tmp_path / "ran"
    with open(tmp_path / "evil.joblib", "wb") as fh:
        pickle.dump(_RunsCode(marker), fh)
    code, _, err = run(capsys, "unwrap", tmp_path / "evil.joblib", d / "data.csv")
    assert_one_line_error(code, err, "evil.joblib is a pickle file", "--trust-pickle")
    assert not marker.exists()


def _skops_types_rewritten(src, dst, old, new):
    """Copy a skops zip, replacing ``old`` by ``new`` in its schema (a crafted file)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "schema.json":
                data = data.replace(old.encode(), new.encode())
            zout.writestr(item, data)


def test_skops_only_exact_trusted_types(files, capsys, tmp_path):
    import skops.io as sio
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    d, _, X = files
    y = pd.read_csv(d / "data.csv")["label"].to_numpy()
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0).fit(X, y)
    sio.dump(make_pipeline(StandardScaler(), mlp).fit(X, y), tmp_path / "ok.skops")
    code, out, err = run(capsys, "unwrap", tmp_path / "ok.skops", d / "data.csv", "--target",
                         "label", "--no-report", "-q")
    assert code == 0 and err == "", err
    # a function inside the pipeline: refused, naming it
    sio.dump(make_pipeline(FunctionTransformer(np.exp), mlp), tmp_path / "fn.skops")
    code, _, err = run(capsys, "unwrap", tmp_path / "fn.skops", d / "data.csv", "--no-report")
    assert_one_line_error(code, err, "fn.skops", "FunctionTransformer")
    # a schema edited to name a callable where the scaler was: refused before loading
    _skops_types_rewritten(tmp_path / "ok.skops", tmp_path / "crafted.skops",
                           '"StandardScaler"', '"system"')
    _skops_types_rewritten(tmp_path / "crafted.skops", tmp_path / "crafted2.skops",
                           '"sklearn.preprocessing._data"', '"os"')
    code, _, err = run(capsys, "unwrap", tmp_path / "crafted2.skops", d / "data.csv",
                       "--no-report")
    assert_one_line_error(code, err, "crafted2.skops", "os.system")


# ---------------------------------------------------------------------- outputs (defect 7)
@pytest.mark.parametrize("option", ["--report", "--summary-csv", "--out"])
def test_unwrap_never_overwrites_its_data(files, capsys, tmp_path, option):
    d, _, _ = files
    data = tmp_path / "data.csv"
    data.write_bytes((d / "data.csv").read_bytes())
    before = data.read_bytes()
    code, _, err = run(capsys, "unwrap", d / "net.glassnet", data, option, data)
    assert_one_line_error(code, err, option, "is the input DATA.csv")
    # the same file through a symbolic link and through a hard link (same inode)
    (tmp_path / "link.csv").symlink_to(data)
    os.link(data, tmp_path / "hard.csv")
    for alias in ("link.csv", "hard.csv"):
        code, _, err = run(capsys, "unwrap", d / "net.glassnet", data, option, tmp_path / alias)
        assert_one_line_error(code, err, "is the input DATA.csv")
    assert data.read_bytes() == before


def test_outputs_never_replace_the_model(files, capsys, tmp_path):
    d, _, _ = files
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.glassnet").write_bytes((d / "net.glassnet").read_bytes())
    before = (model_dir / "model.glassnet").read_bytes()
    code, _, err = run(capsys, "unwrap", model_dir, d / "data.csv", "--no-report", "--out",
                       model_dir / "model.glassnet")
    assert_one_line_error(code, err, "is the input MODEL")
    code, _, err = run(capsys, "simplify", model_dir / "model.glassnet", d / "data.csv",
                       "--target", "label", "--out", model_dir / "model.glassnet")
    assert_one_line_error(code, err, "is the input MODEL")
    code, _, err = run(capsys, "unwrap", model_dir, d / "data.csv", "--report",
                       tmp_path / "x.html", "--summary-csv", tmp_path / "x.html")
    assert_one_line_error(code, err, "same file")
    assert (model_dir / "model.glassnet").read_bytes() == before


def test_foreign_files_need_force_glassnet_outputs_do_not(files, capsys, tmp_path):
    from glassnet.cli._common import is_glassnet_output

    d, _, _ = files
    notes = tmp_path / "notes.html"
    notes.write_text("<html><body>my notes</body></html>")
    table = tmp_path / "table.csv"
    table.write_text("x,y\n1,2\n")
    base = ["unwrap", d / "net.glassnet", d / "data.csv", "--target", "label", "-q"]
    code, _, err = run(capsys, *base, "--report", notes)
    assert_one_line_error(code, err, "notes.html", "--force")
    code, _, err = run(capsys, *base, "--no-report", "--summary-csv", table)
    assert_one_line_error(code, err, "table.csv", "--force")
    code, _, err = run(capsys, *base, "--no-report", "--out", table)  # --out over a CSV
    assert_one_line_error(code, err, "table.csv")
    assert "my notes" in notes.read_text() and table.read_text() == "x,y\n1,2\n"
    # what glassnet wrote it replaces freely (twice: the second run finds its own files)
    outs = ["--summary-csv", tmp_path / "s.csv", "--out", tmp_path / "r.glassnet"]
    for _ in range(2):
        code, _, err = run(capsys, *base, "--no-report", *outs)
        assert code == 0, err
    # a report written by glassnet is recognised; a page that is not, is not
    report = tmp_path / "r.html"
    glassnet.Report("a glassnet report").save(report)
    assert is_glassnet_output(report) and not is_glassnet_output(notes)
    # --force replaces a foreign file, never an input
    code, _, err = run(capsys, "--force", *base, "--no-report", "--summary-csv", table)
    assert code == 0 and table.read_text().startswith("region,")
    code, _, err = run(capsys, *base, "--force", "--no-report", "--summary-csv",
                       d / "data.csv")
    assert_one_line_error(code, err, "is the input DATA.csv")


def test_default_report_names_differ_per_command(files, capsys, tmp_path, monkeypatch):
    d, _, _ = files
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "unwrap", d / "net.glassnet", d / "data.csv", "--target",
                         "label", "-q")
    assert code == 0, err
    code, out, err = run(capsys, "simplify", d / "net.glassnet", d / "data.csv", "--target",
                         "label", "--method", "prune", "--n-regions", "2", "-q")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.glob("*.html")) == ["data-prune.html",
                                                               "data-unwrap.html"]
    assert not (tmp_path / "report.html").exists()


def test_train_and_demo_out_must_be_a_directory(files, capsys, tmp_path):
    d, _, _ = files
    code, _, err = run(capsys, "train", d / "data.csv", "--target", "label", "--out",
                       d / "data.csv")
    assert_one_line_error(code, err, "--out is a directory")
    code, _, err = run(capsys, "train", d / "data.csv", "--target", "label", "--out",
                       tmp_path / "o", "--report", d / "data.csv")
    assert_one_line_error(code, err, "is the input DATA.csv")
    code, _, err = run(capsys, "demo", "--out", d / "data.csv")
    assert_one_line_error(code, err, "--out is a directory")


@pytest.mark.parametrize("argv, option", [
    (["unwrap", "{net}", "{data}", "--no-report", "--out", "{dir}"], "--out"),
    (["unwrap", "{net}", "{data}", "--no-report", "--summary-csv", "{dir}"], "--summary-csv"),
    (["simplify", "{net}", "{data}", "--target", "label", "--no-report", "--out", "{dir}"],
     "--out"),
])
def test_a_file_option_given_a_directory_fails_before_any_work(
        files, capsys, tmp_path, monkeypatch, argv, option):
    """``glassnet train --out DIR`` takes a folder; the file options of ``unwrap`` and
    ``simplify`` must refuse one before loading the model, not after the fit."""
    d, _, _ = files
    out_dir = tmp_path / "results"
    out_dir.mkdir()

    def no_work(*args, **kwargs):
        raise AssertionError("the model was loaded before the output path was checked")

    for name in ("glassnet.cli.unwrap", "glassnet.cli.simplify"):
        monkeypatch.setattr(f"{name}.load_model", no_work)
    values = {"net": d / "net.glassnet", "data": d / "data.csv", "dir": out_dir}
    code, _, err = run(capsys, *[a.format(**values) for a in argv])
    example = "summary.csv" if option == "--summary-csv" else "model.glassnet"
    assert_one_line_error(code, err, f"{option} {out_dir} is a directory",
                          str(out_dir / example))
    assert list(out_dir.iterdir()) == []


def test_file_outputs_create_their_folder_as_reports_do(files, capsys, tmp_path):
    d, _, X = files
    base = [d / "net.glassnet", d / "data.csv", "--target", "label", "-q"]
    regions_file = tmp_path / "new" / "deeper" / "regions.glassnet"
    summary_file = tmp_path / "other" / "summary.csv"
    report_file = tmp_path / "reports" / "unwrap.html"
    code, _, err = run(capsys, "unwrap", *base, "--out", regions_file, "--summary-csv",
                       summary_file, "--report", report_file)
    assert code == 0, err
    assert report_file.is_file()
    regions = glassnet.load(regions_file)
    # the saved regions are those of the network on the CSV's rows, by a direct unwrap
    direct = glassnet.unwrap(glassnet.load(d / "net.glassnet"), X)
    assert len(regions) == len(direct)
    assert pd.read_csv(summary_file).shape[0] == len(direct)
    merged_file = tmp_path / "simplified" / "merged.glassnet"
    code, _, err = run(capsys, "simplify", *base, "--n-regions", "2", "--no-report", "--out",
                       merged_file)
    assert code == 0, err
    merger = glassnet.load(merged_file)
    assert merger.n_regions_ == 2


@pytest.mark.parametrize("command", ["unwrap", "simplify", "monitor", "train"])
def test_pdf_never_replaces_an_input_even_with_force(files, capsys, tmp_path, monkeypatch,
                                                     command):
    """``--force --pdf DATA.csv`` printed the report over the data: --pdf is now checked
    with the other outputs, before any work (a spy proves nothing is loaded or trained)."""
    d, _, _ = files
    data = tmp_path / "data.csv"
    data.write_bytes((d / "data.csv").read_bytes())
    before = data.read_bytes()
    (tmp_path / "link.csv").symlink_to(data)

    def no_work(*args, **kwargs):
        raise AssertionError("work started before --pdf was checked")

    for name in ("glassnet.cli.unwrap", "glassnet.cli.simplify", "glassnet.persist"):
        monkeypatch.setattr(f"{name}.load_model", no_work)  # monitor imports it when run
    monkeypatch.setattr("glassnet.cli.train.split", no_work)
    argv = {"unwrap": ["unwrap", d / "net.glassnet", data],
            "simplify": ["simplify", d / "net.glassnet", data, "--target", "label"],
            "monitor": ["monitor", d / "net.glassnet", data, d / "data.csv"],
            "train": ["train", data, "--target", "label", "--out", tmp_path / "o"]}[command]
    label = "REFERENCE.csv" if command == "monitor" else "DATA.csv"
    for target in (data, tmp_path / "link.csv"):
        code, _, err = run(capsys, "--force", *argv, "--report", tmp_path / "r.html",
                           "--pdf", target)
        assert_one_line_error(code, err, "--pdf", f"is the input {label}")
    assert data.read_bytes() == before


def test_pdf_path_is_checked_before_any_work(files, capsys, tmp_path, monkeypatch):
    from glassnet.cli._common import CLIError, check_outputs, pdf_output

    d, _, _ = files
    monkeypatch.setattr("glassnet.cli.unwrap.load_model", lambda *a, **k: pytest.fail("work"))
    folder = tmp_path / "pdfs"
    folder.mkdir()
    base = ["unwrap", d / "net.glassnet", d / "data.csv", "--report", tmp_path / "r.html"]
    code, _, err = run(capsys, *base, "--pdf", folder)
    assert_one_line_error(code, err, f"--pdf {folder} is a directory", str(folder / "report.pdf"))
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    code, _, err = run(capsys, *base, "--pdf", notes)
    assert_one_line_error(code, err, "notes.txt", "--force")
    assert notes.read_text() == "mine"
    # an earlier PDF is replaced without --force, as before; a PDF at --report is not
    old_pdf = tmp_path / "old.pdf"
    old_pdf.write_bytes(b"%PDF-1.4 earlier print")
    check_outputs({}, {"--pdf": old_pdf}, force=False)
    with pytest.raises(CLIError, match="--force"):
        check_outputs({}, {"--report": old_pdf}, force=False)
    # where --pdf goes by default: beside the report, or in the report folder
    class Args:
        pdf = ""

    assert pdf_output(Args, tmp_path / "r.html") == tmp_path / "r.pdf"
    assert pdf_output(Args, folder) == folder / "report.pdf"
    assert pdf_output(Args, None) is None
    Args.pdf = None
    assert pdf_output(Args, tmp_path / "r.html") is None


def test_train_never_writes_provenance_through_a_link_or_over_a_foreign_file(
        files, capsys, tmp_path):
    """``DIR/provenance.json`` was written without the checks the other outputs get: a
    symbolic link there sent the JSON over whatever it pointed to."""
    d, _, _ = files
    out = tmp_path / "o"
    out.mkdir()
    precious = tmp_path / "precious.txt"
    precious.write_text("precious")
    (out / "provenance.json").symlink_to(precious)
    argv = ["train", d / "data.csv", "--target", "label", "--epochs", "2", "--no-report", "-q"]
    code, _, err = run(capsys, *argv, "--out", out)
    assert_one_line_error(code, err, "provenance.json", "not a regular file")
    assert precious.read_text() == "precious" and not (out / "model.glassnet").exists()
    (out / "provenance.json").unlink()
    (out / "provenance.json").write_text('{"mine": 1}')
    code, _, err = run(capsys, *argv, "--out", out)
    assert_one_line_error(code, err, "provenance.json", "--force")
    assert (out / "provenance.json").read_text() == '{"mine": 1}'
    # its own provenance from an earlier run is replaced freely
    (out / "provenance.json").unlink()
    for _ in range(2):
        code, _, err = run(capsys, *argv, "--out", out)
        assert code == 0, err
    assert glassnet.provenance.read_provenance(out)["data"]["rows"] == 120


def test_library_warnings_are_one_glassnet_line(files, capsys, monkeypatch):
    import warnings

    import glassnet.cli.unwrap as unwrap_cmd

    def noisy(args):
        warnings.warn("a library\n  warning over two lines", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(unwrap_cmd, "run", noisy)
    d, _, _ = files
    code, _, err = run(capsys, "unwrap", d / "net.glassnet", d / "data.csv")
    assert code == 0
    assert err == "glassnet: warning: a library warning over two lines\n"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("suffix", [".pt", ".skops", ".glassnet", ".onnx"])
def test_byte_mutated_model_files_exit_2_never_1(files, capsys, tmp_path, suffix):
    # damaged model files: one error line and exit 2 (or a clean load), never an internal
    # error, and never code run (the mutations cannot add globals outside the lists)
    import random

    import skops.io as sio
    from sklearn.neural_network import MLPRegressor

    d, seq, X = files
    src = tmp_path / f"m{suffix}"
    if suffix == ".pt":
        torch.save(seq, src)
    elif suffix == ".skops":
        y = X[:, 0] - X[:, 1]
        sio.dump(MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X, y),
                 src)
    elif suffix == ".onnx":
        from skl2onnx import to_onnx

        y = X[:, 0] - X[:, 1]
        mlp = MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X, y)
        src.write_bytes(to_onnx(mlp, X[:1].astype(np.float32)).SerializeToString())
    else:
        src.write_bytes((d / "net.glassnet").read_bytes())
    data = src.read_bytes()
    rng = random.Random(1)
    codes = []
    for k in range(25):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if k % 5 == 0:  # truncated files too
            mutated = mutated[: rng.randrange(1, len(mutated))]
        path = tmp_path / f"mut{k}{suffix}"
        path.write_bytes(bytes(mutated))
        code, _, err = run(capsys, "unwrap", path, d / "data.csv", "--target", "label",
                           "--no-report", "-q")
        assert code in (0, 2), err
        if code == 2:
            assert_one_line_error(code, err, f"mut{k}{suffix}")
        codes.append(code)
    assert codes.count(2) > 0
