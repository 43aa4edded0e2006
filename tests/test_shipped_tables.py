"""helpers.shipped_tables: tables written byte for byte reproducibly, read only when intact."""

import pytest

from helpers.shipped_tables import build_command, read_table, write_table

COLUMNS = ("rate", "seed", "correct")
ROWS = ["0.001,0,351", "0.01,0,350"]


def test_a_table_reads_back_its_header_and_rows(tmp_path):
    digest = write_table(tmp_path / "t.csv.gz", ["# built by: hand"], COLUMNS, ROWS)
    header, rows = read_table(
        tmp_path / "t.csv.gz", digest, name="test table", columns=COLUMNS, restore="rebuild it."
    )
    assert header == ("built by: hand",)
    assert rows == ROWS


def test_the_same_results_give_the_same_bytes(tmp_path):
    first = write_table(tmp_path / "a.csv.gz", ["# x"], COLUMNS, ROWS)
    second = write_table(tmp_path / "b.csv.gz", ["# x"], COLUMNS, ROWS)
    assert first == second
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()


def test_a_table_is_refused_when_missing_changed_or_with_other_columns(tmp_path):
    path = tmp_path / "t.csv.gz"
    digest = write_table(path, [], COLUMNS, ROWS)
    ask = {"name": "test table", "restore": "rebuild it."}
    with pytest.raises(FileNotFoundError, match=r"test table not found: .*rebuild it"):
        read_table(tmp_path / "none.csv.gz", digest, columns=COLUMNS, **ask)
    with pytest.raises(ValueError, match=r"test table is corrupt: .* expected 0+\. rebuild it"):
        read_table(path, "0" * 64, columns=COLUMNS, **ask)
    with pytest.raises(ValueError, match="expected the columns rate,seed"):
        read_table(path, digest, columns=("rate", "seed"), **ask)
    # without an expected checksum (a table someone rebuilt) only the columns are checked
    assert read_table(path, None, columns=COLUMNS, **ask)[1] == ROWS


def test_the_build_command_writes_where_asked_and_says_what_to_do_with_the_checksum(
    tmp_path, capsys
):
    calls = []

    def build(out, **options):
        calls.append((out, options))
        return write_table(out, [], COLUMNS, ROWS)

    out = str(tmp_path / "t.csv.gz")
    ask = {"module": "helpers.x", "what": "a table", "table_file": "t.csv.gz", "build": build}
    assert build_command(["build", "--out", out], **ask) == 0
    assert build_command(["build", "--out", out, "--jobs", "3"], **ask, jobs=True) == 0
    assert calls == [(out, {}), (out, {"jobs": 3})]
    printed = capsys.readouterr().out
    assert printed.count(f"wrote {out}\nSHA-256 ") == 2 and "TABLE_SHA256" in printed
    with pytest.raises(SystemExit):  # --jobs only where the build takes it
        build_command(["build", "--jobs", "3"], **ask)
