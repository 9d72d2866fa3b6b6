"""Reproducibility stamp, metrics JSON, and the report's sections.

Every metrics file carries a stamp: git commit (and whether the tree was dirty), profile, hardware (CPU
model, GPU name), Python / torch / transformers versions, checksums of the data files, the seed, and the
wall time of each notebook when run_all.sh recorded them.

The second half assembles ``notebooks/06_report.ipynb`` from what notebooks 01-05 wrote: one
:class:`Section` per experiment (its metrics file, the keys shown, its figure prefixes in
:data:`FIGURE_PREFIXES`), rendered by :func:`section_html` as a source line, a short summary, tables
(:func:`report_tables`) and figures inlined as base64. A section whose metrics are absent says "not run in
this build". Publishing (papermill, HTML, PDF) lives in :mod:`hatespeech.publish`.
"""

from __future__ import annotations

import base64 as _base64
import datetime as _dt
import hashlib
import html as _html
import json
import platform
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass as _dataclass
from pathlib import Path
from typing import Any

from . import paths


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    import os

    info: dict[str, Any] = {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "gpu": None}
    try:
        import torch

        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "datasets", "sklearn", "pandas", "numpy"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except ImportError:
            out[name] = "absent"
    return out


def data_checksums(data_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every file under the data dir (from its SHA256SUMS when present; verified elsewhere)."""
    root = Path(data_dir or paths.data_dir())
    sums = root / "SHA256SUMS"
    if sums.exists():
        out = {}
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[1].lstrip("*")] = parts[0]
        return out
    out = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        out[str(file.relative_to(root))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def stamp(profile=None) -> dict[str, Any]:
    """What produced a result: commit, dirty flag, profile, hardware, versions, data checksums, seed."""
    commit = _git("rev-parse", "HEAD")
    # Dirty means uncommitted changes to what produces results; regenerated outputs under reports/ (a
    # benchmark's figure written before its JSON, say) are not such a change.
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports")
    timings_file = paths.metrics_dir() / "run_timings.json"
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": bool(dirty) if dirty is not None else None,
        "profile": getattr(profile, "name", profile),
        "seed": getattr(profile, "seed", None),
        "hardware": hardware(),
        "versions": versions(),
        "data_dir": paths.data_dir().name,  # by name: the checksums below identify the data, not the machine
        "data_sha256": data_checksums() if paths.data_dir().exists() else {},
        "notebook_wall_s": json.loads(timings_file.read_text()) if timings_file.exists() else None,
    }


def caption(profile, data: str = "") -> str:
    """One line for under a figure or table: profile, data, hardware, commit."""
    hw = hardware()
    device = hw["gpu"] or f"{hw['cpu']} ({hw['cpu_count']} cores)"
    commit = _git("rev-parse", "--short", "HEAD") or "no-git"
    name = getattr(profile, "name", profile)
    return f"profile={name} | data={data or 'see metrics JSON'} | hardware={device} | commit={commit}"


def write_metrics(name: str, payload: dict[str, Any], profile=None) -> Path:
    """Write reports/metrics/<name>.json = payload + {"profile": ..., "stamp": stamp(profile)}."""
    body = dict(payload)
    body.setdefault("profile", getattr(profile, "name", profile))
    body["stamp"] = stamp(profile)
    path = paths.metrics_dir() / f"{name}.json"
    path.write_text(json.dumps(body, indent=2, default=_json_default, allow_nan=True))
    return path


def read_metrics(name: str) -> dict[str, Any]:
    path = paths.metrics_dir() / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the notebook that writes {name}.json first")
    return json.loads(path.read_text())


def _json_default(value):
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return value.tolist()
    except ImportError:
        pass
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# ============================================================================================ report assembly
# The report notebook (notebooks/06_report.ipynb) stays thin: it calls the functions below, which read what
# notebooks 01-05 (and the benchmarks) wrote under reports/metrics and reports/figures. Every section works
# when its metrics are absent ("not run in this build"), so the report builds while experiments are missing.
# Figures are found by name prefix (FIGURE_PREFIXES), so a new figure shows up without a change here.

PUBLISHED_BIAS = {"Detoxify unbiased (published)": 93.74, "Jigsaw Unintended Bias winner (private LB)": 94.73}

# Figure file-name prefixes per section: notebooks save figures as reports/figures/<prefix><what>.png.
FIGURE_PREFIXES = {
    "data": ("data_",),
    "phase1": ("phase1_",),
    "phase2": ("phase2_",),
    "dualhead": ("dualhead_",),
    "grid": ("grid_",),
    "benchmarks": ("bench_",),
}


@_dataclass(frozen=True)
class Section:
    """One part of the report: which metrics file and keys feed it, and which figures belong to it.

    Its tables are the curated ones of :data:`_CURATED` (key results in a fixed layout) followed by a
    generic rendering of ``keys`` (all payload keys when None), leaving out ``skip``.
    """

    key: str
    title: str
    notebook: str  # what produces it, e.g. "01_data.ipynb"
    metrics: str  # file under metrics/
    keys: tuple[str, ...] | None  # payload keys shown as generic tables (None = all but stamp/profile)
    required: str | None  # the key whose presence means "this section ran" (None = the file's presence)
    intro: str = ""
    skip: tuple[str, ...] = ()  # keys left to a curated table or to the notebook's own page


SECTIONS: tuple[Section, ...] = (
    Section(
        "data",
        "Data",
        "01_data.ipynb",
        "data.json",
        None,
        "sources",
        "Corpora as loaded and validated by hatespeech.data: raw and kept rows, rows filtered per reason, "
        "and the seeded splits every later notebook reuses.",
        skip=("sources",),
    ),
    Section(
        "phase1",
        "Anticipation, phase 1: hate / not-hate from prefixes",
        "02_phase1.ipynb",
        "anticipation.json",
        ("phase1", "models"),
        "phase1",
        "Binary classifiers trained on random word-prefixes (loss weighted by the share of the sentence "
        "seen). Learning rate, epoch and threshold are chosen on a selection set carved from the train part; "
        "every number is measured on the evaluation split beside a majority and a TF-IDF baseline scored on "
        "the same prefixes, with 95% bootstrap intervals over evaluation sentences (Stormfront: posts).",
    ),
    Section(
        "phase2",
        "Anticipation, phase 2: P(hateful | first words)",
        "03_phase2.ipynb",
        "anticipation.json",
        ("phase2", "baselines", "annotator_agreement", "earliness"),
        "phase2",
        "Phase-1 models fine-tuned on the prefix-probability set with a weighted MSE (one objective for every "
        "variant); test MSE with 95% intervals over test sentences beside a constant, a TF-IDF ridge and the "
        "phase-1 model alone (raw and prior-corrected); the epoch and the best variant are chosen on held-out "
        "train sentences; how early hateful sentences are flagged.",
    ),
    Section(
        "dualhead",
        "DualHeadBERT: toxicity types and identity groups",
        "04_dualhead.ipynb",
        "dualhead.json",
        ("focal_lambda_choice", "bias", "rare_label_confusion", "training", "model", "data"),
        "head_n",
        "One shared encoder with two heads (pos-weighted BCE for toxicity types, focal loss for identity "
        "groups), labels masked where a source does not annotate them; thresholds tuned on validation.",
    ),
    Section(
        "grid",
        "Focal-loss grid (gamma x alpha)",
        "05_focal_grid.ipynb",
        "dualhead.json",
        ("grid_pick", "grid_info"),
        "grid",
        "Each (gamma, alpha) cell trained with its own focal loss; the pick is made on validation identity "
        "macro-F1 and reported on test.",
    ),
    Section(
        "benchmarks",
        "Anticipation at typing speed (benchmarks)",
        "benchmarks/anticipation_speed.py",
        "benchmarks.json",
        None,
        None,
        "Scoring every word-prefix four ways in one run: naive per-prefix batches, sorted dynamic padding, "
        "decoder one pass, and decoder streaming with cached keys/values.",
    ),
)
_KNOWN_METRICS = {s.metrics for s in SECTIONS} | {"run_timings.json", "report.json"}


# -------------------------------------------------------------------------------------------- tables
def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


_SEP = "\x1f"  # joins nested keys while tables are built (keys such as "(0.0, 0.2]" hold dots); shown as "."


def _flatten(obj: dict, prefix: str = "") -> dict[str, Any]:
    """Nested keys -> scalars. Short lists of scalars become one cell; long lists (curves) are for figures."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, name + _SEP))
        elif isinstance(value, (list, tuple)):
            if len(value) <= 6 and all(_is_scalar(v) for v in value):
                out[name] = ", ".join(_fmt_value(v) for v in value)
        else:
            out[name] = value
    return out


def _records_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_row(value: dict) -> bool:
    """A dict that reads as one table row: at least half of its entries are scalars (metric -> number)."""
    if not value:
        return False
    scalars = sum(1 for v in value.values() if _is_scalar(v) or isinstance(v, (list, tuple)))
    return scalars >= len(value) / 2


MAX_MERGED_COLUMNS = 8  # a nested group stays in its rows' table when the table is no wider than this


def _record_tables(title: str, records: dict[str, dict]):
    """{row: {metric: value, group: {...}}} -> a table rows x metrics (+ one table per wide nested group).

    Small nested groups (e.g. filtered.{reason}) stay as dotted columns; a wide one becomes its own table,
    stacked into rows (record, inner key) x metric when it is a group of rows (per_source.{source}.{metric}).
    """
    import pandas as pd

    flat = {str(k): _flatten(v) for k, v in records.items()}
    frame = pd.DataFrame.from_dict(flat, orient="index")
    if len(frame.columns) <= MAX_MERGED_COLUMNS:
        return [(title, frame)]
    tables = []
    main = [c for c in frame.columns if _SEP not in c]
    if main:
        tables.append((title, frame[main]))
    groups = list(dict.fromkeys(c.split(_SEP, 1)[0] for c in frame.columns if _SEP in c))
    for group in groups:
        cols = [c for c in frame.columns if c.startswith(group + _SEP)]
        sub = frame[cols].copy()
        sub.columns = [c[len(group) + 1 :] for c in cols]
        if all(_SEP in c for c in sub.columns):
            rows: dict[tuple, dict] = {}
            for record, series in sub.iterrows():
                for col, value in series.items():
                    inner, metric = col.split(_SEP, 1)
                    rows.setdefault((record, inner), {})[metric] = value
            sub = pd.DataFrame.from_dict(rows, orient="index")
        sub = sub.dropna(how="all")
        if not sub.empty:
            tables.append((f"{title}: {group}", sub))
    return tables


def _shared_columns(rows: dict[str, dict]) -> bool:
    """Whether row dicts share most of their keys (then they make one table)."""
    keys = [set(r) for r in rows.values()]
    union = set().union(*keys)
    return sum(len(k) for k in keys) / len(keys) >= 0.6 * len(union)


def _value_tables(title: str, value):
    """Tables for one payload value: records lists and row-like dicts become tables, the rest recurses."""
    import pandas as pd

    if _records_list(value):
        return [(title, pd.DataFrame([_flatten(v) for v in value]))]
    if not isinstance(value, dict) or not value:
        return []
    scalars = {
        k: v
        for k, v in value.items()
        if _is_scalar(v) or (isinstance(v, (list, tuple)) and not _records_list(v))
    }
    rows = {k: v for k, v in value.items() if isinstance(v, dict) and _is_row(v)}
    nested = {k: v for k, v in value.items() if isinstance(v, dict) and not _is_row(v)}
    if len(rows) > 1 and not _shared_columns(rows):
        # rows with (almost) no key in common are separate things, not one table: one table each
        nested.update(rows)
        rows = {}
    lists = {k: v for k, v in value.items() if _records_list(v)}
    tables = []
    flat_scalars = _flatten(scalars)
    if flat_scalars:
        tables.append((title, pd.Series(flat_scalars, name="value").to_frame()))
    if rows:
        tables.extend(_record_tables(title, rows))
    for key, sub in nested.items():
        tables.extend(_value_tables(f"{title}: {key}", sub))
    for key, sub in lists.items():
        tables.append((f"{title}: {key}", pd.DataFrame([_flatten(v) for v in sub])))
    return tables


def payload_tables(payload: dict[str, Any], keys: Iterable[str] | None = None):
    """(title, DataFrame) pairs for the given payload keys (all but the stamp when ``keys`` is None)."""
    import pandas as pd

    # profile and stamp are shown in each section's source line
    keys = [
        k for k in (keys if keys is not None else payload) if k in payload and k not in ("stamp", "profile")
    ]
    tables, loose = [], {}
    for key in keys:
        value = payload[key]
        if _is_scalar(value):
            loose[key] = value
        else:
            tables.extend(_value_tables(key, value))
    if loose:
        tables.insert(0, ("settings", pd.Series(loose, name="value").to_frame()))
    return [(title, _show_separators(frame)) for title, frame in tables]


def _show_separators(frame):
    """Nested-key labels as dotted text."""
    import pandas as pd

    def show(label):
        if isinstance(label, tuple):
            return tuple(show(x) for x in label)
        return label.replace(_SEP, ".") if isinstance(label, str) else label

    frame = frame.copy()
    frame.columns = [show(c) for c in frame.columns]
    if isinstance(frame.index, pd.MultiIndex):
        frame.index = pd.MultiIndex.from_tuples([show(i) for i in frame.index])
    elif not isinstance(frame.index, pd.RangeIndex):
        frame.index = [show(i) for i in frame.index]
    return frame


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
        filtered = _get(src, "filtered", default={}) or {}
        reasons = (
            "; ".join(f"{r}: {_num(n)}" for r, n in filtered.items() if n)
            if isinstance(filtered, dict)
            else ""
        )
        labels = _get(src, "label_columns", "labels", default="")
        rows[name] = {
            "rows raw": _get(src, "rows_raw"),
            "rows kept": _get(src, "rows_kept"),
            "filtered": sum(v for v in filtered.values() if isinstance(v, (int, float)))
            if isinstance(filtered, dict)
            else None,
            "filtered per reason": reasons or "–",
            "label columns": ", ".join(labels) if isinstance(labels, (list, tuple)) else labels,
            "licence": _get(src, "licence", "license", default=""),
        }
    return [("corpora", pd.DataFrame.from_dict(rows, orient="index"))] if rows else []


def _tables_phase1(payload) -> list:
    """Models and baselines on the same evaluation prefixes with intervals; comparisons; sweep; seed context."""
    from .anticipation_evidence import phase1_tables

    return phase1_tables(payload)


def _tables_phase2(payload) -> list:
    """Test MSE of every model and baseline with intervals, and the paired comparisons."""
    from .anticipation_evidence import phase2_tables

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
            "test macro-F1 (tuned thresholds)": _get(shared, "macro_f1"),
            "test macro-F1 (0.5)": _get(shared, "macro_f1_at_0.5"),
            "validation macro-F1": _get(shared, "val_macro_f1"),
            "separate model: test macro-F1": _get(alone, "macro_f1"),
        }
    frame = pd.DataFrame.from_dict(heads, orient="index").dropna(axis=1, how="all")
    tables = [("macro-F1 per head: one shared encoder vs the seed's two separate models", frame)]
    scalars = {k: v for k, v in separate.items() if _is_scalar(v)}
    if scalars:
        tables.append(("separate models", pd.Series(scalars, name="value").to_frame()))
    for head in ("head_n", "head_i"):
        per_label = (payload.get(head) or {}).get("per_label")
        if isinstance(per_label, dict) and per_label:
            table = pd.DataFrame.from_dict({k: _flatten(v) for k, v in per_label.items()}, orient="index")
            at_half = (payload.get(head) or {}).get("per_label_at_0.5") or {}
            if isinstance(at_half, dict) and at_half:
                table["f1 at 0.5"] = [(_get(at_half.get(label), "f1")) for label in table.index]
            tables.append((f"{head}: test metrics per label (tuned threshold)", table))
    return tables


