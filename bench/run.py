"""Run the world-scale benchmark: generate, measure each phase in its own process, compare.

    python bench/run.py --scale small [--scale medium] [--no-rdflib] [--rdflib-timeout S]
                        [--cache DIR]

For each scale the synthetic graph is generated once (cached under build/bench/), then
measured, each phase in a fresh subprocess so that its peak memory (ru_maxrss) is its own:

- parse:     pyoxigraph.parse over the file(s), nothing else (the floor)
- bulkload:  pyoxigraph Store().bulk_load of the file(s) into an in-memory store (the floor)
- build:     alignkg assemble() + validate(), then the stage query on that pyoxigraph store;
             the store it built is then written out as N-Quads (not timed)
- output:    pyoxigraph Store().bulk_load of those N-Quads: the floor for writing what the
             build holds (the input, what it entails and what it derives) into memory
- rdflib:    the same stage query on rdflib's engine over the built graph (tiny and small only)
- reference: tests/reference.py, the independent plain-Python stages, from the N-Triples

Every stage table is compared (sorted rows) with the others. Results are printed and
written to bench/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Generated data, each phase's result and results.json (``--cache``).
CACHE = ROOT / "build" / "bench"
SEED = 1
SCALES = {"tiny": 1_000, "small": 10_000, "medium": 100_000, "large": 1_000_000}
#: alignkg reads files of at most 256 MB: larger scales are written as shards.
SHARD_EVENTS = {"tiny": 0, "small": 0, "medium": 25_000, "large": 25_000}
#: The scales at which rdflib's engine runs the stage query (it takes minutes at 10k events).
RDFLIB_SCALES = {"tiny", "small"}


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _files(data: Path) -> list[Path]:
    return sorted(data.glob("*.nt")) if data.is_dir() else [data]


# --- Phases (each runs in its own process) ---------------------------------------------


def phase_parse(data: Path) -> dict:
    import pyoxigraph as ox

    started = time.perf_counter()
    triples = 0
    for path in _files(data):
        for _ in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            triples += 1
    return {"seconds": time.perf_counter() - started, "triples": triples}


def phase_bulkload(data: Path) -> dict:
    import pyoxigraph as ox

    started = time.perf_counter()
    store = ox.Store()
    for path in _files(data):
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "quads": len(store)}


def _rows_out(rows: list, out: Path) -> None:
    out.write_text(json.dumps(sorted(list(r) for r in rows)), encoding="utf-8")


def _output(data: Path) -> Path:
    """Where the build phase writes the store it built, for the output phase (beside the
    generated data, in the cache)."""
    return data.parent / f"{data.name}.output.nq"


def phase_output(data: Path) -> dict:
    """Bulk-load what the build phase held: the least a build that writes it can take."""
    import pyoxigraph as ox

    path = _output(data)
    started = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "quads": len(store), "bytes": path.stat().st_size}


def phase_build(data: Path, rows_out: Path) -> dict:
    import dataclasses

    import pyoxigraph as ox

    import alignkg.validate as v
    from alignkg.build import assemble
    from alignkg.stages import stage_rows

    split: dict[str, float] = {}

    def timed(name: str, fn):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                key = name + (f":{kwargs['kind']}" if "kind" in kwargs else "")
                split[key] = split.get(key, 0.0) + time.perf_counter() - started
        return wrapper

    v.shacl_findings = timed("shacl", v.shacl_findings)
    v.completeness_findings = timed("completeness", v.completeness_findings)
    v.violation_query_findings = timed("violation-queries", v.violation_query_findings)
    v.check_findings = timed("rule-checks", v.check_findings)

    started = time.perf_counter()
    kg = assemble(_files(data))
    assemble_s = time.perf_counter() - started
    rss_after_assemble = _maxrss_mb()
    started = time.perf_counter()
    report = v.validate(kg)
    validate_s = time.perf_counter() - started
    findings = list(report.findings) if hasattr(report, "findings") else list(report)
    by_severity: dict[str, int] = {}
    for f in findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
    started = time.perf_counter()
    rows = stage_rows(kg.store)
    query_s = time.perf_counter() - started
    _rows_out([dataclasses.astuple(r) for r in rows], rows_out)
    kg.store.store.dump(output=str(_output(data)), format=ox.RdfFormat.N_QUADS)
    return {
        "assemble": assemble_s,
        "validate": validate_s,
        "build": assemble_s + validate_s,
        "timings": kg.timings,
        "steps": [(s.rule, s.triples, s.seconds) for s in kg.steps],
        "validate_split": split,
        "findings": by_severity,
        "query": query_s,
        "rows": len(rows),
        "maxrss_assemble_mb": rss_after_assemble,
    }


def phase_rdflib(data: Path, rows_out: Path) -> dict:
    """The stage query on rdflib's engine, over exactly the graph the pyoxigraph build made.

    The build itself runs on pyoxigraph (deriving on rdflib at this scale takes hours);
    its quads are copied into an rdflib Dataset whose default graph is the union of the
    named graphs, and the same ``queries/stage-per-dyad-year.rq`` runs there.
    """
    import dataclasses

    import pyoxigraph as ox
    from rdflib import Dataset

    from alignkg.build import assemble
    from alignkg.stages import stage_rows
    from alignkg.store import RdflibStore

    started = time.perf_counter()
    kg = assemble(_files(data))
    assemble_s = time.perf_counter() - started
    started = time.perf_counter()
    nquads = kg.store.store.dump(format=ox.RdfFormat.N_QUADS)  # type: ignore[union-attr]
    del kg
    dataset = Dataset(default_union=True)
    dataset.parse(data=nquads, format="nquads")
    del nquads
    copy_s = time.perf_counter() - started
    started = time.perf_counter()
    rows = stage_rows(RdflibStore(dataset))
    query_s = time.perf_counter() - started
    _rows_out([dataclasses.astuple(r) for r in rows], rows_out)
    return {"assemble": assemble_s, "copy": copy_s, "timings": {"copy into rdflib": copy_s},
            "query": query_s, "rows": len(rows)}


AK = "https://w3id.org/alignkg/ns#"


def phase_reference(data: Path, rows_out: Path) -> dict:
    """Read the events from the N-Triples in plain Python and run tests/reference.py."""
    spec = importlib.util.spec_from_file_location("reference", ROOT / "tests" / "reference.py")
    assert spec and spec.loader
    ref = importlib.util.module_from_spec(spec)
    sys.modules["reference"] = ref
    spec.loader.exec_module(ref)
    started = time.perf_counter()
    iso: dict[str, str] = {}
    raw: dict[str, dict] = {}
    names = {v: k for k, v in ref.INDICATOR_NAMES.items()}
    for path in _files(data):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.startswith("<"):
                    continue
                s_end = line.index(">")
                subject = line[1:s_end]
                rest = line[s_end + 2:]
                p_end = rest.index(">")
                predicate = rest[1:p_end]
                if not predicate.startswith(AK):
                    continue
                local = predicate[len(AK):]
                obj = rest[p_end + 2:].rstrip().removesuffix(" .")
                if local == "iso3":
                    iso[subject] = obj.strip('"')
                    continue
                if local not in ("party", "dimension", "indicator", "level", "startDate",
                                 "endDate", "persistence", "datePrecision"):
                    continue
                event = raw.setdefault(subject, {"party": []})
                if obj.startswith("<"):
                    value = obj[1:-1].rsplit("#", 1)[-1] if local != "party" else obj[1:-1]
                else:
                    value = obj[1:obj.index('"', 1)]
                if local == "party":
                    event["party"].append(value)
                else:
                    event[local] = value
    read_s = time.perf_counter() - started
    events = []
    for subject, e in raw.items():
        events.append(ref.make_event(
            subject,
            parties=tuple(iso[p] for p in e["party"]),
            dimension=e["dimension"].lower(),
            indicator=names[e["indicator"]] if "indicator" in e else None,
            level=e["level"].lower() if "level" in e else None,
            start=dt.date.fromisoformat(e["startDate"]),
            end=dt.date.fromisoformat(e["endDate"]) if "endDate" in e else None,
            persistence={"OneOff": "one-off", "Persistent": "persistent"}[e["persistence"]],
            precision=e["datePrecision"].removesuffix("Precision").lower(),
        ))
    started = time.perf_counter()
    rows = ref.reference_stages(events)
    compute_s = time.perf_counter() - started
    _rows_out([tuple(r) for r in rows], rows_out)
    return {"read": read_s, "compute": compute_s, "seconds": read_s + compute_s,
            "events": len(events), "rows": len(rows)}


def _blank_closure(path: Path, lines: list[str]) -> list[str]:
    """The lines of ``path`` about the blank nodes ``lines`` reach (the event's evidence
    annotation, its target and selector), so that the copied event is complete."""
    wanted = {line.split()[-2] for line in lines if line.split()[-2].startswith("_:")}
    found: list[str] = []
    while wanted:
        more: set[str] = set()
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.split(" ", 1)[0] in wanted:
                    found.append(line)
                    target = line.split()[-2]
                    if target.startswith("_:"):
                        more.add(target)
        wanted = more
    return found


def _one_dyad_file(data: Path, out: Path, level: str, event: str | None = None) -> None:
    """A new file with one event: a copy of the data's first event (or of ``event``, an
    IRI) under a new IRI."""
    subject = None if event is None else f"<{event}>"
    lines: list[str] = []
    for path in _files(data):  # the first shards may hold only states and sources
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if subject is None and f"<{AK}party>" in line:
                    subject = line[: line.index(">") + 1]
                if subject is not None and line.startswith(subject + " "):
                    lines.append(line)
                if subject is not None and lines and not line.startswith(subject + " "):
                    break
        if lines:
            break
    if subject is None or not lines:
        raise SystemExit(f"{data}: no statement about {subject or 'an event with a party'}")
    with open(path, encoding="utf-8") as handle:  # the event's lines before its party too
        lines = [line for line in handle if line.startswith(subject + " ")]
    lines += _blank_closure(path, lines)
    copy = subject[:-1] + "-added>"
    text = "".join(line.replace(subject, copy, 1) for line in lines)
    if f"<{AK}level>" not in text:
        raise SystemExit(f"{subject}: has no level to change (choose a military event)")
    for name in ("Low", "High"):
        text = text.replace(f"<{AK}level> <{AK}{name}>", f"<{AK}level> <{AK}{level}>")
    out.write_text(text, encoding="utf-8")


def rebuilds(data: Path, folder: Path, added: Path, steps: list[str],
             rows_out: Path | None = None, event: str | None = None) -> dict:
    """Persistent builds of ``data`` in ``folder``, one per step: ``full`` (partitioned,
    from scratch, then the stage query on the on-disk store), ``unchanged``, ``added``
    (a file with one more event of one dyad, a copy of ``event`` or of the data's first,
    in the folder ``added``) and ``changed``
    (that event's level changed). Each is validated as ``alignkg build`` validates it
    (only what changed, when the store holds the last build's findings) and accepted."""
    import dataclasses

    from alignkg import rebuild
    from alignkg.stages import stage_rows
    from alignkg.validate import validate

    size = sum(p.stat().st_size for p in _files(data))
    one = added / "one-dyad.nt"
    prepare = {
        "full": lambda: None,
        "unchanged": lambda: None,
        "added": lambda: _one_dyad_file(data, one, "Low", event),
        "changed": lambda: _one_dyad_file(data, one, "High", event),
    }
    result: dict = {}
    for name in steps:
        prepare[name]()
        started = time.perf_counter()
        kg, report = rebuild.build([*_files(data), one] if one.exists() else _files(data),
                                   folder=folder, partitioned=True)
        built = time.perf_counter() - started
        if name == "full":
            result["full_timings"] = dict(kg.timings)
            result["maxrss_full_mb"] = _maxrss_mb()
            started = time.perf_counter()
            rows = stage_rows(kg.store)
            result["query_on_disk"] = time.perf_counter() - started
            if rows_out is not None:
                _rows_out([dataclasses.astuple(r) for r in rows], rows_out)
        started = time.perf_counter()
        findings = validate(kg, partition=report.partition)
        checked = time.perf_counter() - started
        rebuild.accept(folder, findings.findings)
        partition = report.partition
        scope = ("whole" if partition is None else "reused" if partition.store is None
                 else f"{len(partition.scope):,} nodes")
        result[name] = {"seconds": built, "mode": report.mode, "dyads": report.dyads,
                        "validate": checked, "validated": scope,
                        "findings": len(findings.findings)}
        if name == "changed" and size < WHOLE_CHECK_BYTES:  # partial against whole
            started = time.perf_counter()
            whole = validate(kg)
            result[name]["validate_whole"] = time.perf_counter() - started
            result[name]["same_as_whole"] = (
                [f.line() for f in whole.findings] == [f.line() for f in findings.findings])
        del kg
    return result


def phase_rebuild(data: Path, rows_out: Path) -> dict:
    """The persistent build: from scratch (partitioned: group of dyads by group in the
    on-disk store), unchanged, one dyad's file added, then changed."""
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="alignkg-bench-", dir=data.parent))
    try:
        (work / "added").mkdir()
        return rebuilds(data, work / "cache", work / "added",
                        ["full", "unchanged", "added", "changed"], rows_out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


#: Data up to this size also has the partial validation checked against a whole one.
WHOLE_CHECK_BYTES = 1 << 30

PHASES = {"parse": phase_parse, "bulkload": phase_bulkload, "build": phase_build,
          "output": phase_output, "rdflib": phase_rdflib, "reference": phase_reference,
          "rebuild": phase_rebuild}


#: Phases to run; the others' results are read back from the last run (``--only``).
ONLY: set[str] = set()


def run_phase(name: str, data: Path, rows_out: Path | None, timeout: float | None) -> dict:
    result_file = CACHE / f"{data.name}.{name}.json"
    if ONLY and name not in ONLY and result_file.exists():
        print(f"  {name}: the last run's result (--only)", flush=True)
        return json.loads(result_file.read_text(encoding="utf-8"))
    result_file.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--data", str(data),
           "--result", str(result_file), "--cache", str(CACHE)]
    if rows_out is not None:
        cmd += ["--rows", str(rows_out)]
    print(f"  {name} ...", flush=True)
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-3:]
        return {"error": " / ".join(tail) or f"exit code {proc.returncode}"}
    result = json.loads(result_file.read_text(encoding="utf-8"))
    result["wall"] = wall
    print(f"  {name}: {wall:.1f} s wall, peak {result['maxrss_mb']:.0f} MB", flush=True)
    return result


