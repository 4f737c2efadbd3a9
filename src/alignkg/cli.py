"""The ``alignkg`` command line: a thin layer over the library.

Exit codes: 0 success (validation: clean or warnings only), 2 bad input (a file that
does not load, or a coding with validation violations: ``validate`` and ``build`` then
write nothing) or a runtime error. Every problem is reported as
``path:line:column: CODE: text``. Only this module prints or exits.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pyoxigraph as ox

from alignkg import evidence, export, query, stages
from alignkg.build import KnowledgeGraph, assemble
from alignkg.errors import AlignkgError, InputError, UsageError
from alignkg.output import write_atomic, write_atomic_with
from alignkg.remote import RemoteStore
from alignkg.store import OxigraphStore, RdflibStore, sorted_nquads
from alignkg.validate import Partition, Report, report_turtle, validate

EPILOG = "Exit codes: 0 success (warnings allowed), 2 bad input (violations included) or error."


class _Progress:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.quiet:
            elapsed = time.perf_counter() - self.started
            print(f"[{elapsed:6.2f}s] {message}", file=sys.stderr, flush=True)


def _common(parser: argparse.ArgumentParser, *, paths: bool = True) -> None:
    if paths:
        parser.add_argument(
            "--kg",
            dest="kg",
            type=Path,
            action="append",
            metavar="PATH",
            help="coded-event file or folder (repeatable; default: kg/)",
        )
    parser.add_argument(
        "--engine",
        choices=("oxigraph", "rdflib"),
        default="oxigraph",
        help="SPARQL engine (default: oxigraph; rdflib gives the same rows, much slower)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages")


def _endpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="build and query on this SPARQL 1.1 server instead of in memory "
        "(credentials: ALIGNKG_ENDPOINT_USER, ALIGNKG_ENDPOINT_PASSWORD)",
    )
    parser.add_argument(
        "--update-endpoint", metavar="URL", help="its SPARQL Update URL (default: by convention)"
    )
    parser.add_argument(
        "--gsp-endpoint",
        metavar="URL",
        help="its Graph Store Protocol URL (default: by convention, e.g. Oxigraph /store)",
    )
    parser.add_argument(
        "--endpoint-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="time limit of each request to the server (default: 60)",
    )


def _remote(args: argparse.Namespace) -> RemoteStore | None:
    """The store on the server of ``--endpoint``, or None (build in memory)."""
    url = getattr(args, "endpoint", None)
    if not url:
        return None
    return RemoteStore.connect(
        url,
        update=args.update_endpoint,
        gsp=args.gsp_endpoint,
        timeout=args.endpoint_timeout,
    )


def _warn(kg: KnowledgeGraph) -> KnowledgeGraph:
    """Print what the loader accepted with a remark (e.g. an owl:imports not followed)."""
    for parsed in kg.files:
        for warning in parsed.warnings:
            print(warning, file=sys.stderr)
    return kg


def _load(
    args: argparse.Namespace, paths: Sequence[Path] | None = None, until: int | None = None
) -> KnowledgeGraph:
    return _warn(_assemble(args, paths, until))


def _assemble(
    args: argparse.Namespace, paths: Sequence[Path] | None = None, until: int | None = None
) -> KnowledgeGraph:
    chosen = list(paths or getattr(args, "kg", None) or [Path("kg")])
    progress = _Progress(args.quiet)
    store = _remote(args)
    variant = getattr(args, "variant", None)
    if variant:
        from alignkg import variants

        rule_set = variants.rule_set(variant)
        return assemble(
            chosen,
            engine=args.engine,
            until=until,
            progress=progress,
            rule_set=rule_set,
            store=store,
        )
    return assemble(chosen, engine=args.engine, until=until, progress=progress, store=store)


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year") from None
    if not 1000 <= year <= 9999:
        raise argparse.ArgumentTypeError(f"{text!r} is not a four-digit year")
    return year


def _print_report(report: Report) -> None:
    for finding in report.findings:
        print(finding.line())
    print(report.summary(), file=sys.stderr)


# --- commands -------------------------------------------------------------------


def _jobs(text: str) -> int:
    """``--jobs``: a positive number of worker processes."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of processes")
    return int(text)


