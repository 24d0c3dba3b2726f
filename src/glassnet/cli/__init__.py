"""The ``glassnet`` command line.

Commands (``glassnet COMMAND --help`` for the options of each)::

    glassnet demo [--out DIR]                 the whole pipeline on CoCircles, no arguments
    glassnet train DATA.csv --target y --out DIR
    glassnet unwrap MODEL DATA.csv [--target y] [--report report.html] [--chunk-size N]
    glassnet simplify MODEL DATA.csv --target y --method merge|prune|l1|mlm [--report ...]

MODEL is a glassnet file (``glassnet.save``, or a directory written by ``glassnet train``),
an ONNX file, a torch ``nn.Sequential`` saved whole with ``torch.save`` (``.pt``/``.pth``),
or a scikit-learn MLP saved with skops (``.skops``) or joblib/pickle (``.joblib``,
``.pkl``). Pickle-based files (torch, joblib) execute code when loaded: a warning says so.

Each command is a module ``glassnet.cli.NAME`` (``demo``, ``train``, ``unwrap``,
``simplify``, ...) listed in ``_COMMAND_MODULES``; what they share is in
``glassnet.cli._common``.

``glassnet unwrap`` streams the CSV in chunks (memory independent of the number of rows)
with ``--chunk-size N``, or by itself for files above ``--stream-above`` MB (default 256).

Exit codes: 0 success, 2 bad input (the error is one line on stderr, ``--debug`` prints
the traceback), 1 an unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from typing import NoReturn

from glassnet.cli._common import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, CLIError, one_line

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "CLIError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the command's help, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"glassnet: error: {message} (see '{self.prog} --help')\n")

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> object:
        # argparse drops a "--" value (``--top=--``) and hands the option an empty list
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, "
                       "got '--'")
        return super()._get_values(action, arg_strings)


def build_parser() -> argparse.ArgumentParser:
    """The ``glassnet`` parser with every command of ``_COMMAND_MODULES``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the full traceback on errors")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars")
    common.add_argument("--force", action="store_true", default=argparse.SUPPRESS,
                        help="replace existing output files that glassnet did not write "
                        "(inputs are never overwritten)")
    parser = _Parser(
        prog="glassnet",
        description="Deep ReLU networks as exact local linear models: unwrap a network into "
        "its activation regions, simplify it, and write an HTML report.",
        epilog="Run 'glassnet COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--debug", action="store_true", help="print the full traceback on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--force", action="store_true",
                        help="replace existing output files that glassnet did not write")
    parser.add_argument("--version", action="version", version=f"glassnet {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"glassnet.cli.{name}").add_parser(sub, common)
    return parser


# Commands that live in their own module ``glassnet.cli.NAME``: each defines
# ``add_parser(sub, common)``, which adds its sub-parser (``parents=[common]``) and sets
# ``func`` to a ``run(args) -> int`` function.
_COMMAND_MODULES: tuple[str, ...] = ("demo", "train", "unwrap", "simplify", "diagnose",
                                       "monitor", "explain")


def _one_line_warning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, file: object = None, line: str | None = None) -> None:
    print(f"glassnet: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _version() -> str:
    from glassnet import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    args._argv = list(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    debug = getattr(args, "debug", False)
    args.quiet = getattr(args, "quiet", False)
    try:
        with warnings.catch_warnings():
            # library warnings (sklearn, torch, numpy) as one glassnet line each, not the
            # multi-line "file:line: Category: message" form
            warnings.showwarning = _one_line_warning
            return int(args.func(args))
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``glassnet ... | head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INTERNAL
    except (CLIError, ValueError, TypeError, OSError, KeyError) as exc:
        if debug:
            traceback.print_exc()
        print(f"glassnet: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # an internal error: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(
            f"glassnet: error: unexpected {type(exc).__name__}: {one_line(exc)} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
