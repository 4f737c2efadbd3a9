"""Generate a synthetic, world-scale alignkg graph (deterministic for a given seed).

The graph has the shape of the coded data in kg/: about 200 states (synthetic IRIs with
ISO-like user-assigned codes XAA, XAB, ..., Correlates of War numbers from 1000 and
existence dates), every dyad of states that coexisted between 1946 and 2025 possible,
and sparse events drawn from a skewed (Zipf-like) distribution over dyads: most dyads
have no event, a few have many and climb the whole ladder. Every event is complete per
rules/shapes/completeness.ttl: label, two parties, dimension, indicator and level (or an
aspect of its dimension), start date and precision, persistence, footnote, sources,
coder and an evidence annotation quoting a few words of its first source. Sources come
in several languages and kinds, and are dated after the events that cite them.

Output is N-Triples (``.nt``) or Turtle (``.ttl``), written line by line (constant
memory). With ``--shard-events K`` the output is a directory of files of at most K
events each (alignkg reads files of up to 256 MB). The same seed and arguments give
identical bytes.

    python bench/generate.py --seed 1 --scale small --out build/bench/small.nt
    python bench/generate.py --seed 1 --events 250000 --shard-events 25000 --out build/bench/x/
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import random
import sys
from itertools import combinations
from pathlib import Path
from typing import TextIO

SCALES = {"tiny": 1_000, "small": 10_000, "medium": 100_000, "large": 1_000_000}
FIRST_YEAR, LAST_YEAR = 1946, 2025
FIRST_DAY, LAST_DAY = dt.date(FIRST_YEAR, 1, 1), dt.date(LAST_YEAR, 12, 31)
N_STATES = 200
N_CODERS = 12
ZIPF_EXPONENT = 1.2

NS = {
    "ak": "https://w3id.org/alignkg/ns#",
    "state": "https://w3id.org/alignkg/state/",
    "ev": "https://w3id.org/alignkg/event/synthetic/",
    "src": "https://w3id.org/alignkg/source/synthetic/",
    "coder": "https://w3id.org/alignkg/coder/synthetic/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
}

INDICATORS = {
    1: "ConfidenceBuilding",
    2: "MilitaryConsultation",
    3: "MilitaryTechnicalCooperation",
    4: "JointExercises",
    5: "IntegratedCommand",
    6: "JointDeployment",
    7: "CommonDefencePolicy",
}
ASPECTS = {
    "Diplomatic": ["RelationshipStatus", "JointVeto", "VotingAgreement",
                   "MultilateralInstitution", "ThreatPerception"],
    "Economic": ["Trade", "EnergyProject"],
}
KINDS = ["OfficialDocument", "News", "News", "Book", "Article", "Article", "Report",
         "Interview", "Dataset"]
#: Language -> (weight, words used for titles and quotes).
LANGUAGES: dict[str, tuple[int, list[str]]] = {
    "en": (5, "the two governments agreed to hold joint military exercises and expand "
              "defence cooperation on the border with regular consultations".split()),
    "ru": (2, "стороны договорились о проведении совместных военных учений и "
              "расширении сотрудничества в области обороны".split()),
    "zh": (2, ["双方", "同意", "举行", "联合", "军事", "演习", "加强", "防务", "合作", "磋商"]),
    "fr": (1, "les deux gouvernements ont convenu de tenir des exercices militaires "
              "conjoints et de renforcer la coopération".split()),
    "de": (1, "beide Regierungen vereinbarten gemeinsame Manöver und eine engere "
              "Zusammenarbeit in der Verteidigung".split()),
    "es": (1, "ambos gobiernos acordaron realizar ejercicios militares conjuntos y "
              "ampliar la cooperación en defensa".split()),
    "ar": (1, ["اتفقت", "الحكومتان", "على", "إجراء", "مناورات", "عسكرية", "مشتركة",
               "وتعزيز", "التعاون", "الدفاعي"]),
}
LANG_TABLE = [code for code, (weight, _words) in LANGUAGES.items() for _ in range(weight)]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class Writer:
    """Writes triples as N-Triples or Turtle (prefixed names, one triple a line)."""

    def __init__(self, turtle: bool) -> None:
        self.turtle = turtle

    def iri(self, prefix: str, local: str) -> str:
        if self.turtle:
            return f"{prefix}:{local}"
        return f"<{NS[prefix]}{local}>"

    def typed(self, value: str, datatype: str) -> str:
        if self.turtle:
            return f'"{value}"^^xsd:{datatype}'
        return f'"{value}"^^<{NS["xsd"]}{datatype}>'

    def lang(self, value: str, tag: str) -> str:
        return f'"{_escape(value)}"@{tag}'

    def plain(self, value: str) -> str:
        return f'"{_escape(value)}"'

    def header(self) -> str:
        if not self.turtle:
            return ""
        return "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in NS.items())


#: A shard is closed after this many bytes too (alignkg reads files of at most 256 MB;
#: at a million events the sources alone are larger than that).
MAX_SHARD_BYTES = 128 * 1024 * 1024


class Sink:
    """One output file, or a directory of files of at most ``shard_events`` events."""

    def __init__(self, out: Path, writer: Writer, shard_events: int) -> None:
        self.out, self.writer, self.shard_events = out, writer, shard_events
        self.suffix = ".ttl" if writer.turtle else ".nt"
        self.part = -1
        self.events_in_part = 0
        self.bytes_in_part = 0
        self.file: TextIO | None = None
        if shard_events:
            out.mkdir(parents=True, exist_ok=True)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
        self._open()

    def _open(self) -> None:
        if self.file is not None:
            self.file.close()
        self.part += 1
        path = self.out / f"part-{self.part:04d}{self.suffix}" if self.shard_events else self.out
        self.file = open(path, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (one shard after another, closed by _open and close)
        self.file.write(self.writer.header())
        self.events_in_part = 0
        self.bytes_in_part = 0

    def write(self, text: str) -> None:
        """Write whole entities (a state, a source, events): a shard never splits one."""
        assert self.file is not None
        self.file.write(text)
        self.bytes_in_part += len(text)
        if self.shard_events and self.bytes_in_part >= MAX_SHARD_BYTES:
            self._open()

    def event_written(self) -> None:
        self.events_in_part += 1
        if self.shard_events and self.events_in_part >= self.shard_events:
            self._open()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            path = Path(self.file.name)
            if self.shard_events and self.part > 0 and not self.bytes_in_part:
                path.unlink()  # the shard opened after the last event holds nothing


def _code(i: int) -> str:
    return "X" + chr(65 + i // 26) + chr(65 + i % 26)


def make_states(rng: random.Random) -> list[dict]:
    """About 200 states with ISO-like codes, COW numbers and existence dates."""
    states = []
    for i in range(N_STATES):
        roll = rng.random()
        exists_from = dt.date(rng.randint(1800, 1945), rng.randint(1, 12), rng.randint(1, 28))
        exists_until = None
        if roll < 0.25:  # independence after 1946
            exists_from = dt.date(rng.randint(1946, 1995), rng.randint(1, 12), rng.randint(1, 28))
        elif roll < 0.30:  # ceased to exist
            exists_until = dt.date(rng.randint(1960, 2010), rng.randint(1, 12), rng.randint(1, 28))
        states.append({
            "code": _code(i), "cow": 1000 + i, "from": exists_from, "until": exists_until,
            "window": (max(exists_from, FIRST_DAY), min(exists_until or LAST_DAY, LAST_DAY)),
        })
    return states


def make_dyads(states: list[dict], rng: random.Random) -> list[tuple[dict, dict, dt.date, dt.date]]:
    """Every pair of states that coexisted at some time in 1946-2025, in a seeded order."""
    dyads = []
    for a, b in combinations(states, 2):
        first = max(a["window"][0], b["window"][0])
        last = min(a["window"][1], b["window"][1])
        if first <= last:
            dyads.append((a, b, first, last))
    rng.shuffle(dyads)
    return dyads


def source_count(events: int) -> int:
    """Sources per year: the pool grows with the number of events."""
    return max(20, events // 200)


def source_language(year: int, i: int) -> str:
    return LANG_TABLE[(i * 2654435761 + year * 40503) % len(LANG_TABLE)]


def write_states(sink: Sink, w: Writer, states: list[dict]) -> None:
    ak = lambda local: w.iri("ak", local)  # noqa: E731
    rdf_type = w.iri("rdf", "type")
    for s in states:
        subject = w.iri("state", s["code"])
        lines = [
            f"{subject} {rdf_type} {ak('State')} .",
            f"{subject} {ak('iso3')} {w.plain(s['code'])} .",
            f"{subject} {ak('cowCode')} {w.typed(str(s['cow']), 'integer')} .",
            f"{subject} {w.iri('skos', 'prefLabel')} {w.lang('Synthetic state ' + s['code'], 'en')} .",
            f"{subject} {ak('existsFrom')} {w.typed(s['from'].isoformat(), 'date')} .",
        ]
        if s["until"] is not None:
            lines.append(f"{subject} {ak('existsUntil')} {w.typed(s['until'].isoformat(), 'date')} .")
        sink.write("\n".join(lines) + "\n")


def write_coders(sink: Sink, w: Writer) -> None:
    rdf_type = w.iri("rdf", "type")
    for i in range(N_CODERS):
        subject = w.iri("coder", f"c{i:02d}")
        sink.write(
            f"{subject} {rdf_type} {w.iri('ak', 'Coder')} .\n"
            f"{subject} {rdf_type} {w.iri('prov', 'Agent')} .\n"
            f"{subject} {w.iri('rdfs', 'label')} {w.plain(f'coder {i:02d}')} .\n"
        )


def write_sources(sink: Sink, w: Writer, seed: int, per_year: int) -> None:
    rdf_type = w.iri("rdf", "type")
    dc = lambda local: w.iri("dcterms", local)  # noqa: E731
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        rng = random.Random(f"{seed}-sources-{year}")
        for i in range(per_year):
            lang = source_language(year, i)
            words = LANGUAGES[lang][1]
            subject = w.iri("src", f"s{year}-{i}")
            title = " ".join(rng.choice(words) for _ in range(rng.randint(3, 8)))
            kind = rng.choice(KINDS)
            if year == LAST_YEAR or rng.random() < 0.3:
                date = w.typed(str(year), "gYear")
            elif rng.random() < 0.5:
                date = w.typed(f"{year}-{rng.randint(1, 12):02d}", "gYearMonth")
            else:
                date = w.typed(dt.date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(), "date")
            lines = [
                f"{subject} {rdf_type} {w.iri('ak', 'Source')} .",
                f"{subject} {dc('title')} {w.lang(title, lang)} .",
                f"{subject} {dc('language')} {w.plain(lang)} .",
                f"{subject} {w.iri('ak', 'sourceKind')} {w.iri('ak', kind)} .",
                f"{subject} {dc('date')} {date} .",
                f"{subject} {w.iri('ak', 'footnote')} {w.typed(str(rng.randint(1, 500)), 'integer')} .",
            ]
            if kind in ("News", "OfficialDocument", "Report"):
                url = f"https://example.org/{lang}/{year}/{i}"
                lines.append(f"{subject} {w.iri('ak', 'url')} {w.typed(url, 'anyURI')} .")
            sink.write("\n".join(lines) + "\n")


def _ceiling(rank: int) -> int:
    """The highest rung a dyad of this popularity rank can reach: a few climb the ladder."""
    if rank < 10:
        return 7
    if rank < 100:
        return 5
    if rank < 1000:
        return 4
    return 2


def write_events(sink: Sink, w: Writer, rng: random.Random, dyads: list, events: int,
                 per_year: int) -> None:
    cumulative, total = [], 0.0
    for rank in range(len(dyads)):
        total += (rank + 1) ** -ZIPF_EXPONENT
        cumulative.append(total)
    ak = lambda local: w.iri("ak", local)  # noqa: E731
    rdf_type = w.iri("rdf", "type")
    label_p, derived_p = w.iri("rdfs", "label"), w.iri("prov", "wasDerivedFrom")
    coder_p = w.iri("prov", "wasAttributedTo")
    oa = lambda local: w.iri("oa", local)  # noqa: E731
    buffer: list[str] = []
    for n in range(events):
        rank = min(bisect.bisect_left(cumulative, rng.random() * total), len(dyads) - 1)
        a, b, first, last = dyads[rank]
        if rng.random() < 0.5:
            a, b = b, a
        start = first + dt.timedelta(days=rng.randint(0, (last - first).days))
        precision = rng.choices(["Day", "Month", "Year"], weights=[6, 3, 1])[0]
        if precision == "Month" and start.replace(day=1) >= first:
            start = start.replace(day=1)
        elif precision == "Year" and start.replace(month=1, day=1) >= first:
            start = start.replace(month=1, day=1)
        persistent = rng.random() < 0.3
        end = None
        if persistent and rng.random() < 0.5:
            end = min(start + dt.timedelta(days=rng.randint(30, 15 * 365)), last)
        elif not persistent and rng.random() < 0.1:
            end = min(start + dt.timedelta(days=rng.randint(1, 120)), last)
        subject = w.iri("ev", f"e{n}")
        label = w.lang(f"Synthetic event {n} between {a['code']} and {b['code']}", "en")
        dimension = rng.choices(["Military", "Diplomatic", "Economic"], weights=[6, 2, 2])[0]
        lines = [
            f"{subject} {rdf_type} {ak('Event')} .",
            f"{subject} {label_p} {label} .",
            f"{subject} {ak('party')} {w.iri('state', a['code'])} .",
            f"{subject} {ak('party')} {w.iri('state', b['code'])} .",
            f"{subject} {ak('dimension')} {ak(dimension)} .",
        ]
        if dimension == "Military":
            ceiling = _ceiling(rank)
            rung = rng.choices(range(1, ceiling + 1), weights=[1 / r for r in range(1, ceiling + 1)])[0]
            high = rng.random() < (0.5 if rank < 100 else 0.3)
            lines.append(f"{subject} {ak('indicator')} {ak(INDICATORS[rung])} .")
            lines.append(f"{subject} {ak('level')} {ak('High' if high else 'Low')} .")
        else:
            lines.append(f"{subject} {ak('aspect')} {ak(rng.choice(ASPECTS[dimension]))} .")
        lines.append(f"{subject} {ak('startDate')} {w.typed(start.isoformat(), 'date')} .")
        if end is not None:
            lines.append(f"{subject} {ak('endDate')} {w.typed(end.isoformat(), 'date')} .")
        lines += [
            f"{subject} {ak('datePrecision')} {ak(precision + 'Precision')} .",
            f"{subject} {ak('persistence')} {ak('Persistent' if persistent else 'OneOff')} .",
            f"{subject} {ak('footnote')} {w.typed(str(rng.randint(1, 300)), 'integer')} .",
            f"{subject} {coder_p} {w.iri('coder', f'c{rng.randrange(N_CODERS):02d}')} .",
        ]
        # Sources are dated after the event (years y+1..y+3; a 2025 event cites 2025 sources,
        # which are dated by year only), so no source predates the event it documents.
        cited = []
        for _ in range(rng.randint(1, 3)):
            year = min(start.year + rng.randint(1, 3), LAST_YEAR)
            cited.append((year, rng.randrange(per_year)))
        for year, i in dict.fromkeys(cited):
            lines.append(f"{subject} {derived_p} {w.iri('src', f's{year}-{i}')} .")
        year, i = cited[0]
        words = LANGUAGES[source_language(year, i)][1]
        quote = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
        ann, target, selector = f"_:a{n}", f"_:t{n}", f"_:q{n}"
        lines += [
            f"{subject} {ak('evidence')} {ann} .",
            f"{ann} {rdf_type} {oa('Annotation')} .",
            f"{ann} {oa('motivatedBy')} {oa('describing')} .",
            f"{ann} {oa('hasBody')} {subject} .",
            f"{ann} {oa('hasTarget')} {target} .",
            f"{target} {rdf_type} {oa('SpecificResource')} .",
            f"{target} {oa('hasSource')} {w.iri('src', f's{year}-{i}')} .",
            f"{target} {oa('hasSelector')} {selector} .",
            f"{selector} {rdf_type} {oa('TextQuoteSelector')} .",
            f"{selector} {oa('exact')} {w.plain(quote)} .",
        ]
        buffer.append("\n".join(lines) + "\n")
        if len(buffer) >= 1000 or (sink.shard_events and sink.events_in_part + len(buffer) >= sink.shard_events):
            _flush(sink, buffer)
    _flush(sink, buffer)


def _flush(sink: Sink, buffer: list[str]) -> None:
    for text in buffer:
        sink.write(text)
        sink.event_written()
    buffer.clear()


def generate(out: Path, *, seed: int, events: int, shard_events: int = 0) -> None:
    rng = random.Random(seed)
    turtle = out.suffix == ".ttl" if not shard_events else ".ttl" in out.name
    w = Writer(turtle)
    sink = Sink(out, w, shard_events)
    states = make_states(rng)
    dyads = make_dyads(states, rng)
    per_year = source_count(events)
    write_states(sink, w, states)
    write_coders(sink, w)
    write_sources(sink, w, seed, per_year)
    write_events(sink, w, rng, dyads, events, per_year)
    sink.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--events", type=int)
    size.add_argument("--scale", choices=sorted(SCALES))
    parser.add_argument("--out", type=Path, required=True,
                        help="FILE.nt or FILE.ttl; with --shard-events, a directory "
                             "(named DIR.ttl.d for Turtle shards)")
    parser.add_argument("--shard-events", type=int, default=0,
                        help="write a directory of files of at most this many events each")
    args = parser.parse_args(argv)
    events = args.events if args.events is not None else SCALES[args.scale]
    if not args.shard_events and args.out.suffix not in (".nt", ".ttl"):
        parser.error("--out must end in .nt or .ttl")
    generate(args.out, seed=args.seed, events=events, shard_events=args.shard_events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
