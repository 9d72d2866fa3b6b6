"""What the speed benchmarks share: peak-memory sampling, timing, the real sentences they time, and the
decoder's one-token forward floor (``anticipation_speed`` and ``quantized_scoring`` both import it, neither
imports the other's helpers)."""

from __future__ import annotations

import os
import resource
import statistics
import threading
import time
from contextlib import contextmanager

import numpy as np
import torch


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the process's lifetime peak is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class PeakRSS:
    """Peak resident set size above the value at entry, sampled by a thread every ``interval`` seconds.

    Hand-written: tracemalloc sees only Python allocations, not torch tensors; psutil is not a dependency.
    """

    def __init__(self, interval: float = 0.001):
        self.interval = interval
        self.peak_mb = 0.0

    def __enter__(self):
        # Freed-but-resident heap pages would serve the allocations inside the block without raising RSS
        # (a peak of ~0 MB after anything big was freed earlier in the process): hand them back first.
        release_free_heap()
        self._base = _rss_bytes()
        self._peak = self._base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.is_set():
            self._peak = max(self._peak, _rss_bytes())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._peak = max(self._peak, _rss_bytes())
        self.peak_mb = (self._peak - self._base) / 2**20
        return False


def _glibc():
    """The C library when it is glibc (its malloc tunables are used below), else None."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:
        return None


def release_free_heap() -> bool:
    """Return the free pages of glibc's heap to the OS now (``malloc_trim(0)``): True if any were released.

    Without it, memory freed earlier in the process stays resident and is reused by later allocations, so
    RSS does not grow for them and a peak measured above an entry value reads ~0 MB.
    """
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


def return_freed_memory_to_os() -> bool:
    """Make glibc give freed tensor memory back to the OS at once, so RSS follows live allocations.

    Without it, glibc's dynamic mmap threshold grows after the first large frees and later allocations are
    served from the (never shrinking) heap: every method after the first would show ~0 MB. Linux/glibc only.
    """
    libc = _glibc()
    if libc is None:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_mmap_threshold, 64 * 1024)) and bool(
        libc.mallopt(m_trim_threshold, 128 * 1024)
    )


@contextmanager
def timer(out: list):
    start = time.perf_counter()
    yield
    out.append(time.perf_counter() - start)


# ------------------------------------------------------------------------------------------------ data
def pick_sentences(
    lengths, per_length: int, source: str = "implicit_hate", seed: int = 42
) -> dict[int, list[str]]:
    """``per_length`` real sentences of exactly L words for each L (seeded sample, via the data layer)."""
    from hatespeech.data import load_source

    df = load_source(source).df
    n_words = df["text"].str.split().str.len()
    rng = np.random.default_rng(seed)
    out = {}
    for length in lengths:
        pool = df.loc[n_words == length, "text"].drop_duplicates().tolist()
        if len(pool) < per_length:
            raise ValueError(
                f"{source} has only {len(pool)} texts of exactly {length} words; need {per_length}"
            )
        out[length] = [pool[i] for i in sorted(rng.choice(len(pool), size=per_length, replace=False))]
    return out


def prefixes_of(sentence: str) -> list[str]:
    words = sentence.split()
    return [" ".join(words[:k]) for k in range(1, len(words) + 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median_ms": 1e3 * statistics.median(values),
        "p95_ms": 1e3 * float(np.percentile(values, 95)),
        "mean_ms": 1e3 * statistics.fmean(values),
    }


def forward_floor(decoder, sentence: str, repeats: int = 3) -> dict:
    """Why streaming cannot get below a floor on CPU: a 1-token forward still reads every weight.

    Median time of a bare backbone forward over the sentence's first token vs over all its tokens.
    """
    ids = decoder.tokenizer(sentence, return_tensors="pt")["input_ids"]
    out = {"tokens": int(ids.shape[1])}
    with torch.inference_mode():
        for name, part in (("one_token_ms", ids[:, :1]), ("all_tokens_ms", ids)):
            times: list[float] = []
            decoder.model.backbone(part)
            for _ in range(repeats):
                with timer(times):
                    decoder.model.backbone(part)
            out[name] = 1e3 * statistics.median(times)
    out["ratio"] = out["one_token_ms"] / out["all_tokens_ms"]
    out["weights_mb"] = sum(p.numel() * p.element_size() for p in decoder.model.backbone.parameters()) / 2**20
    return out