# --- Driver ----------------------------------------------------------------------------


def generate(scale: str) -> tuple[Path, float]:
    CACHE.mkdir(parents=True, exist_ok=True)
    shard = SHARD_EVENTS[scale]
    data = CACHE / (f"{scale}-seed{SEED}" if shard else f"{scale}-seed{SEED}.nt")
    done = CACHE / f"{data.name}.done"
    seconds = 0.0
    if not done.exists():
        print(f"generating {scale} ({SCALES[scale]} events) into {data}", flush=True)
        started = time.perf_counter()
        cmd = [sys.executable, str(HERE / "generate.py"), "--seed", str(SEED),
               "--scale", scale, "--out", str(data)]
        if shard:
            cmd += ["--shard-events", str(shard)]
        subprocess.run(cmd, check=True)
        seconds = time.perf_counter() - started
        done.write_text(f"{seconds}\n", encoding="utf-8")
    else:
        seconds = float(done.read_text(encoding="utf-8"))
    return data, seconds


def compare(tables: dict[str, Path]) -> tuple[bool, list[str]]:
    loaded = {k: [tuple(tuple(x) if isinstance(x, list) else x for x in row)
                  for row in json.loads(p.read_text(encoding="utf-8"))]
              for k, p in tables.items() if p.exists()}
    notes = []
    names = sorted(loaded)
    same = True
    base = names[0] if names else None
    for other in names[1:]:
        a, b = set(loaded[base]), set(loaded[other])
        if a != b:
            same = False
            only_a, only_b = sorted(a - b)[:3], sorted(b - a)[:3]
            notes.append(f"{base} vs {other}: {len(a - b)} rows only in {base} (e.g. {only_a}), "
                         f"{len(b - a)} only in {other} (e.g. {only_b})")
    return same, notes


