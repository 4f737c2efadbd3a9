"""The alignkg vocabulary as a typed namespace that fails on a misspelt term.

The terms mirror ``ontology/alignkg.ttl`` (and the rule sets of ``rules/``); a test
checks that both declare the same terms.
"""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import DefinedNamespace, Namespace

BASE = "https://w3id.org/alignkg/"
ONTOLOGY_IRI = "https://w3id.org/alignkg/ns"

STATE = Namespace(BASE + "state/")
DYAD = Namespace(BASE + "dyad/")
GROUPING = Namespace(BASE + "grouping/")
DERIVED = Namespace(BASE + "derived/")
CALENDAR = Namespace(BASE + "calendar/")
GRAPH = Namespace(BASE + "graph/")
SHAPES = Namespace(BASE + "shapes#")
CHECK = Namespace(BASE + "check#")
OA = Namespace("http://www.w3.org/ns/oa#")


class AK(DefinedNamespace):
    """Terms of ``https://w3id.org/alignkg/ns#``."""

    _NS = Namespace("https://w3id.org/alignkg/ns#")
    _fail = True

    AdvancedStage: URIRef
    AllMemberPairs: URIRef
    AllPermanentMembers: URIRef
    Article: URIRef
    Aspect: URIRef
    AtLeast: URIRef
    AtMost: URIRef
    BilateralOnlyRules: URIRef
    BillionUSD: URIRef
    Book: URIRef
    CellValue: URIRef
    ChinaRussiaJointly: URIRef
    Coder: URIRef
    CodingDecision: URIRef
    CommonDefencePolicy: URIRef
    ComparedQuantity: URIRef
    Comparison: URIRef
    ConfidenceBuilding: URIRef
    Dataset: URIRef
    DatePrecision: URIRef
    DayPrecision: URIRef
    DefaultRules: URIRef
    DerivedCell: URIRef
    Dimension: URIRef
    Diplomatic: URIRef
    Dyad: URIRef
    DyadYear: URIRef
    EarlyStage: URIRef
    Economic: URIRef
    EnergyProject: URIRef
    EqualTo: URIRef
    Event: URIRef
    Grouping: URIRef
    GroupingProjection: URIRef
    High: URIRef
    HighestManifested: URIRef
    InRange: URIRef
    Indicator: URIRef
    IndicatorMilestone: URIRef
    IndicatorYear: URIRef
    IntegratedCommand: URIRef
    Interview: URIRef
    JointDeployment: URIRef
    JointExercises: URIRef
    JointVeto: URIRef
    Ladder: URIRef
    LastingOneOffsRules: URIRef
    Level: URIRef
    Low: URIRef
    Membership: URIRef
    Military: URIRef
    MilitaryConsultation: URIRef
    MilitaryTechnicalCooperation: URIRef
    MissingCell: URIRef
    ModerateStage: URIRef
    MonthPrecision: URIRef
    MultilateralInstitution: URIRef
    News: URIRef
    NoProjection: URIRef
    NoStage: URIRef
    ObservationStatus: URIRef
    OfficialDocument: URIRef
    OfficialSourceRules: URIRef
    OneOff: URIRef
    OneSourceRules: URIRef
    Percent: URIRef
    PercentChange: URIRef
    Period1991To2017: URIRef
    Period2007To2017: URIRef
    PeriodBefore2007: URIRef
    Persistence: URIRef
    Persistent: URIRef
    PrintedCell: URIRef
    Ratio: URIRef
    Reading: URIRef
    RelationshipStatus: URIRef
    Report: URIRef
    RobustnessAspects: URIRef
    RuleSet: URIRef
    Source: URIRef
    SourceKind: URIRef
    Stage: URIRef
    StageAssessment: URIRef
    StageYear: URIRef
    State: URIRef
    StrictLadder: URIRef
    TextFigure: URIRef
    ThreatPerception: URIRef
    Trade: URIRef
    TradeTableStructure: URIRef
    TwoSourcesRules: URIRef
    Unit: URIRef
    VetoPeriods: URIRef
    VetoTableStructure: URIRef
    Vetoes: URIRef
    VetoingParties: URIRef
    VotingAgreement: URIRef
    YearPrecision: URIRef

    activeIn: URIRef
    aspect: URIRef
    aspectOf: URIRef
    becomesHighWith: URIRef
    calendarYear: URIRef
    cell: URIRef
    chinaShareInRussiaTrade: URIRef
    codingDecision: URIRef
    counts: URIRef
    cowCode: URIRef
    datePrecision: URIRef
    decision: URIRef
    denominator: URIRef
    dimension: URIRef
    doi: URIRef
    dyad: URIRef
    dyadYear: URIRef
    endDate: URIRef
    evidence: URIRef
    existsFrom: URIRef
    existsUntil: URIRef
    firstHighYear: URIRef
    firstYear: URIRef
    footnote: URIRef
    grouping: URIRef
    groupingProjection: URIRef
    highLevel: URIRef
    highLevelQuote: URIRef
    highestIndicator: URIRef
    indicator: URIRef
    independentSources: URIRef
    indicatorsPresent: URIRef
    involvesDyad: URIRef
    iso3: URIRef
    ladderOpen: URIRef
    level: URIRef
    lowLevel: URIRef
    lowLevelQuote: URIRef
    member: URIRef
    memberState: URIRef
    membership: URIRef
    minimumSources: URIRef
    numerator: URIRef
    officialSources: URIRef
    obsStatus: URIRef
    oneOffYears: URIRef
    party: URIRef
    periodEnd: URIRef
    periodStart: URIRef
    persistence: URIRef
    precedes: URIRef
    precursor: URIRef
    prerequisite: URIRef
    printedValue: URIRef
    projectedFrom: URIRef
    quantity: URIRef
    rank: URIRef
    reading: URIRef
    reason: URIRef
    referenceYear: URIRef
    relation: URIRef
    requires: URIRef
    requiresOfficialSource: URIRef
    rung: URIRef
    russiaShareInChinaTrade: URIRef
    since: URIRef
    sourceKind: URIRef
    stage: URIRef
    stageHigh: URIRef
    startDate: URIRef
    statedAs: URIRef
    statedHigh: URIRef
    statedIn: URIRef
    statedLow: URIRef
    statedValue: URIRef
    tableNote: URIRef
    tolerance: URIRef
    totalTrade: URIRef
    unit: URIRef
    until: URIRef
    url: URIRef
    vetoCount: URIRef
    vetoPeriod: URIRef
    vetoingParty: URIRef
    year: URIRef

#: Named graphs of the store: what was asserted, what was inferred, what was derived.
ONTOLOGY_GRAPH = GRAPH["ontology"]
RULES_GRAPH = GRAPH["rules"]
DATA_GRAPH = GRAPH["data"]
INFERRED_GRAPH = GRAPH["inferred"]
CALENDAR_GRAPH = GRAPH["calendar"]
DERIVED_GRAPH = GRAPH["derived"]

PREFIXES: dict[str, str] = {
    "ak": str(AK._NS),
    "state": str(STATE),
    "dyad": str(DYAD),
    "grouping": str(GROUPING),
    "derived": str(DERIVED),
    "event": BASE + "event/",
    "src": BASE + "source/",
    "table": BASE + "table/",
    "coder": BASE + "coder/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": str(OA),
    "sh": "http://www.w3.org/ns/shacl#",
    "qb": "http://purl.org/linked-data/cube#",
}
