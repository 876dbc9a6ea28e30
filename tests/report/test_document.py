"""The report typeset like a paper: prose mathematics in math mode, structure, bibliography, compilation.

The full report of a reproduce run is checked in ``test_reproduce.py``; here the report of a run whose
steps all failed (prose, key equations, bibliography, no numbers) is checked quickly, and the checker
of plain-text mathematics is shown to catch what it must.
"""

import re
import shutil

import pytest

from asymptotics.report.document import BIBLIOGRAPHY, build_report, math_name
from asymptotics.report.latex import LatexDocument, compile_pdf, plain_text_math

HAS_PDFLATEX = shutil.which("pdflatex") is not None


@pytest.fixture(scope="module")
def empty_run_tex():
    return build_report({"mode": "demo", "steps": {}, "timings": {}}).source()


@pytest.mark.parametrize(
    "text, kind",
    [
        ("inputs x ~ N(0, I_N)", "tilde as 'distributed as'"),
        ("|x|^2/N -> 1", "arrow"),
        ("|x|^2/N", "superscript"),
        ("the fields y_k", "subscript"),
        (r"the fields y\_k", "subscript"),
        (r"alpha\textasciicircum{}(1/3)", "superscript"),
        ("eta >= 6", "comparison"),
        ("step eta/sqrt(N)", "function call"),
    ],
)
def test_checker_catches_plain_text_math(text, kind):
    assert kind in [k for k, _ in plain_text_math(f"Text: {text}.")]


@pytest.mark.parametrize(
    "text",
    [
        r"inputs $x \sim \mathcal{N}(0, I_N)$ and $|x|^2/N \to 1$",
        r"\begin{dmath}y_k = x^2\end{dmath} and \(z_k\) and \[a_b\]",
        r"% a comment with y_k -> 1" "\nplain text",
        r"the step \texttt{k_dependence}, see \ref{sec:peaked_x} and \cite{kuhn2026}",
        r"\includegraphics[width=0.85\textwidth]{sgd_vs_closure.pdf}",
    ],
)
def test_checker_accepts_math_mode_and_code(text):
    assert plain_text_math(text) == []


def test_prose_has_no_plain_text_math(empty_run_tex):
    assert plain_text_math(empty_run_tex) == []


def test_structure_of_a_paper(empty_run_tex):
    tex = empty_run_tex
    assert tex.index(r"\maketitle") < tex.index(r"\begin{abstract}") < tex.index(r"\section{Introduction}")
    sections = re.findall(r"\\section(\*?)\{([^}]*)\}", tex)
    assert all(star == "" for star, _ in sections)  # numbered
    titles = [t for _, t in sections]
    assert "The boundary-layer mechanism" in titles and "Peaked distributions" in titles
    assert r"\usepackage{booktabs}" in tex
    cited = {key for keys in re.findall(r"\\cite\{([^}]*)\}", tex) for key in keys.split(",")}
    items = set(re.findall(r"\\bibitem\{([^}]*)\}", tex))
    assert cited and cited <= items == set(BIBLIOGRAPHY)
    assert "arXiv:2605.22341" in tex and "arXiv:2602.03685" in tex
    assert r"\ref{sec:peaked}" in tex and r"\label{sec:peaked}" in tex


def test_unavailable_steps_are_said(empty_run_tex):
    assert r"unavailable in this run (\texttt{closure}: \texttt{not run})" in empty_run_tex
    assert r"Figure \texttt{sgd\_vs\_closure}: \texttt{not produced}." in empty_run_tex


@pytest.mark.parametrize(
    "name, latex",
    [
        ("eps_g", r"$\varepsilon_g$"),
        ("Delta_star", r"$\Delta^*$"),
        ("D_a2", r"$a_{2}[D]$"),
        ("loss_a3_C", r"$a_{3}^{C}[L]$"),
        ("eps_g_terms4_alpha1e+05", r"$\varepsilon_g$, $4$ terms, $\alpha = 1\times 10^{5}$"),
        ("unknown_name", r"\texttt{unknown\_name}"),
    ],
)
def test_math_name(name, latex):
    assert math_name(name) == latex


def test_document_abstract_and_bibliography():
    doc = LatexDocument("t")
    doc.abstract = r"A law $y \propto x^{-1/3}$."
    doc.section(r"On $K$", raw=True, label="sec:k")
    doc.bibliography({"a2020": "A. Author. Title. 2020."})
    src = doc.source()
    assert "\\begin{abstract}\nA law $y \\propto x^{-1/3}$.\n\\end{abstract}" in src
    assert r"\section{On $K$}\label{sec:k}" in src
    assert (
        "\\begin{thebibliography}{1}\n\\bibitem{a2020} A. Author. Title. 2020.\n\\end{thebibliography}"
    ) in src


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex not installed")
def test_empty_run_report_compiles(empty_run_tex, tmp_path):
    tex = tmp_path / "report.tex"
    tex.write_text(empty_run_tex)
    pdf = compile_pdf(tex)
    assert pdf.read_bytes()[:4] == b"%PDF"
    log = tex.with_suffix(".log").read_text(errors="replace")
    assert not re.search(r"Citation .* undefined", log)  # every \cite resolved
