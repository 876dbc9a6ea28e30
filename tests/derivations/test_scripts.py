"""The scripts in ``derivations/`` stay in step with the library: each one imports, and the closure
derivation runs end to end (K = 2) and writes its LaTeX and JSON."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "derivations").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_imports(script):
    namespace = runpy.run_path(str(script), run_name="derivation_under_test")
    assert callable(namespace.get("main")), f"{script.name} has no main()"


def test_closure_script_writes_derivation(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "derivations" / "closure.py"), "--K", "2",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    tex = (tmp_path / "closure.tex").read_text()
    assert r"\frac{dD}{d\alpha}" in tex
    data = json.loads((tmp_path / "closure.json").read_text())
    assert data
