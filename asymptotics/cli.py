"""The ``asymptotics`` command line.

Each subcommand lives next to the code it drives and exposes ``register(subparsers)``; this module
only collects them, parses the arguments and turns library errors into one-line messages::

    asymptotics curve --K 3 --eta 1 --alpha-max 1e6      exact closure learning curve
    asymptotics simulate --K 3 --eta 1 --N 1000          finite-N online SGD, overlaid on the closure
    asymptotics expand --K 3 --eta 1 --order 3           boundary-layer expansion and late-time series
    asymptotics exponents --K 3 --eta 1                  effective-exponent table, extrapolated exponents
    asymptotics peaked --n 128 --beta-star 100           peaked-distribution mechanism
    asymptotics reproduce --quick                        everything: figures, results, LaTeX report
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

from asymptotics import __version__
from asymptotics.validation import IntegrationError, InvalidInputError

#: modules providing ``register(subparsers)``, in the order they appear in ``--help``
SUBCOMMAND_MODULES = (
    "asymptotics.dynamics.curve_cli",
    "asymptotics.dynamics.sgd_cli",
    "asymptotics.asymptotic.cli",
    "asymptotics.analysis.cli",
    "asymptotics.peaked.cli",
    "asymptotics.sparse.cli",
    "asymptotics.losses.cli",
    "asymptotics.report.cli",
    "asymptotics.sweep.cli",
)


class OneLineErrorParser(argparse.ArgumentParser):
    """Argument errors as one line (``error: ...``, exit code 2) instead of usage plus message."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="asymptotics",
        description="Derive, evaluate and validate learning-curve asymptotics "
        "(online softmax teacher-student, peaked distributions).",
    )
    parser.add_argument("--version", action="version", version=f"asymptotics {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineErrorParser)
    for name in SUBCOMMAND_MODULES:
        _import_subcommand(name).register(subparsers)
    return parser


def _import_subcommand(name: str):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:  # a broken install, not a user error: say which piece is missing
        raise SystemExit(f"error: the subcommand module {name} cannot be imported ({exc})") from None


def main(argv=None) -> int:
    """Parse ``argv``, run the subcommand and turn every failure into one ``error:`` line.

    Exit codes: 0 success, 2 bad input or a computation that cannot be completed (the message says
    where and why), 1 an unexpected internal error (reported in one line, never a traceback),
    130 interrupted.  Warnings are not printed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parser = build_parser()
            try:
                args = parser.parse_args(argv)
            except SystemExit as exc:  # --help, --version, or an argument error already printed
                return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
            if getattr(args, "handler", None) is None:
                parser.print_help()
                return 2
            return int(args.handler(args) or 0)
        except (InvalidInputError, IntegrationError) as exc:
            return _fail(str(exc), 2)
        except MemoryError:
            return _fail(
                "out of memory: reduce the problem size (see the command's --help for its limits)", 2
            )
        except BrokenPipeError:
            _silence_stdout()
            return 1
        except OSError as exc:
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            return _fail(f"cannot write{where}: {exc.strerror or exc}", 2)
        except KeyboardInterrupt:
            return _fail("interrupted", 130)
        except SystemExit:
            raise
        except Exception as exc:  # noqa: BLE001 -- a last line of defence: one line, no traceback
            text = " ".join(str(exc).split()) or "no message"
            return _fail(f"internal error ({type(exc).__name__}): {text}", 1)


def _fail(message: str, code: int) -> int:
    try:
        print(f"error: {message}", file=sys.stderr)
    except (OSError, ValueError):
        pass
    return code


def _silence_stdout() -> None:
    """After a closed pipe (``... | head``) send the rest of stdout to /dev/null, so that Python's
    final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
