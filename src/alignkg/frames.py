"""pandas DataFrames for notebooks: the dyad-years, the events and the sources.

Each frame has the rows and columns of the matching ``alignkg export`` CSV, with proper
dtypes: ``Int64`` for whole numbers (missing values are ``<NA>``), ordered categoricals for
stages and levels (in the ontology's rank order), ``string`` for text, dates as
``datetime64``. ``import alignkg`` stays light: pandas is imported only when a frame is
asked for (``alignkg.stages_frame()``)::

    import alignkg
    stages = alignkg.stages_frame(dyad="CHN-RUS")          # builds kg/ (a few seconds)
    events = alignkg.events_frame(dyad="CHN-RUS")          # reuses the same build

Every function reads ``paths`` (default ``kg/``) unless given a built graph ``kg=``;
builds are cached while the files under ``paths`` are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from alignkg import export
from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import UsageError
from alignkg.kg import discover
from alignkg.stages import READINGS, dyad_code

PathLike = str | Path
_Fingerprint = tuple[tuple[str, ...], tuple[tuple[str, int, int], ...]]
_CACHE: dict[_Fingerprint, KnowledgeGraph] = {}


def _fingerprint(paths: Sequence[PathLike]) -> _Fingerprint:
    chosen = [Path(p) for p in paths]
    files = []
    for file in discover(chosen):
        status = file.stat()
        files.append((str(file.resolve()), status.st_mtime_ns, status.st_size))
    return tuple(str(p.resolve()) for p in chosen), tuple(files)


def knowledge_graph(paths: Sequence[PathLike] = ("kg",)) -> KnowledgeGraph:
    """The graph built from ``paths``; built again only when a file under them changed."""
    if isinstance(paths, (str, Path)):
        paths = (paths,)
    key = _fingerprint(paths)
    if key not in _CACHE:
        kg = assemble([Path(p) for p in paths])
        _CACHE.clear()  # one build is enough to keep: they are large
        _CACHE[key] = kg
    return _CACHE[key]


def _graph(paths: Sequence[PathLike], kg: KnowledgeGraph | None) -> KnowledgeGraph:
    return kg if kg is not None else knowledge_graph(paths)


def _dtypes(frame: pd.DataFrame, dtypes: Mapping[str, object]) -> pd.DataFrame:
    for name, dtype in dtypes.items():
        frame[name] = frame[name].astype(dtype)  # type: ignore[call-overload]
    return frame


def _categories(values: Sequence[str]) -> pd.CategoricalDtype:
    return pd.CategoricalDtype(categories=list(values), ordered=True)


def stages_frame(
    paths: Sequence[PathLike] = ("kg",),
    *,
    dyad: str | None = None,
    reading: str | None = None,
    kg: KnowledgeGraph | None = None,
) -> pd.DataFrame:
    """The dyad-years of ``alignkg export dyad-years``: one row per dyad and year, sorted.

    ``dyad`` (``CHN-RUS`` or ``RUS-CHN``) keeps one dyad; ``reading`` (``strict`` or
    ``manifested``) keeps the stage columns of that reading only. Integer columns are
    ``Int64``; stages and levels are ordered categoricals (none < early < moderate <
    advanced; low < high); other text is ``string``.
    """
    if reading is not None and reading not in READINGS:
        raise UsageError(f"reading {reading!r}: use one of {', '.join(READINGS)}")
    code = dyad_code(dyad) if dyad is not None else None
    graph = _graph(paths, kg)
    columns = export.dyad_year_columns(graph.ontology, graph.ladder)
    rows = export.dyad_year_rows(graph.store, graph.ontology, ladder=graph.ladder, dyad=code)
    if code is not None and not rows:
        raise UsageError(f"dyad {code} has no assessed years in the graph (no events)")
    chosen = [c for c in columns if reading is None or c.reading in (None, reading)]
    frame = pd.DataFrame.from_records(rows, columns=[c.name for c in columns])
    frame = frame[[c.name for c in chosen]].copy()
    dtypes: dict[str, object] = {}
    for column in chosen:
        if column.type == "integer":
            dtypes[column.name] = "Int64"
        elif column.values and column.name.startswith(("stage_", "level_")):
            dtypes[column.name] = _categories([v.code for v in column.values])
        else:
            dtypes[column.name] = "string"
    return _dtypes(frame, dtypes).reset_index(drop=True)


def events_frame(
    paths: Sequence[PathLike] = ("kg",),
    *,
    dyad: str | None = None,
    kg: KnowledgeGraph | None = None,
) -> pd.DataFrame:
    """The events of ``alignkg export events``: one row per event and dyad.

    ``indicator`` (the rung) is ``Int64``; ``start`` and ``end`` are dates
    (``datetime64``; read ``precision`` for how much of each is known); ``dimension``,
    ``aspect``, ``level``, ``precision`` and ``persistence`` are categoricals; the rest
    is ``string`` (multi-valued cells joined as in the CSV).
    """
    code = dyad_code(dyad) if dyad is not None else None
    graph = _graph(paths, kg)
    records = [r for r in export.event_records(graph.store) if code is None or r["dyad"] == code]
    if code is not None and not records:
        raise UsageError(f"dyad {code} has no events in the graph")
    frame = pd.DataFrame.from_records(records, columns=list(export.EVENT_COLUMNS))
    frame = frame.replace("", None)
    dtypes: dict[str, object] = {c: "string" for c in export.EVENT_COLUMNS}
    dtypes["indicator"] = "Int64"
    for name in ("dimension", "aspect", "precision", "persistence"):
        dtypes[name] = "category"
    dtypes["level"] = _categories(export.level_codes(graph.ontology))
    frame = _dtypes(frame, {k: v for k, v in dtypes.items() if k not in ("start", "end")})
    for name in ("start", "end"):
        frame[name] = pd.to_datetime(frame[name], format="%Y-%m-%d")
    return frame.reset_index(drop=True)


def sources_frame(
    paths: Sequence[PathLike] = ("kg",),
    *,
    kg: KnowledgeGraph | None = None,
) -> pd.DataFrame:
    """The sources of ``alignkg export sources``: one row per cited document, in the
    order the paper first cites them. ``events`` (how many events cite the source) is
    ``Int64``; ``language`` and ``kind`` are categoricals; ``date`` stays text (a year,
    a year and month, or a full date, as the source gives it)."""
    graph = _graph(paths, kg)
    records = export.source_records(graph.store)
    frame = pd.DataFrame.from_records(records, columns=list(export.SOURCE_COLUMNS))
    frame = frame.replace("", None)
    dtypes: dict[str, object] = {c: "string" for c in export.SOURCE_COLUMNS}
    dtypes["events"] = "Int64"
    dtypes["language"] = "category"
    dtypes["kind"] = "category"
    return _dtypes(frame, dtypes).reset_index(drop=True)
