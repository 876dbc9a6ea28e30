"""LatexDocument, escape_text and compile_pdf on a tiny document; document.format_number."""

import shutil

import pytest

from asymptotics.report.document import ascii_text, format_number
from asymptotics.report.latex import LatexDocument, compile_pdf, escape_text

HAS_PDFLATEX = shutil.which("pdflatex") is not None


def test_escape_text_special_characters():
    assert escape_text("a_b & 5% $x$ #1 {y} ~ ^") == (
        r"a\_b \& 5\% \$x\$ \#1 \{y\} \textasciitilde{} \textasciicircum{}"
    )


def test_ascii_text_replaces_unicode():
    assert ascii_text("⟨p_k⟩ → α") == r"<p\_k> -> alpha"


def _tiny():
    doc = LatexDocument("Tiny & small")
    doc.section("Closure")
    doc.text("eps_g decays like alpha^(-1/3).")
    doc.equation(r"\frac{dD}{d\alpha} = \frac{\eta}{K - 1} \left\langle \sum_{k=1}^{K} p_{k} \right\rangle")
    doc.table(["K", "value"], [["2", "$0.5$"], ["3", "$0.25$"]], caption="a_table")
    return doc


def test_source_structure():
    src = _tiny().source()
    assert src.startswith(r"\documentclass[11pt]{article}")
    assert r"\usepackage{breqn}" in src
    assert r"\title{Tiny \& small}" in src
    assert "\\begin{dmath}\n\\frac{dD}{d\\alpha}" in src
    assert r"\caption{a\_table}" in src
    assert src.rstrip().endswith(r"\end{document}")


def test_equation_not_breakable_uses_equation_env():
    doc = LatexDocument("t")
    doc.equation("x = 1", label="eq:x", breakable=False)
    assert doc.parts[-1] == "\\begin{equation}\\label{eq:x}\nx = 1\n\\end{equation}"


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex not installed")
def test_compile_pdf_tiny_document(tmp_path):
    tex = _tiny().write(tmp_path / "tiny.tex")
    pdf = compile_pdf(tex, runs=1)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.skipif(not HAS_PDFLATEX, reason="pdflatex not installed")
def test_compile_pdf_reports_errors(tmp_path):
    doc = LatexDocument("broken")
    doc.text(r"\undefinedcommandxyz", raw=True)
    tex = doc.write(tmp_path / "broken.tex")
    with pytest.raises(RuntimeError, match="pdflatex failed"):
        compile_pdf(tex, runs=1)


def test_compile_pdf_without_pdflatex(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    tex = _tiny().write(tmp_path / "t.tex")
    with pytest.raises(RuntimeError, match="pdflatex not found"):
        compile_pdf(tex)


@pytest.mark.parametrize(
    "value, text",
    [
        ("0.25291809676031082792", "0.25291809676031082792"),
        (0.12345678, "0.12345678"),
        (1.5e-07, r"1.5\times 10^{-7}"),
        ("1.0e-5", r"1.0\times 10^{-5}"),
        (100000.0, "100000"),
        (3, "3"),
        (None, "--"),
        (True, "yes"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text
