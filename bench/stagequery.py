"""Where the stage query's time goes, on pyoxigraph and on rdflib's engine.

    python bench/stagequery.py build/bench/small-seed1.nt.output.nq [--json OUT]

The input is a built graph written out as N-Quads (``bench/run.py``'s build phase writes
``build/bench/<data>.output.nq``). It is loaded once into each engine (pyoxigraph's
in-memory store; an rdflib ``Dataset`` whose default graph is the union of the named
graphs, as ``run.py``'s rdflib phase makes it), then a ladder of queries runs on both:
``bench/stagequery/*.rq``, from one pattern up to the stage table's columns, and last
``queries/stage-per-dyad-year.rq`` itself. Each query's rows are compared across the
engines (as lexical values, in any order) and its times set side by side: the ratio at
each rung shows whether the gap between the engines comes from the query's shape or
from what every row costs each engine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

Row = tuple[str | None, ...]
#: Columns that GROUP_CONCAT fills: SPARQL leaves the order of their items open, so they
#: are compared as sorted items.
LISTS = frozenset({"counted", "precursors"})


def ladder() -> list[Path]:
    """The queries, simplest first, the stage query itself last."""
    return [*sorted((HERE / "stagequery").glob("*.rq")), ROOT / "queries" / "stage-per-dyad-year.rq"]


def _comparable(names: list[str], rows: list[Row]) -> Counter[tuple[object, ...]]:
    """The rows keyed by column name, in any order, a list column's items sorted."""
    return Counter(
        tuple(
            (name, None if v is None else " ".join(sorted(v.split())) if name in LISTS else v)
            for name, v in sorted(zip(names, row, strict=True))
        )
        for row in rows
    )


Result = tuple[list[str], list[Row]]


def _best(run: Callable[[], Result], repeat: int) -> tuple[float, Result]:
    best, rows = float("inf"), ([], [])
    for _ in range(repeat):
        started = time.perf_counter()
        rows = run()
        best = min(best, time.perf_counter() - started)
    return best, rows


def measure(nquads: Path, *, repeat: int = 3, say: Callable[[str], None] = print) -> dict:
    """Load ``nquads`` into both engines and run every query of the ladder on each."""
    import pyoxigraph as ox
    from rdflib import Dataset

    started = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    ox_load = time.perf_counter() - started
    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(str(nquads), format="nquads")
    rdflib_load = time.perf_counter() - started
    say(f"loaded {len(store):,} quads: pyoxigraph {ox_load:.1f} s, rdflib {rdflib_load:.1f} s")

    def on_oxigraph(text: str) -> tuple[list[str], list[Row]]:
        found = store.query(text, use_default_graph_as_union=True)
        assert isinstance(found, ox.QuerySolutions)
        names = [v.value for v in found.variables]
        return names, [tuple(None if t is None else t.value for t in s) for s in found]

    def on_rdflib(text: str) -> tuple[list[str], list[Row]]:
        found = dataset.query(text)
        names = [str(v) for v in found.vars or []]
        return names, [tuple(None if t is None else str(t) for t in row) for row in found]

    queries = []
    for path in ladder():
        text = path.read_text(encoding="utf-8")
        ox_s, ox_rows = _best(lambda text=text: on_oxigraph(text), repeat)
        rd_s, rd_rows = _best(lambda text=text: on_rdflib(text), 1)
        same = _comparable(*ox_rows) == _comparable(*rd_rows)
        queries.append({"query": path.name, "rows": len(ox_rows[1]), "oxigraph_s": ox_s,
                        "rdflib_s": rd_s, "ratio": rd_s / ox_s, "identical": same})
        say(f"{path.name}: {len(ox_rows[1]):,} rows, pyoxigraph {ox_s:.2f} s, rdflib {rd_s:.1f} s, "
            f"{rd_s / ox_s:.0f}x, {'identical' if same else 'DIFFERENT'}")
    return {"quads": len(store), "oxigraph_load_s": ox_load, "rdflib_load_s": rdflib_load,
            "queries": queries}


def render(result: dict) -> str:
    """The ladder as a Markdown table."""
    lines = ["| query | rows | pyoxigraph s | rdflib s | rdflib ÷ pyoxigraph | "
             "pyoxigraph µs per row | identical |", "|---|---|---|---|---|---|---|"]
    for q in result["queries"]:
        per_row = q["oxigraph_s"] / q["rows"] * 1e6 if q["rows"] else 0.0
        lines.append(f"| `{q['query']}` | {q['rows']:,} | {q['oxigraph_s']:.2f} | "
                     f"{q['rdflib_s']:.1f} | {q['ratio']:.0f}× | {per_row:.1f} | "
                     f"{'yes' if q['identical'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("nquads", type=Path, help="a built graph written out as N-Quads")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--repeat", type=int, default=3,
                        help="pyoxigraph runs per query, the best kept (default: 3)")
    args = parser.parse_args(argv)
    if not args.nquads.is_file():
        parser.error(f"{args.nquads}: no such file (bench/run.py's build phase writes one)")
    try:
        result = measure(args.nquads, repeat=args.repeat)
    except SyntaxError as error:
        # pyoxigraph's message gives the line and column
        parser.exit(2, f"{parser.prog}: {args.nquads}: not N-Quads: {error.msg}\n")
    print(render(result), end="")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if all(q["identical"] for q in result["queries"]) else 1


if __name__ == "__main__":
    sys.exit(main())
