"""The top-level command: every subcommand is registered, help works, errors are one line."""

import subprocess
import sys

import pytest

from asymptotics.cli import SUBCOMMAND_MODULES, build_parser

SUBCOMMANDS = ("curve", "simulate", "expand", "exponents", "peaked", "reproduce")


def test_every_subcommand_module_registers():
    parser = build_parser()
    actions = [a for a in parser._actions if a.dest == "command"]
    names = set(actions[0].choices)
    assert set(SUBCOMMANDS) <= names
    assert len(SUBCOMMAND_MODULES) >= 6


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["simulate", "--K", "1"], "--K: must be an integer"),
        (["simulate", "--eta", "-1"], "eta"),
        (["expand", "--K", "1"], "--K: must be an integer"),
        (["expand", "--eta", "0"], "eta"),
        (["exponents", "--K", "1"], "--K: must be an integer"),
        (["peaked", "--n", "1", "--beta-star", "10"], "n"),
        (["peaked", "--n", "128"], "required"),
        (["curve", "--K", "three"], "--K: must be an integer"),
    ],
)
def test_subcommands_reject_bad_input_with_one_line(args, fragment):
    result = subprocess.run([sys.executable, "-m", "asymptotics.cli", *args], capture_output=True, text=True)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in lines[0]


def test_no_command_prints_help():
    result = subprocess.run([sys.executable, "-m", "asymptotics.cli"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "curve" in result.stdout
