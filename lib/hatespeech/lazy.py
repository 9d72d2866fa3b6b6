"""Package re-exports that load their module on first use (PEP 562), so that ``import
hatespeech.anticipation.results`` (reading a result) does not import the package's training code, and with it
torch, just because the package's ``__init__`` re-exports it for the notebooks. Written by hand because the
standard library offers the hook (module ``__getattr__``), not a helper that fills it."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def lazy_exports(
    package: str, modules: dict[str, tuple[str, ...]]
) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """``(__all__, __getattr__, __dir__)`` for ``package``, whose names live in ``modules``: a relative module
    name (``".phase1"``, ``"..references"``) mapped to the names it provides."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name], package), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return sorted(where), __getattr__, __dir__