def _cache_folder(args: argparse.Namespace) -> Path | None:
    """The persistent store of ``build``, or None when it builds in memory or on a server."""
    if args.no_cache or args.engine != "oxigraph" or getattr(args, "endpoint", None):
        return None
    folder: Path = args.cache or args.out / "cache"
    return folder


def _load_cached(args: argparse.Namespace) -> tuple[KnowledgeGraph, Partition | None]:
    """The knowledge graph, from the persistent store when there is one, and what of it
    validation must check again (None: all of it)."""
    folder = _cache_folder(args)
    if folder is None:
        return _load(args), None
    from alignkg import rebuild

    chosen = list(getattr(args, "kg", None) or [Path("kg")])
    progress = _Progress(args.quiet)
    jobs = getattr(args, "jobs", 1)
    kg, done = rebuild.build(chosen, folder=folder, progress=progress, jobs=jobs)
    progress(f"store {folder}: {done.describe()}")
    return _warn(kg), done.partition


def _refused_in_memory(args: argparse.Namespace) -> Report | None:
    """A build on a server checks the coding in memory first, so that input validation
    refuses never reaches the server's graphs; the report when it is refused."""
    local = argparse.Namespace(**{**vars(args), "endpoint": None, "engine": "oxigraph"})
    report = validate(_load(local))
    return report if report.violations else None


def cmd_build(args: argparse.Namespace) -> int:
    out: Path = args.out
    if getattr(args, "endpoint", None):
        refused = _refused_in_memory(args)
        if refused is not None:
            _print_report(refused)
            print(
                f"build: {refused.summary()}; nothing written (the server was not touched)",
                file=sys.stderr,
            )
            return refused.exit_code
    cache = _cache_folder(args)
    fresh = {folder: not folder.exists() for folder in (out, cache) if folder is not None}
    kg, partition = _load_cached(args)
    progress = _Progress(args.quiet)
    report = validate(kg, partition=partition)
    scope = "" if partition is None else f" ({len(partition.scope)} changed node(s) checked again)"
    progress(f"validated: {report.summary()}{scope}")
    if report.violations:
        _print_report(report)
        del kg  # closes the persistent store before it is removed
        print(f"build: {report.summary()}; {_discard(cache, fresh)}", file=sys.stderr)
        return report.exit_code
    if cache is not None:
        from alignkg import rebuild

        rebuild.accept(cache, report.findings)
    rows = stages.stage_rows(kg.store)
    for reading in ("strict", "manifested"):
        chosen = [r for r in rows if r.reading == reading]
        write_atomic(out / f"stages-{reading}.csv", stages.render(chosen, fmt="csv"))
    write_atomic(out / "validation.ttl", report_turtle(report))
    write_atomic(
        out / "validation.txt",
        "".join(f.line() + "\n" for f in report.findings) + report.summary() + "\n",
    )
    write_atomic(out / "events.csv", export.events_csv(kg.store))
    write_atomic(out / "sources.csv", export.sources_csv(kg.store))
    if isinstance(kg.store, OxigraphStore):
        database = kg.store.store  # written as it is read: at scale it is gigabytes
        write_atomic_with(
            out / "alignkg.nq", lambda handle: database.dump(handle, format=ox.RdfFormat.N_QUADS)
        )
    elif isinstance(kg.store, RemoteStore):
        write_atomic(out / "alignkg.nq", sorted_nquads(kg.store.nquads()))
    elif isinstance(kg.store, RdflibStore):
        nquads = kg.store.dataset.serialize(format="nquads", encoding="utf-8")
        write_atomic(out / "alignkg.nq", sorted_nquads(nquads))
    write_atomic(out / "report.md", _report_markdown(kg, report, rows))
    from alignkg import report as html_report

    write_atomic(out / "report.html", html_report.render(kg, report))
    write_atomic(out / "dyad-years.csv", export.render(kg, "dyad-years", "csv"))
    write_atomic(out / "codebook.md", export.render(kg, "codebook", "md"))
    progress(
        f"wrote {out}/: alignkg.nq, stages-strict.csv, stages-manifested.csv, events.csv, "
        "sources.csv, dyad-years.csv, codebook.md, validation.txt, validation.ttl, report.md, "
        "report.html"
    )
    bilateral = sorted({r.dyad for r in rows} & _bilateral_dyads(kg))
    shown = bilateral[: html_report.MAX_FULL_DYADS]
    for dyad in shown:
        print(f"== {dyad}: stage per year (strict ladder) ==")
        print(stages.render([r for r in rows if r.dyad == dyad and r.reading == "strict"]), end="")
    if len(bilateral) > len(shown):
        print(f"({len(bilateral) - len(shown)} more bilateral dyad(s) in {out}/stages-strict.csv)")
    others = len({r.dyad for r in rows}) - len(bilateral)
    if others:
        print(f"({others} more dyad(s) from multilateral groupings in {out}/stages-strict.csv)")
    print(f"validation: {report.summary()} (details in {out}/validation.txt)")
    return report.exit_code


