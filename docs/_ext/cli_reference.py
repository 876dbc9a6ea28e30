"""Sphinx directive ``.. asymptotics-cli::``: the command-line reference, generated from argparse.

The directive calls :func:`asymptotics.cli.build_parser` (the parser the ``asymptotics`` command
uses) and writes one section per subcommand, in the order of ``asymptotics --help``: its one-line
help and the exact text that ``asymptotics COMMAND --help`` prints.  A subcommand added to
``asymptotics.cli.SUBCOMMAND_MODULES`` therefore appears here without editing the documentation.
"""

from __future__ import annotations

import argparse
import os
from contextlib import contextmanager

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HELP_WIDTH = "100"


@contextmanager
def _columns(width: str):
    """argparse wraps help at ``$COLUMNS``: fix it so that the reference does not depend on the terminal."""
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = width
    try:
        yield
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line help, parser)`` of every subcommand of ``parser``, in registration order."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out.append((name, helps.get(name, ""), sub))
    return out


class AsymptoticsCli(SphinxDirective):
    """Insert the generated command-line reference (no arguments, no options)."""

    has_content = False

    def _section(self, title: str, ident: str) -> nodes.section:
        section = nodes.section(ids=[ident], names=[ident])
        section += nodes.title(text=title)
        self.state.document.note_explicit_target(section)
        return section

    def run(self):
        from asymptotics.cli import build_parser

        with _columns(HELP_WIDTH):
            parser = build_parser()
            top = self._section("asymptotics", "cli-asymptotics")
            top += nodes.literal_block(text=parser.format_help(), language="none")
            sections = [top]
            for name, help_text, sub in subcommands(parser):
                section = self._section(f"asymptotics {name}", f"cli-{name}")
                if help_text:
                    section += nodes.paragraph(text=help_text[0].upper() + help_text[1:] + ".")
                section += nodes.literal_block(text=sub.format_help(), language="none")
                sections.append(section)
        return sections


def setup(app):
    app.add_directive("asymptotics-cli", AsymptoticsCli)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
