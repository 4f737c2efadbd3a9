"""The sources of the paper: every footnote 1–112 is carried, URLs and languages are sound.

The graph is assembled from kg/ as the engine builds it. The checks are plain functions
over one source's properties, run on every source of kg/ and, as a control, on small
faulty graphs they must reject.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal
from rdflib.term import Node

from alignkg.build import assemble
from alignkg.namespace import AK, DATA_GRAPH

ROOT = Path(__file__).resolve().parent.parent
SRC = "https://w3id.org/alignkg/source/"
DCTERMS = "http://purl.org/dc/terms/"
LAST_FOOTNOTE = 112
LANGUAGES = {"zh", "ru", "en"}
TAG_LANGUAGE = {"zh-latn-pinyin": "zh", "ru-latn": "ru"}

Sources = dict[str, dict[str, list[Node]]]


def collect(triples: Iterable[tuple[Node, Node, Node]]) -> Sources:
    """Source IRI -> property (local name of ak: or dcterms: terms) -> values."""
    triples = list(triples)
    typed = {str(s) for s, p, o in triples if p == RDF.type and o == AK.Source}
    sources: Sources = defaultdict(lambda: defaultdict(list))
    for subject, predicate, value in triples:
        if str(subject) not in typed:
            continue
        for namespace in (str(AK._NS), DCTERMS):
            if str(predicate).startswith(namespace):
                values = sources[str(subject)][str(predicate)[len(namespace) :]]
                if value not in values:
                    values.append(value)
    return sources


def from_turtle(text: str) -> Sources:
    prefixes = (
        f"@prefix ak: <https://w3id.org/alignkg/ns#> . @prefix src: <{SRC}> .\n"
        f"@prefix dcterms: <{DCTERMS}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    )
    graph = Graph().parse(data=prefixes + text, format="turtle")
    return collect(graph)


def footnote_carriers(sources: Sources) -> dict[int, set[str]]:
    carriers: dict[int, set[str]] = defaultdict(set)
    for iri, props in sources.items():
        for footnote in props.get("footnote", []):
            carriers[int(footnote)].add(iri)
    return carriers


def url_problems(url: str) -> list[str]:
    problems = []
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", url):
        problems.append(f"not an absolute http(s) IRI without spaces: {url!r}")
    if re.search(r"%(3f|3d|26|40)", url, re.IGNORECASE):
        problems.append(f"a reserved character is still percent-encoded: {url!r}")
    if url.endswith((".", ",", ";")):
        problems.append(f"ends with punctuation that closes the footnote: {url!r}")
    return problems


def language_problems(props: Mapping[str, list[Node]]) -> list[str]:
    problems = []
    languages = [str(v) for v in props.get("language", [])]
    if len(languages) != 1 or languages[0] not in LANGUAGES:
        problems.append(f"needs exactly one language in {sorted(LANGUAGES)}, has {languages}")
    titles = props.get("title", [])
    if not titles:
        problems.append("has no title")
    for title in titles:
        tag = (title.language or "").lower() if isinstance(title, Literal) else ""
        implied = TAG_LANGUAGE.get(tag)
        if implied and languages != [implied]:
            problems.append(f"a title tagged {tag} implies language {implied!r}, not {languages}")
        if not tag:
            problems.append(f"title without a language tag: {title!r}")
    return problems


def source_problems(props: Mapping[str, list[Node]]) -> list[str]:
    problems = language_problems(props)
    for url in props.get("url", []):
        problems += url_problems(str(url))
    if len(props.get("sourceKind", [])) != 1:
        problems.append(f"needs exactly one kind, has {props.get('sourceKind', [])}")
    for footnote in props.get("footnote", []):
        if not 1 <= int(footnote) <= LAST_FOOTNOTE:
            problems.append(f"footnote {footnote} is outside 1..{LAST_FOOTNOTE}")
    return problems


def shared_urls(sources: Sources) -> dict[str, list[str]]:
    by_url: dict[str, list[str]] = defaultdict(list)
    for iri, props in sources.items():
        for url in props.get("url", []):
            by_url[str(url)].append(iri)
    return {url: sorted(iris) for url, iris in by_url.items() if len(iris) > 1}


@pytest.fixture(scope="module")
def sources() -> Sources:
    kg = assemble([ROOT / "kg"])
    return collect(kg.store.triples(graph=DATA_GRAPH))


def _source_iris() -> list[str]:
    graph = Graph()
    for path in sorted((ROOT / "kg").rglob("*.ttl")):
        graph.parse(path, format="turtle")
    return sorted(str(s) for s in graph.subjects(None, AK.Source))


SOURCE_IRIS = _source_iris()


# --- every footnote is carried --------------------------------------------------------

# Footnotes that cite several documents, and how many; every other footnote cites one.
MULTI = {10: 3, 11: 6, 13: 4, 17: 2, 23: 4, 30: 4, 42: 2, 52: 2, 83: 5, 89: 3}


@pytest.mark.parametrize("footnote", range(1, LAST_FOOTNOTE + 1))
def test_every_footnote_is_carried_by_its_documents(footnote: int, sources: Sources) -> None:
    carriers = footnote_carriers(sources).get(footnote, set())
    assert len(carriers) == MULTI.get(footnote, 1), (footnote, sorted(carriers))


# A repeated citation (short form, "title only", or the full citation again) adds its
# number to the node of the first citation instead of minting a node.
REPEATS = [
    (27, "fn20-wilkins-2012"), (87, "fn20-wilkins-2012"),
    (28, "fn19-ward-1982"), (81, "fn19-ward-1982"),
    (32, "fn26-snyder-1997"), (112, "fn31-snyder-1991"),
    (46, "fn45-joint-communique-2005"), (53, "fn51-cheung-2009"),
    (59, "fn57-peoples-daily-2015"), (64, "fn57-peoples-daily-2015"),
    (60, "fn58-krecyl-2014"), (61, "fn58-krecyl-2014"),
    (62, "fn58-krecyl-2014"), (63, "fn58-krecyl-2014"),
    (68, "interview-moscow-2016-10"), (77, "fn71-cntv-peace-mission-2010"),
    (85, "fn83-mansfield-1997"), (86, "fn84-lai-2000"), (89, "fn84-lai-2000"),
    (96, "fn11-cox-2016"), (110, "fn65-lavrov-2014"),
    (24, "korolev-2019"), (103, "korolev-2019"),
]


@pytest.mark.parametrize(("footnote", "name"), REPEATS, ids=[f"fn{n}" for n, _ in REPEATS])
def test_a_repeat_goes_to_the_first_citation(footnote: int, name: str, sources: Sources) -> None:
    assert SRC + name in footnote_carriers(sources)[footnote]


# --- each source -----------------------------------------------------------------------


@pytest.mark.parametrize("iri", SOURCE_IRIS, ids=[i.rsplit("/", 1)[-1] for i in SOURCE_IRIS])
def test_source_is_well_formed(iri: str, sources: Sources) -> None:
    assert source_problems(sources[iri]) == []


def test_no_two_sources_share_a_url(sources: Sources) -> None:
    assert shared_urls(sources) == {}


def test_the_paper_has_its_doi(sources: Sources) -> None:
    paper = sources[SRC + "korolev-2019"]
    assert [str(d) for d in paper["doi"]] == ["10.1057/s41311-019-00178-x"]
    dois = [iri for iri, props in sources.items() if props.get("doi")]
    assert dois == [SRC + "korolev-2019"]


def test_table_2_sources_carry_no_footnote(sources: Sources) -> None:
    for name in ("un-comtrade", "china-customs-statistics", "russia-customs-statistics"):
        props = sources[SRC + name]
        assert [str(k) for k in props["sourceKind"]] == [str(AK.Dataset)]
        assert "footnote" not in props


# --- titles and names as printed ---------------------------------------------------------

# Sources whose title is a description rather than a title the paper prints.
DESCRIBED = {
    "korolev-2019", "fn22-special-issue", "fn25-author-interviews-2015-2016",
    "interview-multiple-experts", "china-customs-statistics", "russia-customs-statistics",
}


def _flat(text: str, *, keep_hyphens: bool) -> str:
    text = re.sub(r"-\s*\n\s*", "-" if keep_hyphens else "", text)
    return re.sub(r"\s+", " ", text).strip()


def printed_in(text: str, paper: str) -> bool:
    wanted = re.sub(r"\s+", " ", text).strip()
    return any(wanted in _flat(paper, keep_hyphens=keep) for keep in (False, True))


PRINTED = [i for i in SOURCE_IRIS if i.rsplit("/", 1)[-1] not in DESCRIBED]

# Titles the paper prints across a page break, with the part printed on each page.
PAGE_BREAK = {
    "In search of the ‘Other’ in Asia: Russia–China relations revisited": (
        "Elizabeth Wishnick, “In",
        "search of the ‘Other’ in Asia: Russia–China relations revisited,”",
    ),
}


@pytest.mark.parametrize("iri", PRINTED, ids=[i.rsplit("/", 1)[-1] for i in PRINTED])
def test_titles_and_creators_are_as_printed(iri: str, sources: Sources, paper_text: str) -> None:
    props = sources[iri]
    missing = [
        str(value)
        for key in ("title", "creator")
        for value in props.get(key, [])
        if not all(printed_in(part, paper_text) for part in PAGE_BREAK.get(str(value), [str(value)]))
    ]
    assert missing == []


def url_printed_in(url: str, paper: str) -> bool:
    """The URL is in the paper once its spaces are removed, as is or percent-encoded."""
    flat = re.sub(r"\s+", "", paper)
    encoded = url
    for char, code in (("?", "%3f"), ("=", "%3d"), ("&", "%26"), ("@", "%40")):
        encoded = encoded.replace(char, code)
    return url in flat or encoded in flat


URLS = [
    (iri, str(url))
    for iri, url in sorted(
        (str(s), o)
        for path in sorted((ROOT / "kg").rglob("*.ttl"))
        for s, o in Graph().parse(path, format="turtle").subject_objects(AK.url)
    )
    if iri != SRC + "korolev-2019"  # the DOI link, not printed as a URL
]


@pytest.mark.parametrize(("iri", "url"), URLS, ids=[i.rsplit("/", 1)[-1] for i, _ in URLS])
def test_url_is_printed(iri: str, url: str, paper_text: str) -> None:
    assert url_printed_in(url, paper_text), url


# --- the checks reject faulty sources ------------------------------------------------------


@pytest.mark.parametrize(
    ("turtle", "fragment"),
    [
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" ; dcterms:title "T"@en ;'
         ' ak:url "http://www.mid .ru/x"^^xsd:anyURI .', "without spaces"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" ; dcterms:title "T"@en ;'
         ' ak:url "www.mid.ru/x"^^xsd:anyURI .', "absolute"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" ; dcterms:title "T"@en ;'
         ' ak:url "http://x.org/a.aspx%3fDb%3deagn"^^xsd:anyURI .', "percent-encoded"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" ; dcterms:title "T"@en ;'
         ' ak:url "http://x.org/a.html."^^xsd:anyURI .', "punctuation"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "ru" ; dcterms:title "Zhong-E"@zh-Latn-pinyin .',
         "implies language 'zh'"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "zh" ; dcterms:title "Novui Etap"@ru-Latn .',
         "implies language 'ru'"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "ru" , "en" ; dcterms:title "T"@en .',
         "exactly one language"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "Russian" ; dcterms:title "T"@en .',
         "exactly one language"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" .', "no title"),
        ('src:a ak:sourceKind ak:News , ak:Report ; dcterms:language "en" ; dcterms:title "T"@en .',
         "exactly one kind"),
        ('src:a ak:sourceKind ak:News ; dcterms:language "en" ; dcterms:title "T"@en ; ak:footnote 113 .',
         "outside"),
    ],
)
def test_a_faulty_source_is_rejected(turtle: str, fragment: str) -> None:
    [props] = from_turtle("src:a a ak:Source .\n" + turtle).values()
    problems = source_problems(props)
    assert any(fragment in p for p in problems), problems


def test_shared_url_and_missing_footnote_are_found() -> None:
    sources = from_turtle(
        'src:a a ak:Source ; ak:footnote 1 ; ak:url "http://x.org/"^^xsd:anyURI .\n'
        'src:b a ak:Source ; ak:footnote 1 , 3 ; ak:url "http://x.org/"^^xsd:anyURI .\n'
    )
    assert shared_urls(sources) == {"http://x.org/": [SRC + "a", SRC + "b"]}
    carriers = footnote_carriers(sources)
    assert carriers[1] == {SRC + "a", SRC + "b"}
    assert 2 not in carriers


def test_a_misprinted_title_is_not_printed(paper_text: str) -> None:
    assert printed_in("Rossiya i Kitai Usilivayut Sblizhenie v Voennoi Oblasti", paper_text)
    assert not printed_in("Rossiya i Kitai Usilivayut Sblizhenie v Voennoy Oblasti", paper_text)
    assert printed_in("Two Ways of Influence-building", paper_text)
    assert url_printed_in("http://www.pkulaw.cn/fulltext_form.aspx?Db=eagn&Gid=100669717&EncodingName=", paper_text)
    assert not url_printed_in("http://www.pkulaw.cn/fulltext_form.aspx?Db=eagn&Gid=10066971&EncodingName=", paper_text)
