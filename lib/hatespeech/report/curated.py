"""The curated tables of each section (key results in a fixed layout) and :func:`report_tables`, which puts
them before the generic rendering of the section's other payload keys.

Every key read here is the one its writer uses: ``data.json`` sources from
:meth:`hatespeech.data.base.LoadedSource.summary`, the dual-head heads from
:func:`hatespeech.metrics.classification.head_json` and :func:`hatespeech.dualhead.separate_json`, the grid
from :meth:`hatespeech.dualhead.GridResult.to_json`.
"""

from __future__ import annotations

from pathlib import Path

from .sections import SHAPE_ERRORS, Section, get_section, section_payload
from .tables import flatten, fmt_number, is_scalar, payload_tables, show_separators, value_at


def grid_tables(grid) -> list:
    """The focal grid as gamma x alpha matrices (validation and test identity macro-F1)."""
    import pandas as pd

    frame = pd.DataFrame([c for c in grid or [] if isinstance(c, dict)])
    if frame.empty or not {"gamma", "alpha"} <= set(frame.columns):
        return []
    tables = []
    for metric in ("val_macro_f1", "test_macro_f1"):
        if metric in frame.columns:
            pivot = frame.pivot_table(index="gamma", columns="alpha", values=metric, aggfunc="first")
            pivot.index = [f"gamma={g:g}" for g in pivot.index]
            pivot.columns = [f"alpha={a:g}" for a in pivot.columns]
            tables.append((f"grid: {metric} (rows gamma, columns alpha)", pivot))
    return tables


def _tables_data(payload) -> list:
    """Corpora: one row per source with raw/kept rows, filtered rows per reason, labels and licence."""
    import pandas as pd

    rows = {}
    for name, src in (payload.get("sources") or {}).items():
        if not isinstance(src, dict):
            continue
        filtered = value_at(src, "filtered", default={}) or {}
        reasons = (
            "; ".join(f"{r}: {fmt_number(n)}" for r, n in filtered.items() if n)
            if isinstance(filtered, dict)
            else ""
        )
        labels = value_at(src, "label_columns", default="")
        rows[name] = {
            "rows raw": value_at(src, "rows_raw"),
            "rows kept": value_at(src, "rows_kept"),
            "filtered": sum(v for v in filtered.values() if isinstance(v, (int, float)))
            if isinstance(filtered, dict)
            else None,
            "filtered per reason": reasons or "–",
            "label columns": ", ".join(labels) if isinstance(labels, (list, tuple)) else labels,
            "licence": value_at(src, "licence", default=""),
        }
    return [("corpora", pd.DataFrame.from_dict(rows, orient="index"))] if rows else []


def _tables_phase1(payload) -> list:
    """Models and baselines on the same evaluation prefixes with intervals; comparisons; sweep; seed
    context."""
    from ..anticipation.evidence import phase1_tables

    return phase1_tables(payload)


def _tables_phase2(payload) -> list:
    """Test MSE of every model and baseline with intervals, and the paired comparisons."""
    from ..anticipation.evidence import phase2_tables

    return phase2_tables(payload)


def _tables_dualhead(payload) -> list:
    """Macro-F1 per head (shared encoder vs separate models) and the per-label test metrics of each head."""
    import pandas as pd

    separate = payload.get("separate_models") or {}
    heads = {}
    for head in ("head_n", "head_i"):
        shared = payload.get(head) or {}
        alone = separate.get(head) if isinstance(separate.get(head), dict) else {}
        heads[head] = {
            "test macro-F1 (tuned thresholds)": value_at(shared, "macro_f1"),
            "test macro-F1 (0.5)": value_at(shared, "macro_f1_at_0.5"),
            "validation macro-F1": value_at(shared, "val_macro_f1"),
            "separate model: test macro-F1": value_at(alone, "macro_f1"),
        }
    frame = pd.DataFrame.from_dict(heads, orient="index").dropna(axis=1, how="all")
    tables = [("macro-F1 per head: one shared encoder vs the seed's two separate models", frame)]
    scalars = {k: v for k, v in separate.items() if is_scalar(v)}
    if scalars:
        tables.append(("separate models", pd.Series(scalars, name="value").to_frame()))
    for head in ("head_n", "head_i"):
        per_label = (payload.get(head) or {}).get("per_label")
        if isinstance(per_label, dict) and per_label:
            table = pd.DataFrame.from_dict({k: flatten(v) for k, v in per_label.items()}, orient="index")
            at_half = (payload.get(head) or {}).get("per_label_at_0.5") or {}
            if isinstance(at_half, dict) and at_half:
                table["f1 at 0.5"] = [(value_at(at_half.get(label), "f1")) for label in table.index]
            tables.append((f"{head}: test metrics per label (tuned threshold)", table))
    return tables


def _tables_grid(payload) -> list:
    pivots = grid_tables(payload.get("grid"))
    if pivots:  # the matrices hold every cell
        return pivots
    return payload_tables(payload, ["grid"])


CURATED = {
    "data": _tables_data,
    "phase1": _tables_phase1,
    "phase2": _tables_phase2,
    "dualhead": _tables_dualhead,
    "grid": _tables_grid,
}


def report_tables(section: Section | str, reports: Path | None = None):
    """The tables of one section, from its metrics JSON ([] when that file or key is absent).

    A curated table that cannot be built from the metrics' shape is replaced by a one-row note saying so.
    """
    import pandas as pd

    section = get_section(section)
    payload = section_payload(section, reports)
    if payload is None:
        return []
    tables = []
    curated = CURATED.get(section.key)
    if curated is not None:
        try:
            tables.extend(curated(payload))
        except SHAPE_ERRORS as error:
            note = f"metrics not in the expected shape: {type(error).__name__}: {error}"
            tables.append((f"{section.key}: key table unavailable", pd.DataFrame({"note": [note]})))
    keys = [k for k in (section.keys if section.keys is not None else payload) if k not in section.skip]
    return [(title, show_separators(frame)) for title, frame in tables] + payload_tables(payload, keys)
