import pandas as pd
import pytest

from oco2explore import tableio
from oco2explore.errors import InputError
from oco2explore.tableio import atomic_path, read_table, read_table_metadata, write_table


@pytest.fixture
def table():
    return pd.DataFrame({"orbit": [1, 1, 2], "xco2": [400.0, 401.5, 399.25]})


@pytest.mark.parametrize("name", ["t.parquet", "t.csv"])
def test_round_trip_with_metadata(tmp_path, table, name):
    path = write_table(table, tmp_path / name, metadata={"fit_config": {"half_width_km": 100.0}})
    pd.testing.assert_frame_equal(read_table(path), table)
    assert read_table_metadata(path) == {"fit_config": {"half_width_km": 100.0}}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_failed_write_keeps_the_old_file(tmp_path, table):
    path = write_table(table, tmp_path / "t.csv")
    before = path.read_bytes()
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half a table")
        raise RuntimeError("crash mid-write")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_unknown_suffix_names_the_file(tmp_path, table):
    with pytest.raises(InputError, match=r"t\.xlsx.*unknown table format"):
        write_table(table, tmp_path / "t.xlsx")


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(InputError, match="nope.parquet: no such file"):
        read_table(tmp_path / "nope.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="bad.parquet: cannot read table"):
        read_table(bad)


def test_written_files_get_ordinary_permissions(tmp_path, table):
    """Not mkstemp's private 0600: what open() would give under the process umask."""
    path = write_table(table, tmp_path / "t.parquet")
    assert path.stat().st_mode & 0o777 == 0o666 & ~tableio._UMASK
    assert path.stat().st_mode & 0o044  # group/other can read under the usual umasks
