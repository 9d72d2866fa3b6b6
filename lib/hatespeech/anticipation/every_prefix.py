"""Every-prefix evaluation of a binary anticipation scorer: every word-prefix of every sentence is scored, and
each sentence weighs 1, split evenly over its prefixes (weight 1 / n_words), so that a 40-word Stormfront
sentence does not count 10x a 4-word one.

Metrics come from weighted confusion counts kept *per sentence* (:func:`sentence_counts`): the bootstrap then
resamples sentences (Stormfront: posts) and adds up their counts, which is exact and needs no prefix-level
resampling (a sentence's prefixes are never independent units). Hand-written because sklearn's metrics take
sample weights but cannot be summed over resampled clusters; :func:`counts_metrics` is tested equal to
sklearn's weighted accuracy / precision / recall / F1.

The unweighted figures (every prefix counts 1) stay beside them as a secondary view.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ..baselines import best_f1_threshold

#: Columns of a per-sentence counts array: weighted true positives, false positives, false negatives,
#: true negatives (each row sums to the sentence's weight: 1, or n_words unweighted).
COUNT_COLUMNS = ("tp", "fp", "fn", "tn")
#: Bins of the share of the sentence seen (k / n_words): deciles, labelled "0-10%", ..., "90-100%".
DECILE_EDGES = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))
THRESHOLD = 0.5


def prefix_rows(sentences: pd.DataFrame, trajectories: list[np.ndarray]) -> pd.DataFrame:
    """One row per word-prefix: ``sentence`` (row position in ``sentences``), ``group`` (the bootstrap unit:
    the sentence's ``group`` column, e.g. the Stormfront post, else the sentence), ``source``, ``label``,
    ``k``, ``n_words``, ``w_len``, ``weight`` (1 / n_words) and ``p_hate`` (``trajectories[i][k - 1]``)."""
    if len(sentences) != len(trajectories):
        raise ValueError(f"{len(sentences)} sentences but {len(trajectories)} trajectories")
    n_words = np.array([len(t) for t in trajectories], dtype=int)
    if (n_words == 0).any():
        raise ValueError(f"empty trajectory for sentence row(s) {np.flatnonzero(n_words == 0)[:5].tolist()}")
    sentence = np.repeat(np.arange(len(sentences)), n_words)
    k = np.concatenate([np.arange(1, n + 1) for n in n_words]) if len(n_words) else np.array([], int)
    groups = sentences["group"].to_numpy() if "group" in sentences else np.arange(len(sentences))
    frame = pd.DataFrame(
        {
            "sentence": sentence,
            "group": np.asarray(groups, dtype=object)[sentence],
            "label": sentences["label"].to_numpy(int)[sentence],
            "k": k,
            "n_words": n_words[sentence],
        }
    )
    if "source" in sentences:
        frame.insert(2, "source", sentences["source"].to_numpy()[sentence])
    frame["w_len"] = frame["k"] / frame["n_words"]
    frame["weight"] = 1.0 / frame["n_words"]
    frame["p_hate"] = np.concatenate(trajectories).astype(float) if len(n_words) else []
    return frame


def tuned_threshold(rows: pd.DataFrame, prob: str = "p_hate") -> float:
    """The threshold that maximises the sentence-weighted F1 over every prefix of ``rows`` (choose it on the
    selection set only); 0.5 when there is no hateful sentence (toy data)."""
    labels = rows["label"].to_numpy(int)
    if not labels.any():
        return THRESHOLD
    return best_f1_threshold(labels, rows[prob].to_numpy(float), sample_weight=rows["weight"].to_numpy())


def sentence_counts(
    rows: pd.DataFrame, threshold: float, prob: str = "p_hate", weighted: bool = True
) -> np.ndarray:
    """Per-sentence confusion counts at ``threshold``, shape (n_sentences, 4) in :data:`COUNT_COLUMNS`
    order; weighted (each sentence sums to 1) or not (each prefix counts 1)."""
    y = rows["label"].to_numpy(bool)
    pred = rows[prob].to_numpy(float) >= threshold
    w = rows["weight"].to_numpy(float) if weighted else np.ones(len(rows))
    cells = np.stack([y & pred, ~y & pred, y & ~pred, ~y & ~pred], axis=1) * w[:, None]
    sentence = rows["sentence"].to_numpy(int)
    counts = np.zeros((sentence.max() + 1 if len(sentence) else 0, 4))
    np.add.at(counts, sentence, cells)
    return counts


def counts_metrics(counts: np.ndarray) -> dict[str, float]:
    """Accuracy, F1, precision and recall of summed confusion counts (0 where undefined, as sklearn's
    ``zero_division=0``)."""
    tp, fp, fn, tn = np.asarray(counts, dtype=float).reshape(-1, 4).sum(axis=0)
    total = tp + fp + fn + tn
    return {
        "accuracy": float((tp + tn) / total) if total else float("nan"),
        "f1": float(2 * tp / (2 * tp + fp + fn)) if tp + fp + fn else 0.0,
        "precision": float(tp / (tp + fp)) if tp + fp else 0.0,
        "recall": float(tp / (tp + fn)) if tp + fn else 0.0,
        "positive_share": float((tp + fn) / total) if total else float("nan"),
        "predicted_positive_share": float((tp + fp) / total) if total else float("nan"),
    }


def count_metric(name: str):
    """``metric(_, counts) -> float`` for :func:`hatespeech.metrics.bootstrap.multi_bootstrap` run on
    per-sentence counts (the first argument, the bootstrap's "truth", is unused: the counts hold it)."""

    def metric(_truth, counts) -> float:
        return counts_metrics(counts)[name]

    metric.__name__ = name
    return metric


def every_prefix_metrics(rows: pd.DataFrame, threshold: float, prob: str = "p_hate") -> dict:
    """Sentence-weighted metrics at ``threshold`` and at 0.5, with the unweighted ones beside them."""
    out = {
        **counts_metrics(sentence_counts(rows, threshold, prob)),
        "threshold": float(threshold),
        "weighting": "each sentence weighs 1, split evenly over its prefixes",
        "n_sentences": int(rows["sentence"].nunique()),
        "n_prefixes": len(rows),
    }
    out["at_0.5"] = counts_metrics(sentence_counts(rows, THRESHOLD, prob))
    out["unweighted"] = {
        **counts_metrics(sentence_counts(rows, threshold, prob, weighted=False)),
        "at_0.5": counts_metrics(sentence_counts(rows, THRESHOLD, prob, weighted=False)),
    }
    return out


def decile_bin(w_len) -> pd.Categorical:
    """Deciles of the share of the sentence seen: "0-10%" (0 < w_len <= .1), ..., "90-100%"."""
    edges = DECILE_EDGES
    labels = [f"{round(100 * lo)}-{round(100 * hi)}%" for lo, hi in itertools.pairwise(edges)]
    return pd.cut(np.asarray(w_len, dtype=float), edges, labels=labels, include_lowest=True)


def grouped_every_prefix(rows: pd.DataFrame, by: str, threshold: float, prob: str = "p_hate") -> pd.DataFrame:
    """Sentence-weighted metrics (at ``threshold``) per value of ``by`` (e.g. ``source`` or a decile column);
    ``weight`` is the sentences' total weight in the bin and ``n`` its prefixes."""
    out = []
    for key, part in rows.groupby(by, observed=True, sort=True):
        counts = sentence_counts(part, threshold, prob)
        out.append(
            {
                by: str(key),
                **counts_metrics(counts),
                "threshold": float(threshold),
                "weight": float(counts.sum()),
                "n": len(part),
            }
        )
    return pd.DataFrame(out)
