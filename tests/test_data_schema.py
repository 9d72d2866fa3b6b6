"""Schema helpers: error messages name file, column and row; the filter log counts; strict file reading."""

from __future__ import annotations

import pandas as pd
import pytest
from hatespeech.data.schema import (
    DataValidationError,
    FilterLog,
    check_allowed,
    check_nonempty_text,
    check_range,
    check_unique,
    finalize,
    read_table,
    read_text,
    require_columns,
    validate_schema,
)


def test_error_message_names_file_column_rows():
    err = DataValidationError("bad value 7", file="x/y.csv", column="label", rows=[3, 9])
    assert str(err) == "file x/y.csv, column 'label', row 3, 9: bad value 7"
    assert isinstance(err, ValueError)
    assert (err.file, err.column, err.rows) == ("x/y.csv", "label", [3, 9])


def test_error_message_truncates_many_rows():
    err = DataValidationError("bad", file="f", rows=range(12))
    assert "row 0, 1, 2, 3, 4 (+7 more)" in str(err)


def test_filter_log_counts_and_adds():
    log = FilterLog()
    df = pd.DataFrame({"x": [1, 2, 3, 4]})
    kept = log.drop(df, df["x"] > 2, "too_big")
    log.add("other", 0)  # zero counts are not recorded
    assert list(kept["x"]) == [1, 2]
    assert log.as_dict() == {"too_big": 2}
    assert (log + FilterLog({"too_big": 1, "y": 3})).as_dict() == {"too_big": 3, "y": 3}


def test_read_text_missing_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"file .*nope\.csv: file not found .*HATESPEECH_DATA_DIR"):
        read_text(tmp_path / "nope.csv")


def test_read_text_binary_garbage(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(b"a,b\n1,2\n\x00\x01\x02\xff\xfe")
    with pytest.raises(DataValidationError, match=r"garbage\.csv: unreadable: binary content .*line 3"):
        read_text(path)


def test_read_text_bad_encoding_names_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("text,label\nok,1\ncaf\xe9,0\n".encode("latin-1"))
    with pytest.raises(
        DataValidationError, match=r"latin1\.csv: unreadable encoding: byte b'\\xe9' .*line 3"
    ):
        read_text(path)


def test_read_table_parser_error_names_file(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text('a,b\n1,2\n3,"unterminated\n')
    with pytest.raises(DataValidationError, match=r"ragged\.csv: cannot parse as CSV"):
        read_table(path)


def test_read_table_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("  \n")
    with pytest.raises(DataValidationError, match=r"empty\.tsv: file is empty"):
        read_table(path, sep="\t")


def test_require_columns_lists_missing_and_found():
    df = pd.DataFrame({"text": ["a"], "lbl": [1]})
    with pytest.raises(
        DataValidationError,
        match=r"file f\.csv, column 'label': missing required column\(s\) "
        r"\['label'\]; found \['text', 'lbl'\]",
    ):
        require_columns(df, ["text", "label"], "f.csv")


def test_check_nonempty_text_names_rows():
    df = pd.DataFrame({"text": ["fine", "  ", None, "ok"]})
    with pytest.raises(
        DataValidationError, match=r"file f, column 'text', row 1, 2: empty text in 2 row\(s\)"
    ):
        check_nonempty_text(df, "text", "f")


def test_check_allowed_names_value_and_row():
    df = pd.DataFrame({"label": ["hate", "noHate", "maybe"]})
    with pytest.raises(DataValidationError, match=r"column 'label', row 2: label value\(s\) 'maybe' not in"):
        check_allowed(df, "label", ["hate", "noHate"], "f")
    check_allowed(pd.DataFrame({"label": ["hate", None]}), "label", ["hate"], "f", allow_missing=True)
    with pytest.raises(DataValidationError, match="row 1"):
        check_allowed(pd.DataFrame({"label": ["hate", None]}), "label", ["hate"], "f")


def test_check_range_out_of_range_and_non_numeric():
    df = pd.DataFrame({"p": [0.0, 0.5, 1.5]})
    with pytest.raises(
        DataValidationError,
        match=r"column 'p', row 2: label value\(s\) 1.5 outside the "
        r"range \[0.0, 1.0\]",
    ):
        check_range(df, "p", 0.0, 1.0, "f")
    with pytest.raises(DataValidationError, match=r"row 1: non-numeric label value\(s\) 'high'"):
        check_range(pd.DataFrame({"p": ["0.1", "high"]}), "p", 0.0, 1.0, "f")
    values = check_range(pd.DataFrame({"p": ["0.1", None]}), "p", 0, 1, "f", allow_missing=True)
    assert values.isna().tolist() == [False, True]


def test_check_unique_and_schema():
    with pytest.raises(DataValidationError, match=r"column 'id', row 0, 2: duplicate id"):
        check_unique(pd.DataFrame({"id": ["a", "b", "a"]}), "id", "f")
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['source'\]"):
        validate_schema(pd.DataFrame({"id": ["a"], "text": ["x"]}))


def test_finalize_orders_columns_and_counts_emptied_text():
    log = FilterLog()
    df = pd.DataFrame({"meta": [1, 2], "label": [1.0, float("nan")], "text": ["hi", " "], "id": [5, 6]})
    out = finalize(df, "src", ["label"], "f", log)
    assert list(out.columns) == ["id", "source", "text", "label", "meta"]
    assert out["id"].tolist() == ["5"] and out["source"].tolist() == ["src"]
    assert log.as_dict() == {"empty_after_cleaning": 1}
