"""The pandas API: the same rows and columns as the CSV exports, with proper dtypes."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import alignkg
from alignkg import export, frames
from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
KG = ROOT / "kg"
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"


@cache
def _kg() -> KnowledgeGraph:
    return assemble([KG])


def _read(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _as_csv_text(value: object) -> str:
    """A frame cell written the way the CSV writes it."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _assert_frame_is_csv(frame: pd.DataFrame, rows: list[dict[str, str]]) -> None:
    assert rows, "compare against something"
    assert list(frame.columns) == list(rows[0])
    assert len(frame) == len(rows)
    for name in frame.columns:
        cells = [_as_csv_text(v) for v in frame[name].astype(object)]
        assert cells == [r[name] for r in rows], name


# --- stages_frame --------------------------------------------------------------------


@cache
def _stages() -> pd.DataFrame:
    return frames.stages_frame(kg=_kg())


def test_stages_frame_equals_the_csv_read_back() -> None:
    rows = _read(export.dyad_years_csv(_kg()))
    frame = _stages()
    assert frame.shape == (264, 25)
    _assert_frame_is_csv(frame, rows)


def test_stages_frame_equals_pandas_reading_the_csv() -> None:
    """What pandas.read_csv infers (float for integers with gaps) holds the same values."""
    read = pd.read_csv(io.StringIO(export.dyad_years_csv(_kg())))
    frame = _stages()
    assert list(read.columns) == list(frame.columns)
    for name in frame.columns:
        if str(frame[name].dtype) == "Int64":
            expected = read[name].astype("Float64").astype("Int64")
            pd.testing.assert_series_equal(frame[name], expected, check_names=True)


def test_stages_frame_dtypes() -> None:
    frame = _stages()
    columns = export.dyad_year_columns(_kg().ontology, _kg().ladder)
    for column in columns:
        dtype = frame[column.name].dtype
        if column.type == "integer":
            assert str(dtype) == "Int64", column.name
        elif column.name.startswith(("stage_", "level_")):
            assert isinstance(dtype, pd.CategoricalDtype) and dtype.ordered, column.name
        else:
            assert str(dtype) == "string", column.name
    stages = frame["stage_strict"].dtype
    assert isinstance(stages, pd.CategoricalDtype)
    assert list(stages.categories) == ["none", "early", "moderate", "advanced"]
    levels = frame["level_manifested"].dtype
    assert isinstance(levels, pd.CategoricalDtype)
    assert list(levels.categories) == ["low", "high"]
    # ordered: comparisons follow the ladder
    chn_rus = frame[frame["dyad"] == "CHN-RUS"]
    assert (chn_rus["stage_manifested"] >= chn_rus["stage_strict"]).all()


@pytest.mark.parametrize("dyad", ["CHN-RUS", "RUS-CHN", "rus/chn"])
def test_stages_frame_filters_by_dyad(dyad: str) -> None:
    frame = frames.stages_frame(dyad=dyad, kg=_kg())
    assert set(frame["dyad"]) == {"CHN-RUS"}
    assert frame["year"].tolist() == list(range(1992, 2018))
    everything = _stages()
    expected = everything[everything["dyad"] == "CHN-RUS"].reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, expected)


@pytest.mark.parametrize(
    ("reading", "kept", "dropped"),
    [
        ("strict", "stage_strict", "stage_manifested"),
        ("manifested", "level_manifested_rank", "precursors_strict"),
    ],
)
def test_stages_frame_keeps_one_readings_columns(reading: str, kept: str, dropped: str) -> None:
    frame = frames.stages_frame(reading=reading, kg=_kg())
    assert kept in frame.columns and dropped not in frame.columns
    assert "ind1_cbm" in frame.columns and "year" in frame.columns
    other = "manifested" if reading == "strict" else "strict"
    assert not any(other in name for name in frame.columns)
    pd.testing.assert_frame_equal(frame, _stages()[list(frame.columns)])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reading": "loose"}, "reading 'loose'"),
        ({"dyad": "CHN"}, "not two ISO"),
        ({"dyad": "FRA-GBR"}, "FRA-GBR has no assessed years"),
    ],
)
def test_stages_frame_refuses_bad_arguments(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        frames.stages_frame(kg=_kg(), **kwargs)  # type: ignore[arg-type]


# --- events_frame and sources_frame -------------------------------------------------------


def test_events_frame_equals_the_events_csv() -> None:
    frame = frames.events_frame(kg=_kg())
    _assert_frame_is_csv(frame, _read(export.events_csv(_kg().store)))
    assert str(frame["indicator"].dtype) == "Int64"
    assert pd.api.types.is_datetime64_any_dtype(frame["start"])
    assert pd.api.types.is_datetime64_any_dtype(frame["end"])
    for name in ("dimension", "aspect", "precision", "persistence", "level"):
        assert isinstance(frame[name].dtype, pd.CategoricalDtype), name
    assert str(frame["label"].dtype) == "string"
    level = frame["level"].dtype
    assert isinstance(level, pd.CategoricalDtype) and list(level.categories) == ["low", "high"]


def test_events_frame_filters_by_dyad() -> None:
    frame = frames.events_frame(dyad="RUS-CHN", kg=_kg())
    rows = [r for r in _read(export.events_csv(_kg().store)) if r["dyad"] == "CHN-RUS"]
    _assert_frame_is_csv(frame, rows)
    assert set(frame["dimension"]) == {"military", "diplomatic", "economic"}
    with pytest.raises(UsageError, match="FRA-GBR has no events"):
        frames.events_frame(dyad="GBR-FRA", kg=_kg())


def test_sources_frame_equals_the_sources_csv() -> None:
    frame = frames.sources_frame(kg=_kg())
    _assert_frame_is_csv(frame, _read(export.sources_csv(_kg().store)))
    assert len(frame) == 118
    assert str(frame["events"].dtype) == "Int64"
    assert isinstance(frame["kind"].dtype, pd.CategoricalDtype)
    assert str(frame["date"].dtype) == "string"  # a year, a month or a day, as given


# --- import alignkg, and reading files ------------------------------------------------------


def test_frames_are_reachable_from_the_package() -> None:
    assert alignkg.stages_frame is frames.stages_frame
    assert alignkg.events_frame is frames.events_frame
    assert alignkg.sources_frame is frames.sources_frame
    assert {"stages_frame", "events_frame", "sources_frame"} <= set(dir(alignkg))
    with pytest.raises(AttributeError, match="no attribute 'stage_frame'"):
        alignkg.stage_frame  # type: ignore[attr-defined]  # noqa: B018


def test_import_alignkg_does_not_import_pandas() -> None:
    code = (
        "import sys, alignkg; assert 'pandas' not in sys.modules, 'pandas'; "
        "alignkg.stages_frame; assert 'pandas' in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_frames_read_paths_and_rebuild_only_when_a_file_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(MINI, data / "mini.ttl")
    first = frames.knowledge_graph([data])
    assert frames.knowledge_graph((str(data),)) is first
    frame = frames.stages_frame([data], dyad="CHN-RUS")
    assert frame["year"].min() == 1992
    stamp = (data / "mini.ttl").stat().st_mtime_ns + 10**9
    os.utime(data / "mini.ttl", ns=(stamp, stamp))
    assert frames.knowledge_graph([data]) is not first


def test_frames_say_where_to_look_when_paths_are_missing(tmp_path: Path) -> None:
    from alignkg.errors import InputError

    with pytest.raises(InputError, match="no such file or folder"):
        frames.stages_frame([tmp_path / "nowhere"])
