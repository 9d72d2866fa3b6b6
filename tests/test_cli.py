"""``python -m hatespeech anticipate|score`` on a tiny saved random model and dummy CSVs (Detoxify style)."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hatespeech.__main__ import EXIT_BAD_INPUT, main
from hatespeech.anticipation.inference import Anticipator
from hatespeech.models.prefix import tiny_prefix_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, offline_tokenizer):
    tokenizer = offline_tokenizer("offline:smollm2-135m")
    folder = tmp_path_factory.mktemp("tiny_decoder")
    tiny_prefix_classifier("decoder", tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def csv_dir(fixtures_dir):
    return fixtures_dir / "anticipation"


def test_anticipate_prints_one_row_per_word(model_dir, capsys):
    assert main(["anticipate", "--model", str(model_dir), "I am not sexist, but"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out if line[:4].strip().isdigit()]
    assert [r[1] for r in rows] == ["I", "am", "not", "sexist,", "but"]
    expected = Anticipator.from_pretrained(model_dir).trajectory("I am not sexist, but")["p_hate"].to_numpy()
    assert np.allclose([float(r[2]) for r in rows], expected, atol=1e-3)


def test_anticipate_stream_reads_stdin(model_dir, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("I am\nnot sexist, but\n"))
    assert main(["anticipate", "--model", str(model_dir), "--stream"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5] and rows[3][1] == "sexist,"
    expected = Anticipator.from_pretrained(model_dir).trajectory("I am not sexist, but")["p_hate"].to_numpy()
    assert np.allclose([float(r[2]) for r in rows], expected, atol=1e-3)


def test_score_adds_p_hate_column(model_dir, csv_dir, tmp_path, capsys):
    output = tmp_path / "out" / "scored.csv"
    code = main(
        [
            "score",
            "--model",
            str(model_dir),
            "--input",
            str(csv_dir / "prefixes.csv"),
            "--output",
            str(output),
            "--batch-size",
            "3",
            "--quiet",
        ]
    )
    assert code == 0
    scored = pd.read_csv(output, keep_default_na=False)
    original = pd.read_csv(csv_dir / "prefixes.csv", keep_default_na=False)
    assert list(scored.columns) == [*list(original.columns), "p_hate"]
    assert scored["text"].tolist() == original["text"].tolist()  # order kept; the text "NA" is not dropped
    expected = Anticipator.from_pretrained(model_dir).score(original["text"].tolist(), progress=False)
    assert np.allclose(scored["p_hate"], expected, atol=1e-6)
    assert scored["p_hate"].between(0, 1).all() and scored["p_hate"].std() > 1e-3
    assert "scored 8 rows" in capsys.readouterr().err


def test_long_inputs_are_truncated_with_a_warning(model_dir, tmp_path, capsys):
    """Texts longer than the backbone's limit (256 tokens for the tiny decoder) are scored on the words that
    fit, and stderr names how many were cut."""
    long_text = " ".join(["word"] * 300)
    assert main(["anticipate", "--model", str(model_dir), long_text]) == 0
    captured = capsys.readouterr()
    p = [float(line.split()[2]) for line in captured.out.splitlines() if line[:4].strip().isdigit()]
    assert len(p) == 300 and len(set(p[255:])) == 1  # words past the limit repeat the last fitting p_hate
    assert "warning: 1 of 1 input(s) truncated: longer than max_length=256 tokens" in captured.err
    source = tmp_path / "long.csv"
    pd.DataFrame({"text": ["You people", long_text, long_text + " again"]}).to_csv(source, index=False)
    output = tmp_path / "long_scored.csv"
    assert main(["score", "--model", str(model_dir), "--input", str(source), "--output", str(output)]) == 0
    assert "warning: 2 of 3 input(s) truncated" in capsys.readouterr().err
    scored = pd.read_csv(output)["p_hate"]
    assert scored[1] == scored[2] == pytest.approx(p[-1], abs=1e-3)


def test_score_other_text_column(model_dir, csv_dir, tmp_path):
    output = tmp_path / "scored.csv"
    assert (
        main(
            [
                "score",
                "--model",
                str(model_dir),
                "--input",
                str(csv_dir / "prefixes_other_column.csv"),
                "--output",
                str(output),
                "--text-column",
                "comment_text",
                "--quiet",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(output)) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["score", "--input", "{csv}/missing.csv"], "missing.csv' does not exist"),
        (
            ["score", "--input", "{csv}/prefixes_other_column.csv"],
            "no column 'text' (columns: id, comment_text)",
        ),
        (
            ["score", "--input", "{csv}/prefixes_empty_text.csv"],
            "column 'text' is empty in 1 row(s): row index [1] (file line 3)",
        ),
        (["score", "--input", "{csv}/prefixes_not_utf8.csv"], "cannot read"),
        (["score", "--input", "{csv}"], "is a folder, not a CSV file"),
        (["score", "--input", "{csv}/prefixes.csv", "--batch-size", "0"], "--batch-size must be >= 1"),
        (["anticipate", "   "], "empty text"),
        (["anticipate"], "no text"),
    ],
)
def test_bad_input_exits_2_with_message(args, message, model_dir, csv_dir, tmp_path, capsys):
    args = [a.replace("{csv}", str(csv_dir)) for a in args]
    args[1:1] = ["--model", str(model_dir)]
    if args[0] == "score":
        args += ["--output", str(tmp_path / "out.csv"), "--quiet"]
    assert main(args) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "out.csv").exists()


def test_model_dir_that_is_not_a_model(csv_dir, tmp_path, capsys):
    not_a_model = tmp_path / "empty_folder"
    not_a_model.mkdir()
    assert main(["anticipate", "--model", str(not_a_model), "hello"]) == EXIT_BAD_INPUT
    assert "empty_folder' has no config.json" in capsys.readouterr().err
    assert (
        main(
            [
                "score",
                "--model",
                str(tmp_path / "nope"),
                "--input",
                str(csv_dir / "prefixes.csv"),
                "--output",
                str(tmp_path / "o.csv"),
            ]
        )
        == EXIT_BAD_INPUT
    )
    assert "nope' does not exist" in capsys.readouterr().err


def test_module_entry_point_runs(model_dir):
    """The real ``python -m hatespeech`` process prints the table (exit codes are tested in-process)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ok = subprocess.run(
        [sys.executable, "-m", "hatespeech", "anticipate", "--model", str(model_dir), "You people"],
        capture_output=True,
        text=True,
        env=env,
        check=False,  # the assertions below read the exit code
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    rows = [line.split() for line in ok.stdout.splitlines() if line[:4].strip().isdigit()]
    assert [r[1] for r in rows] == ["You", "people"]