def _tables_grid(payload) -> list:
    pivots = grid_tables(payload.get("grid"))
    if pivots:  # the matrices hold every cell
        return pivots
    return payload_tables(payload, ["grid"])


_CURATED = {
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

    section = _section(section)
    payload = _load(section.metrics, reports)
    if payload is None or (section.required and section.required not in payload):
        return []
    tables = []
    curated = _CURATED.get(section.key)
    if curated is not None:
        try:
            tables.extend(curated(payload))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            note = f"metrics not in the expected shape: {type(error).__name__}: {error}"
            tables.append((f"{section.key}: key table unavailable", pd.DataFrame({"note": [note]})))
    keys = [k for k in (section.keys if section.keys is not None else payload) if k not in section.skip]
    return [(title, _show_separators(frame)) for title, frame in tables] + payload_tables(payload, keys)


def _fmt_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value.is_integer() and abs(value) < 1e12:
            return f"{int(value):,}"
        return f"{value:.3f}" if abs(value) >= 1e-3 else f"{value:.2e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


MAX_COLUMNS = 9  # wider tables are transposed or split so that they fit an A4 page
MAX_CELL_CHARS = 90  # longer strings (paths, descriptions) are cut; the metrics JSON has them whole
WRAP_FROM_CHARS = 24  # text cells longer than this may wrap (CSS .hs-wrap); numbers and short labels never do
WRAP_WIDTH = 26  # about how many characters wide a wrapped text cell is (CSS .hs-wrap max-width)


def _cut(value):
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[: MAX_CELL_CHARS - 1] + "…"
    return value


PAGE_CHARS = 125  # about what fits across an A4 page at the print font size of tables


def _text_width(value) -> int:
    """Characters a cell takes across: long text wraps (see .hs-wrap) at about WRAP_WIDTH characters."""
    if isinstance(value, str):
        return min(len(value), WRAP_WIDTH)
    if isinstance(value, float):
        return len(_fmt_value(value))
    return len(str(value))


def _table_width(frame, columns) -> int:
    index = max((_text_width(str(i)) for i in frame.index), default=0)
    total = index + 2
    for column in columns:
        cells = max((_text_width(v) for v in frame[column]), default=0)
        header = max((len(word) for word in str(column).split()), default=0)
        total += max(cells, header, 1) + 2
    return total


def fit_table(frame) -> list:
    """Shape a table for the page: long strings cut, wide-and-short transposed, still-wide split by columns.

    Widths are estimated in characters (:data:`PAGE_CHARS` across a page), so no table runs off the page.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(_cut)
    too_wide = len(frame.columns) > MAX_COLUMNS or _table_width(frame, frame.columns) > PAGE_CHARS
    if too_wide and len(frame) < len(frame.columns):
        transposed = frame.T
        if _table_width(transposed, transposed.columns) < _table_width(frame, frame.columns):
            frame = transposed
    pieces, current = [], []
    for column in frame.columns:
        if current and (len(current) >= MAX_COLUMNS or _table_width(frame, [*current, column]) > PAGE_CHARS):
            pieces.append(current)
            current = []
        current.append(column)
    if current:
        pieces.append(current)
    return [frame[cols] for cols in pieces] if len(pieces) > 1 else [frame]


def _cell_html(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, str):
        text = _html.escape(value)
        return f"<span class='hs-wrap'>{text}</span>" if len(value) > WRAP_FROM_CHARS else text
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:
        pass
    return _html.escape(_fmt_value(value))


def _frame_html(frame, index: bool) -> str:
    """HTML of a table with our own cell formatting (numbers never wrap, long text may)."""
    shown = frame.copy()
    shown = shown.astype(object).apply(lambda column: column.map(_cell_html))
    shown.columns = [_html.escape(str(c)) for c in shown.columns]
    shown.index = [
        _html.escape(" / ".join(map(str, i)) if isinstance(i, tuple) else str(i)) for i in shown.index
    ]
    return shown.to_html(border=0, escape=False, index=index)


def table_html(title: str, frame, max_rows: int = 60) -> str:
    """A titled table fitted to the page (:func:`fit_table`); short ones stay on one page with their title."""
    import pandas as pd

    parts = []
    pieces = fit_table(frame.head(max_rows))
    for i, shown in enumerate(pieces):
        plain_index = isinstance(shown.index, pd.RangeIndex)
        body = _frame_html(shown, index=not plain_index)
        label = title if len(pieces) == 1 else f"{title} ({i + 1}/{len(pieces)})"
        keep = " hs-keep" if len(shown) <= 30 else ""
        parts.append(f"<div class='hs-table{keep}'><h4>{_html.escape(label)}</h4>{body}</div>")
    if len(frame) > max_rows:
        parts.append(f"<p class='hs-note'>first {max_rows} of {len(frame)} rows; all in the metrics JSON</p>")
    return "".join(parts)


# -------------------------------------------------------------------------------------------- figures
def section_figures(section: Section | str, reports: Path | None = None) -> list[Path]:
    section = _section(section)
    folder = (Path(reports) / "figures") if reports else paths.figures_dir()
    found: list[Path] = []
    for prefix in FIGURE_PREFIXES.get(section.key, ()):
        found.extend(sorted(folder.glob(f"{prefix}*.png")))
    return found


def figure_html(path: Path, caption_text: str | None = None) -> str:
    """<figure> with the PNG inlined as base64 (the HTML and its PDF need no other file)."""
    data = _base64.b64encode(Path(path).read_bytes()).decode("ascii")
    cap = _html.escape(caption_text or Path(path).name)
    return (
        f"<figure class='hs-figure'><img src='data:image/png;base64,{data}' alt='{cap}' "
        f"style='max-width:100%;height:auto'/><figcaption>{cap}</figcaption></figure>"
    )


# -------------------------------------------------------------------------------------------- stamp
def _short(commit: str | None) -> str:
    return commit[:10] if commit else "unknown (not a git checkout)"


def _seconds(value: float) -> str:
    minutes, sec = divmod(int(round(value)), 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{value:.1f}s"


def stamp_html(st: dict[str, Any]) -> str:
    """The report's first section: what produced it, in one short table (checksums collapsed)."""
    esc = _html.escape
    dirty = st.get("git_dirty")
    dirty_text = {True: "<b>dirty</b> (uncommitted changes)", False: "clean", None: "unknown"}[dirty]
    hw = st.get("hardware") or {}
    hardware_text = f"{hw.get('cpu', '?')} ({hw.get('cpu_count', '?')} cores"
    if hw.get("torch_threads"):
        hardware_text += f", torch threads {hw['torch_threads']}"
    hardware_text += f"); GPU: {hw.get('gpu') or 'none'}"
    versions_text = " · ".join(f"{k} {v}" for k, v in (st.get("versions") or {}).items())
    sums = st.get("data_sha256") or {}
    combined = hashlib.sha256("\n".join(f"{v}  {k}" for k, v in sorted(sums.items())).encode()).hexdigest()
    rows_sums = "".join(
        f"<tr><td><code>{esc(v[:16])}</code></td><td>{esc(k)}</td></tr>" for k, v in sorted(sums.items())
    )
    data_text = (
        (
            f"{esc(str(st.get('data_dir')))}: {len(sums)} files, combined sha256 <code>{combined[:16]}</code>"
            f"<details><summary>per-file sha256 (first 16 hex digits)</summary><table>{rows_sums}</table>"
            "</details>"
        )
        if sums
        else f"{esc(str(st.get('data_dir')))}: no data files found"
    )
    timings = st.get("notebook_wall_s") or {}
    parts, total = [], 0.0
    for name, value in timings.items():
        seconds = value.get("seconds") if isinstance(value, dict) else value
        prof = value.get("profile") if isinstance(value, dict) else None
        if isinstance(seconds, (int, float)):
            total += seconds
            parts.append(
                f"{esc(name.removesuffix('.ipynb'))} {_seconds(seconds)}"
                + (f" ({esc(prof)})" if prof and prof != st.get("profile") else "")
            )
    timing_text = (
        (" · ".join(parts) + f" · <b>total {_seconds(total)}</b>")
        if parts
        else "not recorded (run through ./run_all.sh to record them)"
    )
    rows = [
        ("Commit", f"<code>{esc(_short(st.get('git_commit')))}</code>, working tree {dirty_text}"),
        ("Profile / seed", f"<b>{esc(str(st.get('profile')))}</b> / {esc(str(st.get('seed')))}"),
        ("Built", esc(str(st.get("created")))),
        ("Hardware", esc(hardware_text)),
        ("Versions", esc(versions_text)),
        ("Data", data_text),
        ("Wall time per notebook", timing_text),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<table class='hs-stamp'>{body}</table><p class='hs-note'>Each metrics JSON under "
        "<code>reports/metrics/</code> carries the same stamp for the run that wrote it; a section below "
        "says when its numbers came from another commit or profile.</p>"
    )


def _source_line(section: Section, payload: dict[str, Any], report_stamp: dict[str, Any] | None) -> str:
    st = payload.get("stamp") or {}
    profile = payload.get("profile") or st.get("profile")
    text = (
        f"From <code>metrics/{section.metrics}</code>: profile <b>{_html.escape(str(profile))}</b>, "
        f"commit <code>{_html.escape(_short(st.get('git_commit')))}</code>"
        f"{' (dirty)' if st.get('git_dirty') else ''}, written {_html.escape(str(st.get('created', '?')))}."
    )
    warn = []
    if report_stamp:
        if profile and report_stamp.get("profile") and profile != report_stamp.get("profile"):
            warn.append(f"made with profile {profile}, not this report's {report_stamp.get('profile')}")
        if (
            st.get("git_commit")
            and report_stamp.get("git_commit")
            and st["git_commit"] != report_stamp["git_commit"]
        ):
            warn.append("made at another commit than this report")
    if warn:
        text += f" <span class='hs-missing'>Note: {_html.escape('; '.join(warn))}.</span>"
    return f"<p class='hs-note'>{text}</p>"


# -------------------------------------------------------------------------------------------- summaries
def _get(mapping, *names, default=None):
    """The first of ``names`` present in ``mapping`` (metrics keys differ slightly between notebooks)."""
    if not isinstance(mapping, dict):
        return default
    for name in names:
        if name in mapping and mapping[name] is not None:
            return mapping[name]
    return default


def _num(value) -> str:
    return (
        _fmt_value(float(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else str(value)
    )


def _summary_data(payload) -> list[str]:
    sources = payload.get("sources") or {}
    raw = sum(_get(s, "rows_raw", default=0) or 0 for s in sources.values())
    kept = sum(_get(s, "rows_kept", default=0) or 0 for s in sources.values())
    reasons: dict[str, int] = {}
    for s in sources.values():
        for reason, n in (_get(s, "filtered", default={}) or {}).items():
            reasons[reason] = reasons.get(reason, 0) + (n or 0)
    filtered = ", ".join(f"{r}: {_num(n)}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]) if n)
    return [
        f"{len(sources)} sources, {_num(raw)} rows read, {_num(kept)} kept"
        + (f"; filtered on purpose: {filtered}." if filtered else "; no row filtered.")
    ]


def _summary_phase1(payload) -> list[str]:
    """The generated findings of notebook 02 (baselines, intervals, verdicts), and the seed as context."""
    from .anticipation import SEED_CONTEXT_NOTE
    from .anticipation_evidence import phase1_findings

    if "phase1_evidence" not in payload:
        return ["This build's phase-1 results carry no baselines or intervals: re-run notebook 02."]
    return [_html.escape(line) for line in phase1_findings(payload)] + [_html.escape(SEED_CONTEXT_NOTE)]


def _summary_phase2(payload) -> list[str]:
    """The generated findings of notebook 03 and the annotators' agreement (two LLM passes, no ceiling)."""
    from .anticipation_evidence import phase2_findings

    lines = ([_html.escape(line) for line in phase2_findings(payload)] if "phase2_evidence" in payload
             else ["This build's phase-2 results carry no intervals: re-run notebook 03."])
    agreement = (payload.get("annotator_agreement") or {}).get("test") or {}
    if _get(agreement, "mse") is not None:
        lines.append(
            f"The two annotation passes differ by MSE {_num(agreement['mse'])} on the test prefixes; both are "
            "readings by one large language model, so this is not a human ceiling."
        )
    return lines


def _summary_dualhead(payload) -> list[str]:
    lines = []
    n, i = payload.get("head_n") or {}, payload.get("head_i") or {}
    if _get(n, "macro_f1") is not None or _get(i, "macro_f1") is not None:
        lines.append(
            f"Macro-F1 on test: toxicity-type head {_num(_get(n, 'macro_f1', default='–'))}, "
            f"identity head {_num(_get(i, 'macro_f1', default='–'))}."
        )
    choice = payload.get("focal_lambda_choice") or {}
    rows = [r for r in choice.get("table") or [] if isinstance(r, dict) and "val_macro_f1_mean" in r]
    if rows and _get(choice, "picked") is not None:
        others = "; ".join(f"lambda {_num(r['lambda'])}: {_num(r['val_macro_f1_mean'])}"
                           for r in rows if r["lambda"] != choice["picked"])
        picked = next((r for r in rows if r["lambda"] == choice["picked"]), rows[0])
        lines.append(
            f"Focal weight picked on validation: <b>lambda {_num(choice['picked'])}</b> (mean validation macro-F1 "
            f"of the two heads {_num(picked['val_macro_f1_mean'])}" + (f"; {others}" if others else "") + ")."
        )
    bias = payload.get("bias") or {}
    final = _get(bias, "final_x100", "final_score", "final", "score")
    data = payload.get("data")
    data_name = data if isinstance(data, str) else _get(data, "name", "source", "sources", default=data)
    is_jigsaw = "jigsaw" in json.dumps(data_name).lower() if data_name is not None else False
    if final is not None:
        published = ", ".join(f"{k} {v}" for k, v in PUBLISHED_BIAS.items())
        percent = final * 100 if isinstance(final, (int, float)) and final <= 1.0 else final
        lines.append(
            f"Jigsaw bias score (0.25 overall AUC + 0.75 mean of subgroup/BPSN/BNSP power means), "
            f"as a percentage: <b>{_num(percent)}</b>. Published: {published}. "
            + (
                "Same data family as the published numbers."
                if is_jigsaw
                else "<b>Not comparable</b>: this run's data is not the Jigsaw Unintended Bias set."
            )
        )
    elif bias:
        skipped = _get(bias, "skipped_subgroups", default=None)
        names = list(skipped) if isinstance(skipped, (dict, list, tuple)) else []
        shown = ", ".join(map(str, names[:8])) + (", …" if len(names) > 8 else "")
        lines.append(
            "Jigsaw bias score <b>not computed</b> in this run"
            + (
                f": {len(names)} subgroups skipped (too few members or a single class; reasons in "
                f"the metrics JSON): {_html.escape(shown)}"
                if names
                else ""
            )
            + "."
        )
    return lines


def _summary_grid(payload) -> list[str]:
    grid = [c for c in payload.get("grid") or [] if isinstance(c, dict)]
    scored = [c for c in grid if _get(c, "val_macro_f1") is not None]
    if not scored:
        return []
    best = max(scored, key=lambda c: c["val_macro_f1"])
    tests = {round(float(c["test_macro_f1"]), 6) for c in grid if _get(c, "test_macro_f1") is not None}
    return [
        f"{len(grid)} cells trained. Picked on validation: gamma {_num(best.get('gamma'))}, alpha "
        f"{_num(best.get('alpha'))} (validation identity macro-F1 {_num(best['val_macro_f1'])}, test "
        f"{_num(_get(best, 'test_macro_f1', default='–'))}); {len(tests)} distinct test scores across cells."
    ]


def _summary_benchmarks(payload) -> list[str]:
    """Each speed target with its measured ratio and a plain met / missed, and the floor that explains a miss."""
    targets = payload.get("targets") or {}
    lines = []

    def verdict(target) -> str:
        return ": met)." if target.get("met") else ": <b>missed</b>)."

    one = targets.get("one_pass_vs_naive_throughput") or {}
    if _get(one, "ratio") is not None:
        lines.append(
            f"Decoder one pass vs naive per-prefix batches at {one.get('words')} words: <b>{one['ratio']:.1f}x</b> "
            f"the throughput (target ≥ {one.get('target', 8.0):g}x" + verdict(one)
        )
    stream = targets.get("stream_vs_rescore_latency") or {}
    if _get(stream, "last_word_ratio") is not None:
        lines.append(
            f"Streaming (cached keys/values) vs re-scoring the whole prefix, per word at {stream.get('words')} "
            f"words: last word <b>{stream['last_word_ratio']:.3f}</b>, median over the sentence "
            f"{_num(_get(stream, 'median_ratio', default='–'))} (target ≤ {stream.get('target', 0.2):g}"
            + verdict(stream)
        )
    floor, nan = payload.get("decoder_forward_floor") or {}, float("nan")
    if _get(floor, "ratio") is not None:
        lines.append(
            f"Why streaming has a floor on this CPU: one decoder forward over a single new token takes "
            f"{floor.get('one_token_ms', nan):.0f} ms against {floor.get('all_tokens_ms', nan):.0f} ms for all "
            f"{floor.get('tokens')} tokens (ratio {floor['ratio']:.3f}), because every forward reads all "
            f"{floor.get('weights_mb', nan):.0f} MB of fp32 weights whatever the number of new tokens; a "
            "streaming update cannot be cheaper than that one-token forward."
        )
    if "equivalence_met" in targets:
        diffs = targets.get("equivalence_max_abs_diff") or {}
        worst = max((v for v in diffs.values() if isinstance(v, (int, float))), default=None)
        lines.append(
            "Every fast path gives the naive path's probabilities"
            + (f" (max |difference| {worst:.1e}, bound 1e-4)" if worst is not None else "")
            + (": yes." if targets["equivalence_met"] else ": <b>no</b>.")
        )
    return lines


_SUMMARIES = {
    "benchmarks": _summary_benchmarks,
    "data": _summary_data,
    "phase1": _summary_phase1,
    "phase2": _summary_phase2,
    "dualhead": _summary_dualhead,
    "grid": _summary_grid,
}


# -------------------------------------------------------------------------------------------- sections
def _section(section: Section | str) -> Section:
    if isinstance(section, Section):
        return section
    for candidate in SECTIONS:
        if candidate.key == section:
            return candidate
    raise KeyError(f"no report section {section!r}; sections: {[s.key for s in SECTIONS]}")


def _load(name: str, reports: Path | None = None) -> dict[str, Any] | None:
    path = (Path(reports) / "metrics" / name) if reports else paths.metrics_dir() / name
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


def section_html(
    section: Section | str,
    reports: Path | None = None,
    report_stamp: dict[str, Any] | None = None,
    heading: bool = False,
) -> str:
    """HTML of one section: where its numbers come from, a short summary, tables, figures.

    When its metrics file (or its main key) is absent: a line saying it was not run in this build.
    """
    section = _section(section)
    parts = [f"<h2 class='hs-section'>{_html.escape(section.title)}</h2>"] if heading else []
    payload = _load(section.metrics, reports)
    figures = section_figures(section, reports)
    if payload is None or (section.required and section.required not in payload):
        missing = f"metrics/{section.metrics}" + (f" key '{section.required}'" if payload is not None else "")
        parts.append(
            f"<p class='hs-missing'>Not run in this build ({_html.escape(missing)} absent; it comes from "
            f"{_html.escape(section.notebook)}).</p>"
        )
        if figures:
            parts.append(
                f"<p class='hs-note'>{len(figures)} figure(s) with this section's prefix exist but "
                "have no metrics beside them; not shown.</p>"
            )
        return "".join(parts)
    if section.intro:
        parts.append(f"<p>{_html.escape(section.intro)}</p>")
    parts.append(_source_line(section, payload, report_stamp))
    summary = _SUMMARIES.get(section.key)
    if summary is not None:
        try:
            lines = summary(payload)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            lines = [
                f"<span class='hs-missing'>Summary unavailable: the metrics do not have the expected shape "
                f"({_html.escape(type(error).__name__)}: {_html.escape(str(error))}).</span>"
            ]
        if lines:
            parts.append("<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>")
    for title, frame in report_tables(section, reports):
        parts.append(table_html(title, frame))
    for figure in figures:
        parts.append(figure_html(figure))
    return "".join(parts)


def other_metrics_html(reports: Path | None = None) -> str:
    """Metrics files no section knows about, listed so nothing is dropped silently."""
    folder = (Path(reports) / "metrics") if reports else paths.metrics_dir()
    extra = sorted(p for p in folder.glob("*.json") if p.name not in _KNOWN_METRICS)
    if not extra:
        return ""
    parts = ["<h2 class='hs-section'>Other metrics</h2>"]
    for path in extra:
        payload = json.loads(path.read_text())
        parts.append(f"<h3>{_html.escape(path.name)}</h3>")
        for title, frame in payload_tables(payload if isinstance(payload, dict) else {"value": payload}):
            parts.append(table_html(title, frame))
    return "".join(parts)


def notebooks_html(reports: Path | None = None) -> str:
    """Appendix: the executed notebooks (with code) next to this report, with their wall times."""
    root = Path(reports) if reports else paths.reports_dir()
    timings_file = root / "metrics" / "run_timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    rows = []
    for name, value in timings.items():
        stem = name.removesuffix(".ipynb")
        seconds = value.get("seconds") if isinstance(value, dict) else value
        prof = value.get("profile", "") if isinstance(value, dict) else ""
        page = "report.html" if name.endswith("_report.ipynb") else f"html/{stem}.html"
        rows.append(
            f"<tr><td><a href='{_html.escape(page)}'>{_html.escape(stem)}</a></td>"
            f"<td>{_seconds(seconds) if isinstance(seconds, (int, float)) else '?'}</td>"
            f"<td>{_html.escape(str(prof))}</td></tr>"
        )
    if not rows:
        return (
            "<p class='hs-note'>No notebook timings recorded (the report was not built by ./run_all.sh).</p>"
        )
    return (
        "<table><tr><th>notebook (HTML with code)</th><th>wall time</th><th>profile</th></tr>"
        + "".join(rows)
        + "</table><p class='hs-note'>Executed notebooks: <code>reports/executed/</code>; "
        "metrics: <code>reports/metrics/</code>; figures: <code>reports/figures/</code>.</p>"
    )


def title_html(profile, st: dict[str, Any] | None = None) -> str:
    """One line under the notebook's title: profile, commit, build time."""
    name = getattr(profile, "name", profile)
    commit = _short((st or {}).get("git_commit"))
    return (
        f"<p class='hs-note'>profile <b>{_html.escape(str(name))}</b> · "
        f"commit <code>{_html.escape(commit)}</code>"
        f" · built {_html.escape(str((st or {}).get('created', '')))}</p>"
    )


def section_status(reports: Path | None = None) -> dict[str, str]:
    """Which sections had their metrics in this build: {key: "shown" | "not run"}."""
    out = {}
    for section in SECTIONS:
        payload = _load(section.metrics, reports)
        ran = payload is not None and (section.required is None or section.required in payload)
        out[section.key] = "shown" if ran else "not run"
    return out


def show(html_text: str) -> None:
    """Display HTML in the notebook (and so in the exported report)."""
    from IPython.display import HTML, display

    display(HTML(html_text))


def show_section(key: str, report_stamp: dict[str, Any] | None = None) -> None:
    show(section_html(key, report_stamp=report_stamp))