def _discard(cache: Path | None, fresh: Mapping[Path, bool]) -> str:
    """Undo what a build with violations created (a new persistent store, a new output
    folder) and say what is left."""
    if cache is not None and fresh.get(cache):
        from alignkg import rebuild

        gc.collect()
        rebuild.remove(cache)
    for folder, new in fresh.items():
        if new and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if cache is not None and not fresh.get(cache):
        from alignkg import rebuild

        gc.collect()
        if rebuild.restore(cache):
            return f"nothing written (the store {cache} holds the last build again)"
        return f"no output written (the store {cache} holds this input: there was no complete earlier build to go back to)"
    return "nothing written"


def _bilateral_dyads(kg: KnowledgeGraph) -> set[str]:
    _names, rows = query.run(kg.store, query.load("dyads"))
    return {str(r["dyadLabel"]) for r in rows if int(str(r.get("bilateralEvents", 0))) > 0}


def _report_markdown(kg: KnowledgeGraph, report: Report, rows: list[stages.StageRow]) -> str:
    lines = ["# alignkg build report", ""]
    lines.append(f"- files: {', '.join(f.path for f in kg.files)}")
    lines.append(f"- triples in the store: {len(kg.store)}")
    lines.append(f"- calendar: {kg.first_year}-{kg.last_year}")
    lines.append(f"- validation: {report.summary()}")
    lines.append("")
    for dyad in sorted({r.dyad for r in rows}):
        lines.append(f"## {dyad}")
        lines.append("")
        lines.append(
            "| year | strict | manifested | highest indicator | counted (strict) | precursors (strict) |"
        )
        lines.append("|---|---|---|---|---|---|")
        by_year: dict[int, dict[str, stages.StageRow]] = {}
        for row in rows:
            if row.dyad == dyad:
                by_year.setdefault(row.year, {})[row.reading] = row
        for year, readings in sorted(by_year.items()):
            strict, manifested = readings.get("strict"), readings.get("manifested")

            def show(r: stages.StageRow | None) -> str:
                return "" if r is None else f"{r.stage} {r.level}".strip()

            lines.append(
                f"| {year} | {show(strict)} | {show(manifested)} | "
                f"{strict.highest_indicator if strict and strict.highest_indicator else ''} | "
                f"{', '.join(map(str, strict.counted)) if strict else ''} | "
                f"{', '.join(map(str, strict.precursors)) if strict else ''} |"
            )
        lines.append("")
        strict_rows = [r for r in rows if r.dyad == dyad and r.reading == "strict"]
        lines.append(
            "Transitions (strict ladder; `alignkg explain --dyad "
            f"{dyad} --transitions` gives the evidence for each):"
        )
        lines.append("")
        lines.extend(f"- {t.year}: {t.describe()}" for t in stages.transitions(strict_rows))
        lines.append("")
    lines.extend(_counts_markdown(kg))
    if report.findings:
        lines.append("## Validation findings")
        lines.append("")
        lines.extend(f"- `{f.line()}`" for f in report.findings)
        lines.append("")
    return "\n".join(lines)


def _markdown_table(names: Sequence[str], rows: Sequence[Mapping[str, object]]) -> list[str]:
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines.extend("| " + " | ".join(str(r.get(n, "")) for n in names) + " |" for r in rows)
    return lines


def _counts_markdown(kg: KnowledgeGraph) -> list[str]:
    lines = ["## Coded data", ""]
    for name, title in (
        ("events-by-indicator", "Events by dimension, indicator (or aspect) and level"),
        ("sources-by-language", "Sources by language and kind"),
    ):
        names, rows = query.run(kg.store, query.load(name))
        lines.append(f"{title} (`alignkg query {name}`):")
        lines.append("")
        lines.extend(_markdown_table(names, rows))
        lines.append("")
    return lines


