"""Every bad or extreme input of the command line ends in one ``error:`` line, fast, leaving no files.

The cases are the ones a new user reached tracebacks, hangs, wrong numbers or leftovers with: they
must now exit non-zero with exactly one line on stderr starting with ``error:``, within a few seconds,
and write nothing (the tests run in an empty folder and check it stays empty).  Valid outputs never
contain NaN, Infinity or null for a number.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest

CASES = [
    ["curve", "--K", "3", "--Delta0", "1e8", "--alpha", "0", "--json"],
    ["exponents", "--model", "reduced", "--alpha-max", "1e300", "--json"],
    ["expand", "--digits", "150"],
    ["expand", "--digits", "10000"],
    ["curve", "--out", "/proc/version", "--alpha", "1"],
    ["curve", "--out", "/proc/forbidden/x", "--alpha", "1"],
    ["simulate", "--out", "/proc/version", "--alpha-max", "1", "--N", "50", "--seeds", "2"],
    ["exponents", "--plot", "/proc/version/x.png", "--model", "reduced", "--alpha-max", "1e6"],
    ["expand", "--latex", "/proc/version/x.tex", "--order", "0"],
    ["peaked", "--n", "8", "--beta-star", "10", "--plot", "/proc/version/p.png"],
    ["reproduce", "--quick", "--out", "/proc/version"],
    ["exponents", "--fit-from", "-1"],
    ["exponents", "--fit-from", "0"],
    ["exponents", "--fit-from", "nan"],
    ["exponents", "--model", "reduced", "--alpha-max", "1e6", "--fit-from", "1e9"],
    ["curve", "--eta", "1e-100"],
    ["curve", "--eta", "1e-300"],
    ["curve", "--D0", "1e308", "--alpha", "1"],
    ["curve", "--Delta0", "1e308", "--alpha", "1"],
    ["expand", "--eta", "1e300"],
    ["expand", "--eta", "1e-300"],
    ["expand", "--eta", "1e6"],
    ["expand", "--eta", "1e-8"],
    ["simulate", "--K", "100000", "--N", "100000"],
    ["simulate", "--N", "1000000000"],
    ["simulate", "--alpha-max", "1e18"],
    ["simulate", "--seeds", "1000000"],
    ["simulate", "--N", "100000", "--alpha-max", "1e7", "--seeds", "2"],
    ["curve", "--points-per-decade", "10000000"],
    ["curve", "--alpha-max", "1e300"],
    ["curve", "--K", "5", "--eta", "1e-10"],
    ["latex", "closure_D", "--K", "100000"],
    ["curve", "--schedule", "power:beta=0.5,beta=0.7", "--alpha", "1"],
    ["curve", "--schedule", "", "--alpha", "1"],
    ["curve", "--eta", "100", "--alpha", "1,100"],
    ["curve", "--alpha", "1,inf"],
    ["curve", "--alpha", "1,,2"],
    ["simulate", "--eta", "1e300"],
    ["peaked", "--n", "8", "--beta-star", "1e300"],
    ["peaked", "--n", "1000000", "--beta-star", "10"],
    ["latex", "no_such_equation"],
]


def run(args, cwd, timeout=60):
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "asymptotics", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )
    return result, time.perf_counter() - start


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c)[:60] for c in CASES])
def test_one_line_error_fast_and_nothing_written(args, tmp_path):
    result, seconds = run(args, tmp_path)
    assert result.returncode != 0, result.stdout[:300]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert seconds < 30, f"took {seconds:.1f} s"
    assert list(tmp_path.iterdir()) == []


def test_closed_stdout_is_not_a_traceback(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "asymptotics", "latex", "--list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err and "BrokenPipe" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["curve", "--K", "2", "--Delta0", "1e4", "--alpha", "0", "--json"],
        ["curve", "--K", "2", "--eta", "0.5", "--alpha", "1,10", "--json"],
        ["peaked", "--n", "8", "--beta-star", "50", "--json"],
        ["exponents", "--K", "2", "--model", "reduced", "--alpha-max", "1e6", "--json"],
    ],
)
def test_json_is_strict_and_writes_nothing(args, tmp_path):
    result, _ = run(args, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-finite constant {c}"))

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                assert v is not None, "null inside a list of numbers"
                walk(v)

    walk(data)
    assert list(tmp_path.iterdir()) == []


def test_k2_large_delta_is_the_right_number(tmp_path):
    """D = 0, Delta = 1e4: eps_g = 1/2 and L = E log(1 + e^{-s}), s ~ N(0, 2 Delta) ~ sqrt(Delta/pi)."""
    result, _ = run(["curve", "--K", "2", "--Delta0", "1e4", "--alpha", "0", "--json"], tmp_path)
    data = json.loads(result.stdout)
    assert data["eps_g"][0] == pytest.approx(0.5, abs=1e-12)
    # E softplus(-s) = sigma/sqrt(2 pi) + 2 p_s(0) int_0^inf log(1 + e^-u) du + O(sigma^-3)
    sigma = math.sqrt(2e4)
    expected = sigma / math.sqrt(2 * math.pi) + 2 / (sigma * math.sqrt(2 * math.pi)) * math.pi**2 / 12
    assert data["loss"][0] == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize(
    "command", [[], ["curve"], ["simulate"], ["expand"], ["exponents"], ["peaked"], ["reproduce"], ["latex"]]
)
def test_help_is_fast(command, tmp_path):
    best = min(run([*command, "--help"], tmp_path)[1] for _ in range(3))
    assert best < 0.5, f"{' '.join(command)} --help took {best:.2f} s"


def test_every_subcommand_has_a_description():
    from asymptotics.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, name


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs a /proc file system")
def test_output_folder_probe_refuses_a_virtual_file_system_before_work():
    # os.access answers yes for root on /proc; the probe must still refuse it up front
    from asymptotics.cli_support import check_output_dir
    from asymptotics.validation import InvalidInputError

    with pytest.raises(InvalidInputError, match="cannot create files in /proc|is not writable"):
        check_output_dir("/proc/x")
    with pytest.raises(InvalidInputError, match="cannot create files in /proc|is not writable"):
        check_output_dir("/proc/a/b", "--cache")
