"""Tables a chapter shows are Markdown tables: a header, a rule, one line per row."""

import numpy as np
import pytest

from adaptsym.tables import labelled_table, markdown_rows, markdown_table, plus_minus


def test_markdown_rows_escape_the_column_separator():
    assert markdown_rows(["a", "b"], [[1, "x|y"]]) == ["| a | b |", "| --- | --- |", "| 1 | x\\|y |"]


def test_markdown_table_joins_the_rows():
    assert markdown_table(["a"], [[1], [2]]).data == "| a |\n| --- |\n| 1 |\n| 2 |"


def test_labelled_table_names_each_row_and_formats_each_value():
    table = labelled_table({"initialisation": np.array([1.5e-5, 2.0]), "trained": [0.25, 3]}, ["layer 1", "layer 2"],
                           corner="TV", fmt="{:.1e}")
    assert table.data.splitlines() == ["| TV | layer 1 | layer 2 |", "| --- | --- | --- |",
                                       "| initialisation | 1.5e-05 | 2.0e+00 |", "| trained | 2.5e-01 | 3.0e+00 |"]


def test_labelled_table_rejects_a_row_of_the_wrong_length():
    with pytest.raises(ValueError, match="'trained' has 1 values for 2 columns"):
        labelled_table({"trained": [0.1]}, ["layer 1", "layer 2"])


def test_plus_minus_rounds_the_value_and_its_error():
    assert plus_minus(0.123456, 0.00321) == "0.123 ± 0.0032"