def cmd_validate(args: argparse.Namespace) -> int:
    kg = _load(args, paths=args.paths or None)
    report = validate(kg, ladder=args.ladder, completeness=args.completeness)
    if args.format == "turtle":
        sys.stdout.write(report_turtle(report))
        print(report.summary(), file=sys.stderr)
    else:
        _print_report(report)
    return report.exit_code


def cmd_stages(args: argparse.Namespace) -> int:
    if args.start is not None and args.end is not None and args.start > args.end:
        raise UsageError(f"--from {args.start} is after --to {args.end}")
    dyad = stages.dyad_code(args.dyad)
    kg = _load(args, until=args.end)
    rows = stages.stage_rows(
        kg.store, dyad=dyad, reading=args.rule, first=args.start, last=args.end
    )
    if not rows:
        raise UsageError(
            f"dyad {dyad} has no assessed years in the graph (no events, or none in range)"
        )
    first = min(r.year for r in rows)
    if args.start is not None and args.start < first:
        span = (
            f"the year {args.start} is"
            if args.start == first - 1
            else f"the years from {args.start} to {first - 1} are"
        )
        print(
            f"{dyad}: no event is active before {first}; {span} not assessed (stage none)",
            file=sys.stderr,
        )
    print(stages.render(rows, fmt=args.format), end="")
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    if args.year is not None:
        kg = _load(args, until=args.year)
        found = evidence.explain(kg, dyad=args.dyad, year=args.year)
        print(evidence.render(found, kg.ladder), end="")
        return 0
    kg = _load(args)
    rows = stages.stage_rows(kg.store, dyad=stages.dyad_code(args.dyad), reading=args.rule)
    changes = stages.transitions(rows)
    if not changes:
        raise UsageError(f"{stages.dyad_code(args.dyad)}: no stage is derived for this dyad")
    names = {"strict": "strict ladder", "manifested": "highest manifested"}
    for number, change in enumerate(changes):
        if number:
            print()
        print(f"== {change.after.dyad} {change.year}: {change.describe()} ({names[args.rule]}) ==")
        found = evidence.explain(kg, dyad=args.dyad, year=change.year)
        print(evidence.render(found, kg.ladder), end="")
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    if args.list:
        for name in query.named_queries():
            print(name)
        return 0
    if not args.query:
        raise UsageError("name a query (see alignkg query --list) or give a .rq file")
    text = query.load(args.query)
    query.refuse_unsafe(text)
    bindings = dict(query.parse_binding(b) for b in args.bind or [])
    remote = _remote(args)
    # With --endpoint and no --kg, query what an earlier build --endpoint left there.
    store = remote if remote is not None and not args.kg else _load(args).store
    if args.timeout is None:
        names, rows = query.run(store, text, bindings)
    else:
        names, rows = query.run_limited(store, text, bindings, args.timeout)
    print(query.render(names, rows, fmt=args.format), end="")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    formats = export.FORMATS[args.what]
    fmt = args.format or formats[0]
    if fmt not in formats:
        raise UsageError(f"export {args.what}: --format must be one of {', '.join(formats)}")
    kg = _load(args)
    data = export.render(kg, args.what, fmt)
    if args.output:
        write_atomic(args.output, data)
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        print(data, end="")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from alignkg import sheets

    data = sheets.template(args.format)
    if args.output:
        write_atomic(args.output, data)
        print(args.output)
    elif isinstance(data, bytes):
        raise UsageError("template --format xlsx needs --output FILE")
    else:
        print(data, end="")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from alignkg import sheets

    known = list(getattr(args, "kg", None) or [Path("kg")])
    written = sheets.import_sheet(args.sheet, coder=args.coder, output=args.output, kg=known)
    print(written)
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from alignkg import agreement

    coders = [c.strip() for c in args.coders.split(",") if c.strip()]
    kg = _load(args)
    print(agreement.render(kg, dyad=args.dyad, coders=coders, fmt=args.format), end="")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from alignkg import diff

    print(diff.render(args.old, args.new, fmt=args.format), end="")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from alignkg import variants

    paths = list(getattr(args, "kg", None) or [Path("kg")])
    table = variants.sensitivity(
        paths, dyad=args.dyad, first=args.start, last=args.end, engine=args.engine
    )
    print(variants.render(table, fmt=args.format), end="")
    return 0