def machine() -> str:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    import pyoxigraph
    import pyshacl
    import rdflib

    cpu = platform.processor() or platform.machine()
    return (f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores, {mem}; "
            f"Python {platform.python_version()}, pyoxigraph {pyoxigraph.__version__}, "
            f"rdflib {rdflib.__version__}, pyshacl {pyshacl.__version__}")


def fmt_s(value: float | None) -> str:
    return "–" if value is None else (f"{value:.1f}" if value >= 1 else f"{value:.2f}")


def bench(scale: str, *, rdflib: bool, rdflib_timeout: float, timeout: float | None,
          in_memory_large: bool = False) -> dict:
    data, gen_s = generate(scale)
    size = sum(p.stat().st_size for p in _files(data))
    rows = {k: CACHE / f"{data.name}.{k}.rows.json"
            for k in ("build", "rdflib", "reference", "rebuild")}
    for name, p in rows.items():
        if not ONLY or name in ONLY:
            p.unlink(missing_ok=True)
    print(f"{scale}: {len(_files(data))} file(s), {size / 1e6:.0f} MB", flush=True)
    r = {"scale": scale, "events": SCALES[scale], "bytes": size, "generate": gen_s,
         "files": len(_files(data))}
    r["parse"] = run_phase("parse", data, None, timeout)
    r["bulkload"] = run_phase("bulkload", data, None, timeout)
    r["reference"] = run_phase("reference", data, rows["reference"], timeout)
    if scale == "large" and not in_memory_large:
        r["build"] = {"error": "in-memory build skipped at this scale (--in-memory-large)"}
    else:
        r["build"] = run_phase("build", data, rows["build"], timeout)
    r["output"] = (run_phase("output", data, None, timeout) if "error" not in r["build"]
                   else {"error": "no build to load"})
    r["rebuild"] = run_phase("rebuild", data, rows["rebuild"], timeout)
    if rdflib and scale in RDFLIB_SCALES:
        r["rdflib"] = run_phase("rdflib", data, rows["rdflib"], rdflib_timeout)
    else:
        r["rdflib"] = {"error": "skipped (--no-rdflib)" if not rdflib
                       else "skipped (tiny and small scales only)"}
    r["identical"], r["mismatches"] = compare(
        {k: p for k, p in rows.items() if "error" not in r[k]})
    r["compared"] = sorted(k for k in rows if "error" not in r[k])
    return r


