"""Command line: ``python -m hatespeech {anticipate,score,classify}`` (also installed as ``hatespeech``).

    python -m hatespeech anticipate --model DIR "I am not sexist, but"     # per-word p_hate table
    python -m hatespeech classify --model DIR "you people are all the same"  # dual head: P(label) per label
    python -m hatespeech classify --model DIR --input in.csv --output out.csv  # + p_<label>, is_<label>
    echo "I am not sexist, but" | python -m hatespeech anticipate --model DIR --stream
    python -m hatespeech score --model DIR --input in.csv --output out.csv [--text-column text]
    python -m hatespeech anticipate --model DIR --quantize int8 --stream      # int8 CPU scoring

Bad input (missing or unreadable file, missing column, empty text, a folder that is not a saved model) prints
one line on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2
BAR_WIDTH = 30


class InputError(ValueError):
    """Bad user input; reported on stderr with exit status 2."""


def _bar(probability: float) -> str:
    return "#" * round(probability * BAR_WIDTH)


def _load(model_dir: str, device: str | None, quantize: str | None = None):
    from .anticipation.inference import Anticipator, NotAModelDirError  # heavy (torch): only once args parse
    from .anticipation.quantize import QuantizationError

    try:
        return Anticipator.from_pretrained(model_dir, device=device, quantize=quantize)
    except NotAModelDirError as exc:
        raise InputError(str(exc)) from exc
    except QuantizationError as exc:
        raise InputError(f"{model_dir}: cannot score with --quantize {quantize}: {exc}") from exc


def _warn_truncated(
    n_truncated: int, n_inputs: int, max_length: int, words_beyond: int | None = None
) -> None:
    """One stderr line when inputs were longer than the scorer's ``max_length`` (scored on the words that
    fit)."""
    if not n_truncated:
        return
    beyond = f"; {words_beyond} word(s) beyond it repeat the last fitting p_hate" if words_beyond else ""
    print(
        f"warning: {n_truncated} of {n_inputs} input(s) truncated: longer than max_length={max_length} "
        f"tokens, scored on the words that fit{beyond}",
        file=sys.stderr,
    )


def cmd_anticipate(args: argparse.Namespace) -> int:
    if args.stream and args.text:
        raise InputError("give either TEXT or --stream (words from stdin), not both")
    if not args.stream and not args.text:
        raise InputError("no text: give TEXT or use --stream to read words from stdin")
    text = " ".join(args.text)
    if not args.stream and not text.split():
        raise InputError("empty text: give at least one word")
    anticipator = _load(args.model, args.device, args.quantize)
    if args.stream:
        stream = anticipator.stream()
        print(f"# streaming with {anticipator.variant} ({args.model}); one line per word", flush=True)
        for line in sys.stdin:
            for word in line.split():
                try:
                    probability = stream.add_word(word)
                except ValueError as exc:
                    raise InputError(str(exc)) from exc
                print(
                    f"{len(stream.words):4d}  {word:<20s} {probability:6.3f}  {_bar(probability)}", flush=True
                )
        if not stream.words:
            raise InputError("empty text: stdin held no words")
        _warn_truncated(
            int(stream.truncated_words > 0), 1, anticipator.max_length, words_beyond=stream.truncated_words
        )
        return 0
    try:
        table = anticipator.trajectory(text)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    print(f"# P(finished sentence is hateful | first k words), model {args.model} ({anticipator.variant})")
    print(f"{'k':>4s}  {'word':<20s} {'p_hate':>6s}")
    for row in table.itertuples(index=False):
        print(f"{row.k:4d}  {row.word:<20s} {row.p_hate:6.3f}  {_bar(row.p_hate)}")
    _warn_truncated(
        anticipator.last_truncated,
        1,
        anticipator.max_length,
        words_beyond=anticipator.last_truncation["prefixes_beyond_max_length"],
    )
    return 0


def read_texts(path: str | Path, column: str):
    """Read ``path`` as CSV and return (frame, texts); InputError naming file, column and row if bad."""
    import pandas as pd  # inside, like the other heavy imports here: `--help` stays instant

    path = Path(path)
    if not path.exists():
        raise InputError(f"input file {str(path)!r} does not exist")
    if path.is_dir():
        raise InputError(f"input {str(path)!r} is a folder, not a CSV file")
    try:
        frame = pd.read_csv(path, dtype={column: "string"}, keep_default_na=False, na_values=[])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise InputError(f"cannot read {str(path)!r} as CSV: {exc}") from exc
    if column not in frame.columns:
        raise InputError(
            f"{str(path)!r} has no column {column!r} (columns: {', '.join(map(str, frame.columns))}); "
            "choose one with --text-column"
        )
    texts = frame[column].astype("string").fillna("")
    blank = texts.str.strip() == ""
    if blank.any():
        rows = [int(i) for i in blank[blank].index[:5]]
        lines = ", ".join(str(r + 2) for r in rows)  # +1 for the header, +1 for 1-based line numbers
        raise InputError(
            f"{str(path)!r}: column {column!r} is empty in {int(blank.sum())} row(s): row index {rows} "
            f"(file line {lines}); remove them or fill in the text"
        )
    if frame.empty:
        raise InputError(f"{str(path)!r} has no rows")
    return frame, texts.tolist()


def _check_batch_size(args: argparse.Namespace) -> None:
    if args.batch_size < 1:
        raise InputError(f"--batch-size must be >= 1, got {args.batch_size}")


def cmd_score(args: argparse.Namespace) -> int:
    _check_batch_size(args)
    frame, texts = read_texts(args.input, args.text_column)
    anticipator = _load(args.model, args.device, args.quantize)
    try:
        frame[args.output_column] = anticipator.score(
            texts, batch_size=args.batch_size, progress=not args.quiet
        )
    except ValueError as exc:
        raise InputError(f"{args.input}: {exc}") from exc
    _warn_truncated(anticipator.last_truncated, len(texts), anticipator.max_length)
    output = _write_csv(frame, args.output)
    print(f"scored {len(frame)} rows with {anticipator.variant} -> {output}", file=sys.stderr)
    return 0


def _load_dual_head(model_dir: str, device: str | None):
    from .dualhead.scorer import DualHeadScorer, NotADualHeadModelError  # heavy: after args parse

    try:
        return DualHeadScorer.from_pretrained(model_dir, device=device)
    except NotADualHeadModelError as exc:
        raise InputError(str(exc)) from exc


def _write_csv(frame, output: str) -> Path:
    path = Path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
    except OSError as exc:
        raise InputError(f"cannot write {str(path)!r}: {exc}") from exc
    return path


def cmd_classify(args: argparse.Namespace) -> int:
    if args.input or args.output:
        return _classify_csv(args)
    text = " ".join(args.text)
    if not text.split():
        raise InputError("empty text: give at least one word (or --input CSV --output CSV)")
    scorer = _load_dual_head(args.model, args.device)
    probabilities = scorer.predict([text])
    decided = scorer.decide(probabilities) if scorer.thresholds is not None else None
    print(
        f"# P(label | text), dual-head model {args.model}"
        + ("; * = above its tuned threshold" if decided is not None else "")
    )
    for label in probabilities.columns:
        p = float(probabilities[label].iloc[0])
        mark = "*" if decided is not None and decided[label].iloc[0] else " "
        print(f"{label:<20s} {p:6.3f} {mark} {_bar(p)}")
    return 0


def _classify_csv(args: argparse.Namespace) -> int:
    """The input CSV plus ``p_<label>`` (P(label)) for every label and, when the model carries its tuned
    thresholds, ``is_<label>`` (0/1 at that threshold)."""
    if args.text:
        raise InputError("give either TEXT or --input/--output, not both")
    if not (args.input and args.output):
        raise InputError("--input and --output go together")
    _check_batch_size(args)
    frame, texts = read_texts(args.input, args.text_column)
    scorer = _load_dual_head(args.model, args.device)
    table = scorer.classify(texts, batch_size=args.batch_size, progress=not args.quiet)
    for column in table.columns:
        frame[column] = table[column].to_numpy()
    tuned = scorer.thresholds is not None
    output = _write_csv(frame, args.output)
    print(
        f"classified {len(frame)} rows ({'with' if tuned else 'without'} tuned thresholds) -> {output}",
        file=sys.stderr,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hatespeech", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    anticipate = sub.add_parser(
        "anticipate", help="per-word P(hateful) of a text, or of words read from stdin"
    )
    anticipate.add_argument("--model", required=True, help="folder of a saved prefix classifier")
    anticipate.add_argument(
        "--stream",
        action="store_true",
        help="read words from stdin and print the updated probability after each",
    )
    anticipate.add_argument("--device", default=None, help="cpu / cuda (default: cuda when available)")
    anticipate.add_argument(
        "--quantize",
        choices=("int8", "bf16"),
        default=None,
        help="int8 backbone run by ONNX Runtime (or bf16): faster CPU scoring with slightly "
        "different probabilities; the report's speed section says for which variants (default: fp32)",
    )
    anticipate.add_argument("text", nargs="*", help="the text (words are whitespace-separated)")
    anticipate.set_defaults(func=cmd_anticipate)

    score = sub.add_parser("score", help="add a p_hate column to a CSV whose text column holds prefixes")
    score.add_argument("--model", required=True, help="folder of a saved prefix classifier")
    score.add_argument("--input", required=True, help="input CSV")
    score.add_argument("--output", required=True, help="output CSV (the input plus a p_hate column)")
    score.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
    score.add_argument("--output-column", default="p_hate", help="name of the added column (default: p_hate)")
    score.add_argument("--batch-size", type=int, default=64)
    score.add_argument("--device", default=None, help="cpu / cuda (default: cuda when available)")
    score.add_argument(
        "--quantize",
        choices=("int8", "bf16"),
        default=None,
        help="int8 backbone run by ONNX Runtime (or bf16): faster CPU scoring with slightly "
        "different probabilities; the report's speed section says for which variants (default: fp32)",
    )
    score.add_argument("--quiet", action="store_true", help="no progress bar")
    score.set_defaults(func=cmd_score)

    classify = sub.add_parser(
        "classify", help="the dual-head model's P(label) for every label of a text, or of a CSV's texts"
    )
    classify.add_argument("--model", required=True, help="folder of a saved dual-head model (notebook 04)")
    classify.add_argument("--device", default=None, help="cpu / cuda (default: cuda when available)")
    classify.add_argument("--input", help="input CSV (with --output, instead of TEXT)")
    classify.add_argument(
        "--output", help="output CSV: the input plus p_<label> and, with tuned thresholds, is_<label>"
    )
    classify.add_argument("--text-column", default="text", help="column holding the texts (default: text)")
    classify.add_argument("--batch-size", type=int, default=32)
    classify.add_argument("--quiet", action="store_true", help="no progress bar")
    classify.add_argument("text", nargs="*", help="the text")
    classify.set_defaults(func=cmd_classify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from transformers.utils import logging as hf_logging  # heavy: only once the arguments parse

    hf_logging.disable_progress_bar()  # "Loading weights" bars would drown the table; tqdm for scoring stays
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
