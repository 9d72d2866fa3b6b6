"""``python -m hatespeech.publish`` (behind ./run_all.sh): arguments, the default profile, SIGTERM handling
and the exit status."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from .. import paths
from ..config import PROFILES
from ..runtime import default_profile_name
from .builder import build
from .notebooks import NOTEBOOKS_DIR, BuildError
from .staging import FAILED_DIR_NAME


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_all.sh",
        description="Run notebooks/NN_*.ipynb in order with papermill and publish reports/ "
        "(HTML per notebook, report.html, report.pdf, figures, metrics) only when every step succeeded.",
    )
    parser.add_argument(
        "--profile",
        choices=tuple(PROFILES),
        default=None,
        help="default: gpu when CUDA is available, else cpu",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--only",
        metavar="NN,NN",
        help="run only these notebooks (e.g. 01,03); the report "
        "notebook still runs last; the rest of the current report is kept",
    )
    group.add_argument("--from", dest="start", metavar="NN", help="run this notebook and the ones after it")
    parser.add_argument(
        "--no-report",
        dest="include_report",
        action="store_false",
        help="do not add the report notebook to an --only/--from run",
    )
    parser.add_argument(
        "--pdf",
        choices=("auto", "require", "skip"),
        default="auto",
        help="auto (default): the PDF is required for every profile but smoke",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="publish even when a metrics JSON lacks its expected keys",
    )
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    parser.add_argument(
        "--reports-dir", type=Path, default=None, help=f"default: ${paths.REPORTS_DIR_ENV} or ./reports"
    )
    return parser.parse_args(argv)


def _raise_interrupt(signum, frame):  # SIGTERM: unwind like Ctrl-C so the staging folder is set aside
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = args.profile or default_profile_name()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        build(
            profile,
            notebooks_dir=args.notebooks_dir,
            reports_dir=args.reports_dir,
            only=args.only,
            start=args.start,
            include_report=args.include_report,
            pdf=args.pdf,
            check=args.check,
            progress=sys.stderr.isatty(),
            log=lambda msg: print(msg, flush=True),
        )
    except BuildError as error:  # NotebookFailed included
        print(f"\nFAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(
            "\nINTERRUPTED: the previous report was left as it was; the partial build is in "
            f"{FAILED_DIR_NAME}/ of the reports folder",
            file=sys.stderr,
            flush=True,
        )
        return 130
    return 0
