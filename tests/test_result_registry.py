"""The one registry of typed results (hatespeech.result_registry): every result class is in it, and reading
a whole build's results back, with their findings, tables and the report's first page, imports no torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import make_fake_metrics
import pytest
from hatespeech import result_registry
from hatespeech.results import Result


def _subclasses(cls: type) -> set[type]:
    return {sub for child in cls.__subclasses__() for sub in (child, *_subclasses(child))}


def test_every_result_class_is_registered_once():
    import hatespeech.anticipation.continuation_result
    import hatespeech.anticipation.results
    import hatespeech.dualhead.results
    import hatespeech.functional.results  # noqa: F401

    registered = result_registry.ALL_RESULTS
    assert len(set(registered)) == len(registered)
    defined = {cls for cls in _subclasses(Result) if cls.__module__.startswith("hatespeech.")}
    assert defined == set(registered)
    assert {result_registry.writer(cls) for cls in result_registry.NOTEBOOK_RESULTS} == {
        "01", "02", "03", "04", "05", "06", "07",
    }  # fmt: skip


@pytest.mark.slow
def test_reading_a_build_needs_no_torch(tmp_path):
    make_fake_metrics.write(tmp_path, with_figures=False)
    script = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from hatespeech import report
        from hatespeech.config import get_profile
        from hatespeech.result_registry import NOTEBOOK_RESULTS, read_results

        reports = Path({str(tmp_path)!r})
        results = read_results(reports)
        missing = [cls.__name__ for cls in NOTEBOOK_RESULTS if cls not in results and cls.FILE != "data.json"]
        assert not missing, missing
        for result in results.values():
            assert result.findings() and result.tables() is not None
        assert report.page_one_html(get_profile("smoke"), reports=reports)
        heavy = sorted(m for m in ("torch", "transformers", "datasets") if m in sys.modules)
        print("HEAVY", heavy)
        """
    )
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "HEAVY []" in done.stdout, done.stdout