def cmd_strength(args: argparse.Namespace) -> int:
    from alignkg import strength

    kg = _load(args)
    print(strength.render(kg, dyad=args.dyad, fmt=args.format, flagged_only=args.flagged), end="")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from alignkg import server

    server.bind_address(args.host)  # refuse a non-loopback address before loading anything
    kg = _load(args)
    return server.serve(
        kg, host=args.host, port=args.port, timeout=args.timeout, store_dir=args.store
    )


def cmd_figure(args: argparse.Namespace) -> int:
    from alignkg import figures

    kg = _load(args)
    written = figures.write(
        kg,
        args.which,
        dyad=args.dyad,
        first=args.start,
        last=args.end,
        formats=args.format or ["svg", "png", "pdf"],
        output=args.output,
    )
    for path in written:
        print(path)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from alignkg import report as html_report

    kg = _load(args)
    findings = validate(kg)
    write_atomic(args.output, html_report.render(kg, findings))
    print(args.output)
    return 0


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    func: Callable[[argparse.Namespace], int],
    *,
    summary: str,
    description: str,
    example: str,
    kg_option: bool = True,
) -> argparse.ArgumentParser:
    """Add a subcommand whose help ends with a runnable example."""
    command = sub.add_parser(
        name, help=summary, description=f"{description} Example: {example}", epilog=EPILOG
    )
    _common(command, paths=kg_option)
    command.set_defaults(func=func)
    return command


def parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the documentation tests)."""
    top = argparse.ArgumentParser(
        prog="alignkg",
        description="Measure how closely two states are aligned: build, validate and query "
        "a knowledge graph of coded events on Korolev's ladder of military cooperation.",
        epilog=EPILOG,
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "build",
        cmd_build,
        summary="load, infer, validate and derive; write build/",
        description="Load kg/, infer, validate, derive every dyad-year and write the graph, "
        "stage tables, events, findings and a report to build/.",
        example="alignkg build",
    )
    _endpoint_options(p)
    p.add_argument(
        "--out", type=Path, default=Path("build"), help="output folder (default: build/)"
    )
    p.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="persistent store reused between builds: only the dyads of changed files are "
        "derived again (default: OUT/cache)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="build in memory from scratch and keep no store",
    )
    p.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="a build of large input (over 512 MB, built group of dyads by group) runs N "
        "groups at once, each in a process of its own: faster with more cores, and more "
        "memory (default: 1)",
    )

    p = _command(
        sub,
        "validate",
        cmd_validate,
        summary="check completeness, the ladder's preconditions and coding consistency",
        description="Validate coded events: SHACL completeness shapes, *-violation.rq checks, "
        "the ladder's preconditions and the consistency rules. One finding per line.",
        example="alignkg validate kg/",
        kg_option=False,
    )
    _endpoint_options(p)
    p.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: kg/)"
    )
    p.add_argument(
        "--ladder",
        choices=("sparql", "shacl"),
        default="sparql",
        help="evaluate the ladder and consistency rules as whole-graph SPARQL (default) or as SHACL-SPARQL shapes",
    )
    p.add_argument(
        "--completeness",
        choices=("sparql", "shacl"),
        default=None,
        help="run the completeness shapes compiled to SPARQL on the store (default) or in "
        "pyshacl (the default with --endpoint)",
    )
    p.add_argument(
        "--format",
        choices=("text", "turtle"),
        default="text",
        help="one finding per line (default) or a SHACL validation report in Turtle",
    )

    p = _command(
        sub,
        "stages",
        cmd_stages,
        summary="stage per year for a dyad",
        description="Print a dyad's stage per year.",
        example="alignkg stages --dyad CHN-RUS --from 1991 --to 2017 --format csv",
    )
    _endpoint_options(p)
    p.add_argument(
        "--dyad", required=True, help="two ISO alpha-3 codes, e.g. CHN-RUS (order does not matter)"
    )
    p.add_argument(
        "--rule",
        choices=("strict", "manifested"),
        default="strict",
        help="strict ladder (the paper's rule, default) or highest manifested",
    )
    p.add_argument("--from", dest="start", type=_year, help="first year")
    p.add_argument("--to", dest="end", type=_year, help="last year")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument(
        "--variant",
        help="derive with this rule variant of rules/ (see alignkg sensitivity; default: default)",
    )

    p = _command(
        sub,
        "explain",
        cmd_explain,
        summary="the derivation chain for a dyad-year",
        description="Explain a dyad's stage in a year: stage <- indicator levels <- events <- "
        "quotes <- sources. With --transitions, explain every year in which the stage or "
        "its level changed; events that start in the year explained are marked new.",
        example="alignkg explain --dyad CHN-RUS --transitions",
    )
    _endpoint_options(p)
    p.add_argument("--dyad", required=True)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--year", type=_year, help="the year to explain")
    when.add_argument(
        "--transitions",
        action="store_true",
        help="explain each year in which the stage or its level changed",
    )
    p.add_argument(
        "--rule",
        choices=("strict", "manifested"),
        default="strict",
        help="the reading whose transitions to explain (with --transitions; default strict)",
    )

    p = _command(
        sub,
        "query",
        cmd_query,
        summary="run a named query or a .rq file",
        description="Run a named query from queries/ or a .rq file, with values bound.",
        example="alignkg query evidence --bind dyad=CHN-RUS --bind year=2015",
    )
    _endpoint_options(p)
    p.add_argument("query", nargs="?", help="query name (see --list) or path to a .rq file")
    p.add_argument(
        "--bind",
        action="append",
        metavar="VAR=VALUE",
        help="bind ?VAR (an IRI <...> or prefix:local, an integer, a dyad code, or a string)",
    )
    p.add_argument("--format", choices=("table", "csv", "tsv", "json"), default="table")
    p.add_argument("--list", action="store_true", help="list the named queries")
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop the query after this many seconds (exit code 2; default: no limit)",
    )

    p = _command(
        sub,
        "export",
        cmd_export,
        summary="export tables (events, sources, dyad-years, codebook) or the graph",
        description="Export a table or the graph: the events (one row per event and dyad), "
        "the events as a coding sheet (one row per event; imports back unchanged), "
        "the sources (one row per cited document), the dyad-years for R and Stata (CSV) and "
        "their codebook, or the ontology, data and derived graphs as Turtle, TriG, N-Quads or "
        "JSON-LD.",
        example="alignkg export dyad-years --output build/dyad-years.csv",
    )
    _endpoint_options(p)
    p.add_argument("what", choices=tuple(export.FORMATS))
    p.add_argument(
        "--format",
        choices=sorted({f for fs in export.FORMATS.values() for f in fs}),
        help="output format (default: the first one the table allows)",
    )
    p.add_argument(
        "--output", type=Path, help="write to this file (atomically) instead of standard output"
    )

    p = _command(
        sub,
        "template",
        cmd_template,
        summary="a blank coding sheet (CSV or XLSX) whose columns come from the ontology",
        description="Write a coding sheet: one row per event, columns, allowed values and "
        "help text from the ontology.",
        example="alignkg template --format xlsx --output sheet.xlsx",
        kg_option=False,
    )
    p.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    p.add_argument("--output", type=Path, help="write to this file (required for xlsx)")

    p = _command(
        sub,
        "import",
        cmd_import,
        summary="turn a filled coding sheet into Turtle under kg/",
        description="Import a filled coding sheet (CSV or XLSX) as Turtle, attributed to the "
        "coder. Every problem is reported by row and column; nothing is written when any row "
        "fails.",
        example="alignkg import sheet.csv --coder alice",
    )
    p.add_argument("sheet", type=Path)
    p.add_argument("--coder", required=True, help="the coder's name (prov:wasAttributedTo)")
    p.add_argument(
        "--output", type=Path, help="the Turtle file to write (default: kg/<sheet name>.ttl)"
    )

    p = _command(
        sub,
        "agreement",
        cmd_agreement,
        summary="inter-coder reliability: Krippendorff's alpha and disagreements",
        description="Compare coders on a dyad's indicator levels per year: Krippendorff's "
        "alpha (ordinal) per indicator and overall, percent agreement, and every "
        "disagreement with each coder's evidence.",
        example="alignkg agreement --dyad CHN-RUS --coders alice,bob",
    )
    p.add_argument("--dyad", required=True)
    p.add_argument("--coders", required=True, help="two or more coder names, comma-separated")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = _command(
        sub,
        "diff",
        cmd_diff,
        summary="what changed between two versions of the coding",
        description="Compare two graph files or folders, or two git revisions of kg/ "
        "(REV:kg): the events added, removed and changed, and every dyad-year whose stage "
        "changed, with the reason.",
        example="alignkg diff HEAD~1:kg kg/",
        kg_option=False,
    )
    p.add_argument("old", help="a file or folder, or REV:PATH for a git revision")
    p.add_argument("new", help="a file or folder, or REV:PATH for a git revision")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = _command(
        sub,
        "sensitivity",
        cmd_sensitivity,
        summary="the stage per year under every rule variant, side by side",
        description="Derive a dyad under every rule variant in rules/ and print the stage per "
        "year side by side, marking the years that depend on the choice.",
        example="alignkg sensitivity --dyad CHN-RUS",
    )
    p.add_argument("--dyad", required=True)
    p.add_argument("--from", dest="start", type=_year, help="first year")
    p.add_argument("--to", dest="end", type=_year, help="last year")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = _command(
        sub,
        "strength",
        cmd_strength,
        summary="evidence strength of each code: sources, languages, kinds",
        description="For each coded event: how many independent sources, in which languages, "
        "of which kinds; flags codes that rest only on one side's sources or only on "
        "interviews.",
        example="alignkg strength --dyad CHN-RUS --flagged",
    )
    _endpoint_options(p)
    p.add_argument("--dyad", help="only the events of this dyad")
    p.add_argument("--flagged", action="store_true", help="only the flagged codes")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")

    p = _command(
        sub,
        "serve",
        cmd_serve,
        summary="a read-only SPARQL endpoint with the web workbench and evidence browser",
        description="Serve the built graph on loopback: a SPARQL 1.1 Protocol endpoint at "
        "/sparql (read-only; updates, LOAD and SERVICE are refused; JSON, CSV and TSV results), "
        "the workbench and the evidence browser at /.",
        example="alignkg serve --port 8765",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0 picks one)")
    p.add_argument(
        "--timeout", type=float, default=10.0, help="per-query time limit in seconds (default: 10)"
    )
    p.add_argument(
        "--store",
        type=Path,
        default=Path("build/store"),
        help="folder for the served store (default: build/store)",
    )

    p = _command(
        sub,
        "figure",
        cmd_figure,
        summary="the paper's figures from the graph (SVG, PNG, PDF)",
        description="Draw Fig. 1 (the ladder, from the ontology's precedence graph) or Fig. 2 "
        "(a dyad's indicators by year, with the stage bands of both readings).",
        example="alignkg figure dyad --dyad CHN-RUS --output build/figures",
    )
    _endpoint_options(p)
    p.add_argument("which", choices=("ladder", "dyad"))
    p.add_argument("--dyad", default="CHN-RUS", help="the dyad of Fig. 2 (default: CHN-RUS)")
    p.add_argument("--from", dest="start", type=_year, help="first year")
    p.add_argument("--to", dest="end", type=_year, help="last year")
    p.add_argument(
        "--format",
        action="append",
        choices=("svg", "png", "pdf"),
        help="repeatable (default: all three)",
    )
    p.add_argument(
        "--output", type=Path, default=Path("build/figures"), help="folder (default: build/figures)"
    )

    p = _command(
        sub,
        "report",
        cmd_report,
        summary="one self-contained HTML report",
        description="Write one self-contained HTML file: the stage timeline, Tables 1 and 2 "
        "regenerated from the graph, the evidence for each transition and the validation "
        "summary.",
        example="alignkg report --output build/report.html",
    )
    _endpoint_options(p)
    p.add_argument(
        "--output",
        type=Path,
        default=Path("build/report.html"),
        help="the HTML file (default: build/report.html)",
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as error:
        # Bad input: the message starts with where to look (path:line:column: CODE: ...).
        first, _, rest = str(error).partition("\n")
        if error.location.line:
            print(first, file=sys.stderr)
        else:
            print(f"alignkg: error: {first}", file=sys.stderr)
        if rest:
            print(rest, file=sys.stderr)
        return error.exit_code
    except AlignkgError as error:
        print(f"alignkg: error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:
        # the reader left early (`alignkg query --list | head -1`): nothing is wrong,
        # and what is still buffered goes nowhere instead of failing again at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"alignkg: error: {where}{error.strerror or error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("alignkg: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
