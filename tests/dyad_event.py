"""A coded event of a dyad ``kg/`` does not have (Kazakhstan-Russia), shared by the tests
of the persistent, incremental and partitioned builds, with the prefixes it needs."""

from __future__ import annotations

EVENT = "https://w3id.org/alignkg/event/test/kaz-rus-2005-exercise"

PREFIXES = """\
@prefix ak:    <https://w3id.org/alignkg/ns#> .
@prefix state: <https://w3id.org/alignkg/state/> .
@prefix src:   <https://w3id.org/alignkg/source/> .
@prefix coder: <https://w3id.org/alignkg/coder/> .
@prefix prov:  <http://www.w3.org/ns/prov#> .
@prefix oa:    <http://www.w3.org/ns/oa#> .
@prefix xsd:   <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs:  <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""


def kaz_rus_event(
    *, label: bool = True, indicator: str = "JointExercises", level: str = "level"
) -> str:
    """One Kazakhstan-Russia event (a dyad kg/ does not have), optionally flawed."""
    return f"""
<{EVENT}> a ak:Event ;
    {'rdfs:label "A test exercise of Kazakhstan and Russia"@en ;' if label else ""}
    ak:party state:KAZ , state:RUS ;
    ak:dimension ak:Military ;
    ak:indicator ak:{indicator} ;
    ak:{level} ak:Low ;
    ak:startDate "2005-08-18"^^xsd:date ;
    ak:datePrecision ak:DayPrecision ;
    ak:persistence ak:OneOff ;
    prov:wasDerivedFrom src:korolev-2019 ;
    prov:wasAttributedTo coder:alignkg-team ;
    ak:evidence [ a oa:Annotation ;
        oa:motivatedBy oa:describing ;
        oa:hasBody <{EVENT}> ;
        oa:hasTarget [ a oa:SpecificResource ;
            oa:hasSource src:korolev-2019 ;
            oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "joint exercises" ] ] ] .
"""
