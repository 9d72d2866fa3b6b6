"""Shared fixtures. Tests never touch the real reports/ or artifacts/: both go to a temp dir per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _isolated_outputs(tmp_path_factory):
    # Keep the repo's reports/ clean; share one artifacts dir so the dequantized SmolLM2 is made once.
    reports = tmp_path_factory.mktemp("reports")
    old = {k: os.environ.get(k) for k in ("HATESPEECH_REPORTS_DIR",)}
    os.environ["HATESPEECH_REPORTS_DIR"] = str(reports)
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def pytest_configure(config):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
