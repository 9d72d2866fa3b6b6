"""HateCheck (Röttger et al., ACL 2021), ``hatecheck_rottger2021/test_suite_cases.csv``: 3,728 hand-checked
functional test cases in 29 functionalities and 7 target groups. **Evaluation only**: no case may reach a
train, selection or validation split, and nothing is chosen on it (:data:`EVALUATION_ONLY`,
:func:`hatecheck_overlap`).

Cleaning
--------
* The first (unnamed) column is the file's row index; ``case_id`` (unique) becomes ``id``.
* ``label_gold`` must be ``hateful`` or ``non-hateful``; it becomes ``label`` (1 / 0). Every functionality
  holds one gold label, and its name says which (``…_h`` hateful, ``…_nh`` non-hateful): both are checked.
* ``templ_id`` (the template a case was generated from) must be a positive integer; ``target_ident`` one of
  the 7 groups or empty.
* ``ref_templ_id`` (empty, or the template this one was written from: a negation, a counter-quote, a
  spelling variant of another template) must name a template of the file. Following it to the end gives the
  case's template *family* (``family_id``): the 845 templates come from 278 families, and cases of one family
  differ by an identity word or a small edit, so they are not independent: intervals resample families.
* Text: the trailing space some cases carry is removed and whitespace collapsed; nothing else changes
  (spelling variations such as ``spell_leet_h`` are the point of the test).

Columns: ``label`` (1 hateful / 0 non-hateful), ``label_gold``, ``functionality``, ``target_ident``
(NaN where no group is referenced), ``direction``, ``templ_id`` (int), ``family_id`` (int: the root
template of the ``ref_templ_id`` chain), ``case_templ``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .base import LoadedSource
from .schema import (
    DataLeakageError,
    DataValidationError,
    FilterLog,
    check_allowed,
    check_nonempty_text,
    check_range,
    finalize,
    read_table,
    require_columns,
)
from .text import collapse_whitespace, normalise_for_matching

NAME = "hatecheck"
FILE = "hatecheck_rottger2021/test_suite_cases.csv"
LICENCE = "CC BY 4.0"
DESCRIPTION = "HateCheck functional tests (Röttger et al. 2021): 29 functionalities, 7 target groups"
LABELS = {"hateful": 1, "non-hateful": 0}
TARGET_GROUPS = (
    "women",
    "trans people",
    "gay people",
    "black people",
    "disabled people",
    "Muslims",
    "immigrants",
)
COLUMNS = [
    "case_id",
    "functionality",
    "test_case",
    "label_gold",
    "target_ident",
    "direction",
    "templ_id",
    "ref_templ_id",
]
#: Sources that may only be scored, never trained, tuned or selected on.
EVALUATION_ONLY = frozenset({NAME})


def _check_functionalities(df: pd.DataFrame, path: Path) -> None:
    """One gold label per functionality, and the one its name's suffix says."""
    for functionality, labels in df.groupby("functionality")["label_gold"]:
        expected = "non-hateful" if str(functionality).endswith("_nh") else "hateful"
        bad = labels != expected
        if bad.any():
            raise DataValidationError(
                f"functionality {functionality!r} holds label_gold {sorted(set(labels[bad]))}, "
                f"but its name says {expected!r}",
                file=path,
                column="label_gold",
                rows=list(labels.index[bad]),
                values=list(labels[bad]),
            )


def template_families(raw: pd.DataFrame, templates: pd.Series, path: Path) -> pd.Series:
    """Each case's template family: the root of its template's ``ref_templ_id`` chain (the template itself
    when it refers to none). Raises naming the rows whose ``ref_templ_id`` is not a template of the file, or
    a template that refers to two templates, or a chain that loops."""
    refs = check_range(raw, "ref_templ_id", 1, 10**6, path, allow_missing=True)
    unknown = refs.notna() & ~refs.isin(set(templates))
    if unknown.any():
        raise DataValidationError(
            f"ref_templ_id value(s) {sorted(set(refs[unknown].astype(int)))} name no template of the file",
            file=path,
            column="ref_templ_id",
            rows=list(raw.index[unknown]),
            values=list(refs[unknown]),
        )
    pairs = pd.DataFrame({"templ": templates, "ref": refs}).dropna().drop_duplicates()
    twice = pairs["templ"].duplicated(keep=False)
    if twice.any():
        raise DataValidationError(
            f"template(s) {sorted(set(pairs.loc[twice, 'templ'].astype(int)))} refer to more than one "
            "template",
            file=path,
            column="ref_templ_id",
            values=list(pairs.loc[twice, "ref"]),
        )
    parent = dict(zip(pairs["templ"].astype(int), pairs["ref"].astype(int)))

    def root(template: int) -> int:
        seen = []
        while template in parent:
            if template in seen:
                raise DataValidationError(
                    f"ref_templ_id chain loops: {[*seen, template]}", file=path, column="ref_templ_id"
                )
            seen.append(template)
            template = parent[template]
        return template

    return templates.astype(int).map(root)


def load(data_dir: Path) -> LoadedSource:
    path = Path(data_dir) / FILE
    raw = read_table(path, dtype={"test_case": str, "case_templ": str}, keep_default_na=False, na_values=[""])
    require_columns(raw, COLUMNS, path)
    check_nonempty_text(raw, "test_case", path)
    check_nonempty_text(raw, "functionality", path)
    check_allowed(raw, "label_gold", LABELS, path)
    check_allowed(raw, "target_ident", TARGET_GROUPS, path, allow_missing=True)
    templates = check_range(raw, "templ_id", 1, 10**6, path)
    case_ids = check_range(raw, "case_id", 1, 10**6, path)
    _check_functionalities(raw, path)
    log = FilterLog()
    df = raw.assign(
        id=case_ids.astype(int).astype(str),
        text=raw["test_case"].map(collapse_whitespace),
        label=raw["label_gold"].map(LABELS).astype(int),
        templ_id=templates.astype(int),
        family_id=template_families(raw, templates, path),
    )
    labels = ["label", "label_gold", "functionality", "target_ident", "direction"]
    extra = ["templ_id", "family_id", *(["case_templ"] if "case_templ" in raw.columns else [])]
    out = finalize(df[["id", "text", *labels, *extra]], NAME, labels, path, log)
    return LoadedSource(NAME, out, len(raw), log.as_dict(), path, LICENCE, DESCRIPTION, labels)


def hatecheck_overlap(frame: pd.DataFrame, cases: pd.DataFrame) -> pd.Series:
    """Rows of ``frame`` whose text is a HateCheck case (normalised as the phase-2 leakage check does):
    a boolean mask aligned with ``frame``. The study's train / selection / validation splits must have none
    (checked by tests on the real data and by notebook 01's data report)."""
    keys = set(cases["text"].map(normalise_for_matching))
    return frame["text"].map(normalise_for_matching).isin(keys)


def evaluation_only_check(frame: pd.DataFrame, cases: pd.DataFrame, what: str) -> dict[str, int]:
    """Raise :class:`DataLeakageError` naming the rows of ``frame`` (``what``: e.g. "phase-1 corpus") whose
    text is a HateCheck case; returns what was checked when clean."""
    overlap = hatecheck_overlap(frame, cases).to_numpy()
    if overlap.any():
        rows = frame.loc[overlap]
        raise DataLeakageError(
            f"{int(overlap.sum())} row(s) are HateCheck cases (evaluation only), "
            f"e.g. {rows['text'].head(3).tolist()}",
            file=what,
            column="text",
            rows=list(rows.index),
        )
    return {"rows_checked": len(frame), "hatecheck_cases": len(cases)}
