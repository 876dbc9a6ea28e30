"""``asymptotics sparse``: the JSON contract, digits, series pairs, simulation keys, text output and
PNG, room for sub-subcommands, and one-line errors for bad input."""

import json
import math
import sys
import types

import mpmath
import pytest

from asymptotics import cli as top
from asymptotics.sparse import cli as sparse_cli
from asymptotics.sparse.expectations import missing_signal, seen_expected
from asymptotics.sparse.model import SparseModel

CORE = ["sparse", "--s", "2", "--a", "0.5", "--D", "1000,10000", "--N", "50,100,400"]


def _main(argv, capsys):
    code = top.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_contract_floats(capsys):
    code, out, _err = _main(CORE + ["--json"], capsys)
    assert code == 0
    obj = json.loads(out)
    for key in (
        "s",
        "a",
        "D",
        "N",
        "seen_expected",
        "missing_signal",
        "unseen_mass",
        "loss",
        "peak_N",
        "exponent_under",
        "exponent_over",
        "exponent_gap",
    ):
        assert key in obj, key
    assert obj["D"] == [1000, 10000] and obj["N"] == [50, 100, 400]
    assert "stand-in model" in obj["model"] and "2605.23591" in obj["model"]
    assert len(obj["loss"]) == 2 and all(len(r) == 3 for r in obj["loss"])
    assert all(isinstance(v, float) for v in obj["seen_expected"])
    assert abs(obj["seen_expected"][0] - float(seen_expected(SparseModel(2.0, 0.5), 1000)[0])) < 1e-12
    assert obj["exponent_under"] == -0.5 and obj["exponent_over"] == -0.25 and obj["exponent_gap"] == 0.25
    assert all(isinstance(p, int) for p in obj["peak_N"])
    # the peak sits at the seen count, not at N = D
    assert abs(obj["peak_N"][0] / obj["seen_expected"][0] - 1) < 0.05
    assert "nan" not in out.lower() and "infinity" not in out.lower() and "null" not in out


def test_json_digits_and_series(capsys):
    _code, out, _err = _main(
        [
            "sparse",
            "--s",
            "2",
            "--a",
            "0.5",
            "--D",
            "1000",
            "--N",
            "100",
            "--digits",
            "30",
            "--order",
            "3",
            "--json",
        ],
        capsys,
    )
    obj = json.loads(out)
    v = obj["missing_signal"][0]
    assert isinstance(v, str) and len(v.replace(".", "").lstrip("0")) >= 30
    ref = missing_signal(SparseModel(2.0, 0.5), 1000, digits=40, route="euler-maclaurin")[0]
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(v) - ref) < mpmath.mpf("1e-29")
    for name in ("seen_expected", "missing_signal", "unseen_mass"):
        pairs = obj["series"][name]
        assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    c, p = obj["series"]["seen_expected"][0]
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(c) - mpmath.sqrt(mpmath.pi)) < mpmath.mpf("1e-28")  # Gamma(1/2)
        assert mpmath.mpf(p) == mpmath.mpf("0.5")


def test_json_simulate(capsys):
    _code, out, _err = _main(
        [
            "sparse",
            "--s",
            "2",
            "--a",
            "0.5",
            "--D",
            "300",
            "--N",
            "5,40,200",
            "--simulate",
            "--seeds",
            "16",
            "--json",
        ],
        capsys,
    )
    obj = json.loads(out)
    assert len(obj["simulated_loss"]) == 1 and len(obj["simulated_loss"][0]) == 3
    assert len(obj["simulated_loss_se"][0]) == 3 and all(v > 0 for v in obj["simulated_loss_se"][0])
    # deep over-parameterised point: theory within 5 % + 3 SE
    assert (
        abs(obj["simulated_loss"][0][2] - obj["loss"][0][2])
        < 0.05 * obj["loss"][0][2] + 3 * obj["simulated_loss_se"][0][2]
    )


def test_text_and_png(capsys, tmp_path):
    png = tmp_path / "s.png"
    code, out, _err = _main(
        [
            "sparse",
            "--s",
            "1.5",
            "--a",
            "1",
            "--D",
            "400",
            "--N",
            "20,140,600",
            "--plot",
            str(png),
            "--quiet",
        ],
        capsys,
    )
    assert code == 0 and png.exists() and png.stat().st_size > 0
    assert "stand-in model" in out and "threshold" in out and "median" in out


def test_finite_M(capsys):
    _code, out, _err = _main(
        ["sparse", "--s", "2", "--a", "0.5", "--D", "1000", "--N", "10", "--M", "50", "--json"], capsys
    )
    obj = json.loads(out)
    assert obj["M"] == 50 and obj["seen_expected"][0] <= 50


def test_sub_subcommands_can_be_added(monkeypatch, capsys):
    """A module registered in SPARSE_SUBCOMMANDS adds `asymptotics sparse <name> ...`; the core form
    `asymptotics sparse --s ...` keeps working."""
    mod = types.ModuleType("fake_sparse_frontier")

    def register(sub):
        p = sub.add_parser("frontier")
        p.add_argument("--C", required=True)
        p.set_defaults(handler=lambda args: print(json.dumps({"C": args.C})) or 0)
        return p

    mod.register = register
    monkeypatch.setitem(sys.modules, "fake_sparse_frontier", mod)
    monkeypatch.setattr(sparse_cli, "SPARSE_SUBCOMMANDS", ("fake_sparse_frontier",))
    code, out, _err = _main(["sparse", "frontier", "--C", "1e4"], capsys)
    assert code == 0 and json.loads(out) == {"C": "1e4"}
    code, out, _err = _main(["sparse", "--s", "2", "--a", "0.5", "--D", "100", "--N", "5", "--json"], capsys)
    assert code == 0 and json.loads(out)["D"] == [100]


@pytest.mark.parametrize(
    "argv",
    [
        ["--s", "1", "--a", "0.5", "--D", "100", "--N", "5"],
        ["--s", "2", "--a", "0", "--D", "100", "--N", "5"],
        ["--s", "2", "--a", "-1", "--D", "100", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "0", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "2.5", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "100", "--N", "1.5"],
        ["--s", "2", "--a", "0.5", "--D", "100", "--N", "0"],
        ["--s", "2", "--a", "0.5", "--D", "100", "--N", "5", "--digits", "3"],
        ["--s", "nan", "--a", "0.5", "--D", "100", "--N", "5"],
        ["--s", "2", "--a", "inf", "--D", "100", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "inf", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "100,x", "--N", "5"],
        ["--s", "2", "--a", "0.5", "--D", "100"],
        ["--s", "2", "--a", "0.5", "--D", "100", "--N", "5", "--order", "0"],
        ["--s", "2", "--a", "0.5", "--D", "10000000", "--N", "5", "--simulate"],
        ["--s", "2", "--a", "0.5", "--D", "100", "--N", "5", "--M", "2.5"],
    ],
)
def test_bad_input_one_line_error(argv, capsys):
    code, out, err = _main(["sparse"] + argv + ["--json"], capsys)
    assert code != 0
    assert out == ""
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err


def test_help_is_light():
    """The module imports nothing heavy at top level (asymptotics --help must start fast)."""
    import subprocess

    code = (
        "import sys, asymptotics.sparse.cli; "
        "bad = [m for m in ('numpy', 'scipy', 'sympy', 'mpmath') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert math.isfinite(1.0)