def _writes(results: list[dict]) -> list[str]:
    """The table of what the in-memory build holds once done, against bulk-loading it."""
    lines = [
        "",
        "What the in-memory build holds once done (the input, what it entails, what it derives) "
        "and the floor for writing it: the same pyoxigraph bulk load, of the build's store "
        "written out as N-Quads:",
        "",
        "| scale | input triples | quads held | input bulk-load s | held bulk-load s | "
        "held ÷ input bulk-load | build s | build ÷ held bulk-load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        out, b, bl, p = (r.get("output", {"error": "not run"}), r["build"], r["bulkload"],
                         r["parse"])
        error = next((d["error"] for d in (b, out, bl) if "error" in d), None)
        if error is not None:
            lines.append(f"| {r['scale']} | {error} | | | | | | |")
            continue
        lines.append(
            f"| {r['scale']} | {p.get('triples', 0):,} | {out['quads']:,} | "
            f"{fmt_s(bl['seconds'])} | {fmt_s(out['seconds'])} | "
            f"{out['seconds'] / bl['seconds']:.1f}× | {fmt_s(b['build'])} | "
            f"{b['build'] / out['seconds']:.1f}× |")
    return lines


def render(results: list[dict]) -> str:
    head = ("| scale | events | triples | file | parse floor s | bulk-load floor s | "
            "assemble s | validate s | build s | build ÷ bulk-load | stage query oxigraph s | "
            "stage query rdflib s | rdflib ÷ oxigraph | reference s | stage rows | "
            "peak MB (bulk-load / build / rdflib / reference) | identical |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in results:
        b, bl, p, rf, ref = r["build"], r["bulkload"], r["parse"], r["rdflib"], r["reference"]
        get = lambda d, k: d.get(k) if "error" not in d else None  # noqa: E731
        build_s, bulk_s = get(b, "build"), get(bl, "seconds")
        ratio = f"{build_s / bulk_s:.0f}×" if build_s and bulk_s else "–"
        q_ox, q_rd = get(b, "query"), get(rf, "query")
        qratio = f"{q_rd / q_ox:.1f}×" if q_ox and q_rd else rf.get("error", "–")
        peaks = " / ".join(f"{d['maxrss_mb']:.0f}" if "error" not in d else "–"
                           for d in (bl, b, rf, ref))
        same = ("yes" if r["identical"] else "**no**") + f" ({', '.join(r['compared'])})"
        if "error" in b:
            same += f"; build: {b['error']}"
        lines.append(
            f"| {r['scale']} | {r['events']:,} | {get(p, 'triples') or 0:,} | "
            f"{r['bytes'] / 1e6:.0f} MB in {r['files']} file(s) | {fmt_s(get(p, 'seconds'))} | "
            f"{fmt_s(bulk_s)} | {fmt_s(get(b, 'assemble'))} | {fmt_s(get(b, 'validate'))} | "
            f"{fmt_s(build_s)} | {ratio} | {fmt_s(q_ox)} | {fmt_s(q_rd)} | {qratio} | "
            f"{fmt_s(get(ref, 'seconds'))} | {get(ref, 'rows') or '–'} | {peaks} | {same} |")
    details = []
    for r in results:
        b = r["build"]
        if "error" in b:
            continue
        steps = ", ".join(f"{name} {sec:.1f} s ({n:,} triples)" for name, n, sec in b["steps"])
        timings = ", ".join(f"{k} {v:.1f} s" for k, v in b["timings"].items())
        split = ", ".join(f"{k} {v:.1f} s" for k, v in b["validate_split"].items())
        details.append(f"- **{r['scale']}**: assemble: {timings}; derive steps: {steps}; "
                       f"validate: {split}; findings: {b['findings']}; peak after assemble "
                       f"{b['maxrss_assemble_mb']:.0f} MB")
        if "error" not in r["rdflib"]:
            rt = ", ".join(f"{k} {v:.1f} s" for k, v in r["rdflib"]["timings"].items())
            details.append(f"  - rdflib assemble: {rt}")
        for note in r["mismatches"]:
            details.append(f"  - mismatch: {note}")
    skipped = [f"{r['scale']} rdflib: {r['rdflib']['error']}" for r in results if "error" in r["rdflib"]]
    checks: list[str] = []
    partitioned = [
        "",
        "Partitioned build (`alignkg build` from scratch into its on-disk store, group of dyads "
        "by group; the default above 512 MB of input), with validation, on the same files:",
        "",
        "| scale | build s | of which parse / load / derive / validate / load derived s | "
        "build ÷ bulk-load | peak MB | stage query on the on-disk store s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        rb, bl = r.get("rebuild", {"error": "not run"}), r["bulkload"]
        if "error" in rb:
            partitioned.append(f"| {r['scale']} | {rb['error']} | | | | |")
            continue
        full = rb["full"]["seconds"] + rb["full"]["validate"]
        ft = rb.get("full_timings", {})
        split = " / ".join(fmt_s(ft.get(k)) for k in
                           ("parse", "load", "derive", "validate", "load derived"))
        bulk_s = bl.get("seconds") if "error" not in bl else None
        ratio = f"{full / bulk_s:.1f}×" if bulk_s else "–"
        partitioned.append(
            f"| {r['scale']} | {fmt_s(full)} | {split} | {ratio} | "
            f"{rb.get('maxrss_full_mb', 0):.0f} | {fmt_s(rb.get('query_on_disk'))} |")
    details += partitioned
    details += _writes(results)
    persistent = [
        "",
        "Persistent build (`alignkg build` with its store in build/cache), on the same files; "
        "each cell is the store's rebuild + its validation (what was validated):",
        "",
        "| scale | from scratch s | unchanged s | one dyad's file added s | that file changed s "
        "| peak MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        rb = r.get("rebuild", {"error": "not run"})
        if "error" in rb:
            persistent.append(f"| {r['scale']} | {rb['error']} | | | | |")
            continue
        cells = [
            f"{fmt_s(rb[k]['seconds'])} ({rb[k]['mode']}"
            + (f", {rb[k]['dyads']} dyad(s))" if rb[k]["mode"] == "incremental" else ")")
            + (f" + {fmt_s(rb[k]['validate'])} ({rb[k]['validated']})" if "validate" in rb[k]
               else "")
            for k in ("full", "unchanged", "added", "changed")
        ]
        persistent.append(f"| {r['scale']} | " + " | ".join(cells) + f" | {rb['maxrss_mb']:.0f} |")
        if "same_as_whole" in rb["changed"]:
            same = "identical" if rb["changed"]["same_as_whole"] else "**different**"
            checks.append(f"- {r['scale']}: after the change, validating the changed dyad took "
                          f"{fmt_s(rb['changed']['validate'])} s, validating everything "
                          f"{fmt_s(rb['changed']['validate_whole'])} s; findings {same}")
    details += persistent
    if checks:
        details += ["", "Validating what changed against validating everything:", "", *checks]
    return head + "\n".join(lines) + "\n\n" + "\n".join(details) + (
        "\n\nNot measured: " + "; ".join(skipped) + "\n" if skipped else "\n")


def main(argv: list[str] | None = None) -> int:
    global CACHE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", action="append", choices=list(SCALES))
    parser.add_argument("--no-rdflib", action="store_true", help="skip the rdflib stage query")
    parser.add_argument("--rdflib-timeout", type=float, default=1800.0)
    parser.add_argument("--timeout", type=float, default=None, help="per-phase timeout (s)")
    parser.add_argument("--results", type=Path, default=HERE / "results.md")
    parser.add_argument("--cache", type=Path, default=CACHE,
                        help="where the generated data and each phase's results are kept "
                        "(default: build/bench)")
    parser.add_argument("--only", action="append", choices=list(PHASES),
                        help="run only this phase (repeatable); the others' results are read "
                        "back from the last run")
    parser.add_argument("--in-memory-large", action="store_true",
                        help="run the in-memory build at the large scale too (needs ~50 GB)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the earlier run's results for the scales not run now")
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    CACHE = args.cache.resolve()

    if args.phase:
        fn = PHASES[args.phase]
        out = fn(args.data, args.rows) if args.rows else fn(args.data)
        out["maxrss_mb"] = _maxrss_mb()
        args.result.write_text(json.dumps(out), encoding="utf-8")
        return 0

    ONLY.update(args.only or [])
    chosen = args.scale or ["small"]
    earlier: list[dict] = []
    if args.merge and (CACHE / "results.json").exists():
        earlier = [r for r in json.loads((CACHE / "results.json").read_text(encoding="utf-8"))
                   if r["scale"] not in chosen]
    done: list[dict] = []
    for scale in chosen:
        done.append(bench(scale, rdflib=not args.no_rdflib,
                          rdflib_timeout=args.rdflib_timeout, timeout=args.timeout,
                          in_memory_large=args.in_memory_large))
        results = sorted(earlier + done, key=lambda r: r["events"])
        (CACHE / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        table = render(results)
        print(table, flush=True)
        args.results.write_text(
            "# Benchmark results\n\n"
            f"Measured {dt.date.today().isoformat()} with `python bench/run.py "
            + " ".join(f"--scale {r['scale']}" for r in results)
            + (" --no-rdflib" if args.no_rdflib else "") + f"` (seed {SEED})"
            + (" (run scale by scale, with --merge)" if earlier else "") + ".\n\n"
            f"Machine: {machine()}.\n\n" + table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
