"""The web page end to end, in real headless Chromium against `alignkg serve`.

The workbench (vendored YASGUI) runs a named query against /sparql and downloads its
rows as CSV; the evidence browser draws the indicators × years grid of CHN-RUS and shows
the events behind a cell; and no request ever leaves the server's origin.
Screenshots go to build/test-artefacts/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser import (
    HEIGHT,
    WIDTH,
    Server,
    chromium,
    console_errors,
    foreign,
    full_page_png,
    requested_urls,
    require_chromium,
    serve,
)

ROOT = Path(__file__).resolve().parent.parent
ARTEFACTS = ROOT / "build" / "test-artefacts"
WEB = ROOT / "src" / "alignkg" / "web"
ACTIVE = "#yasgui .tabPanel.active"  # the YASGUI tab on show
WAIT = 60.0  # seconds a page element may take to appear before the test fails


@dataclass(frozen=True)
class CellCase:
    """What the evidence panel must show for one cell of the grid."""

    dyad: str
    year: int
    rung: int
    level: str
    event: str
    quote: str
    finding_rule: str
    strict_stage: str


JOINT_SEA = CellCase(
    dyad="CHN-RUS",
    year=2015,
    rung=5,
    level="L",
    event="Joint Sea 2015: joint command",
    quote="Joint Sea-2015” marked a step forward",
    finding_rule="SourcePredatesEvent",
    strict_stage="advanced",
)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    base = tmp_path_factory.mktemp("serve")
    with serve(ROOT / "kg", base / "store", base / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory, downloads: Path) -> Iterator[Any]:
    browser = chromium(tmp_path_factory.mktemp("profile"), downloads)
    try:
        yield browser
    finally:
        browser.quit()


def wait_for(driver: Any, condition: Callable[[Any], Any], what: str) -> Any:
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    # Tables are redrawn while we look: an element gone stale means "look again".
    waiting = WebDriverWait(
        driver, WAIT, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
    )
    try:
        return waiting.until(condition)
    except TimeoutException:
        errors = console_errors(driver)
        pytest.fail(f"waiting for {what}; console errors: {errors}", pytrace=False)


def open_page(driver: Any, server: Server, fragment: str = "") -> None:
    driver.get(server.url + fragment)
    wait_for(driver, lambda d: d.execute_script("return document.body.dataset.ready"), "the page")
    assert driver.execute_script("return document.body.dataset.workbench") == "ready"


def editor_text(driver: Any) -> str:
    return str(
        driver.execute_script(
            f"const e = document.querySelector('{ACTIVE} .CodeMirror');"
            "return e ? e.CodeMirror.getValue() : '';"
        )
    )


def result_rows(driver: Any) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    rows = []
    for tr in driver.find_elements(By.CSS_SELECTOR, f"{ACTIVE} .yasr_results table tbody tr"):
        rows.append([td.text.strip() for td in tr.find_elements(By.TAG_NAME, "td")])
    return [r for r in rows if len(r) > 1]


def run_named_query(driver: Any, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, "query-picker")).select_by_value(name)
    driver.find_element(By.ID, "load-query").click()
    wait_for(driver, lambda d: "SELECT" in editor_text(d), f"query {name} in the editor")
    driver.find_element(By.ID, "run-query").click()
    wait_for(driver, lambda d: result_rows(d), "the result table")


def filter_results(driver: Any, text: str) -> list[list[str]]:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.CSS_SELECTOR, f"{ACTIVE} .tableFilter")
    box.clear()
    box.send_keys(text)
    return list(
        wait_for(
            driver,
            lambda d: (rows := result_rows(d)) and all(text in " ".join(r) for r in rows) and rows,
            f"rows filtered by {text}",
        )
    )


def wait_for_download(folder: Path, suffix: str) -> Path:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done:
            return done[0]
        time.sleep(0.1)
    pytest.fail(f"no {suffix} file was downloaded to {folder}: {list(folder.iterdir())}")


def show_evidence(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "nav-evidence").click()
    wait_for(
        driver,
        lambda d: (
            d.find_element(By.ID, "evidence").is_displayed()
            and d.find_elements(By.CSS_SELECTOR, "#grid button.cell")
        ),
        "the evidence grid",
    )


def cell_button(driver: Any, year: int, rung: int) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(
        By.CSS_SELECTOR, f"#grid button.cell[data-year='{year}'][data-rung='{rung}']"
    )


def open_cell(driver: Any, case: CellCase) -> Any:
    from selenium.webdriver.common.by import By

    cell_button(driver, case.year, case.rung).click()
    wait_for(
        driver,
        lambda d: (
            d.find_element(By.ID, "cell-panel").get_attribute("data-year") == str(case.year)
            and d.find_elements(By.CSS_SELECTOR, "#cell-panel article.event")
        ),
        f"the events of {case.year}, indicator {case.rung}",
    )
    return driver.find_element(By.ID, "cell-panel")


# ---------------------------------------------------------------- tests


def test_workbench_runs_a_named_query_and_downloads_csv(
    driver: Any, server: Server, downloads: Path
) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, server)
    names = [
        o.get_attribute("value")
        for o in driver.find_elements(By.CSS_SELECTOR, "#query-picker option")
    ]
    assert {"stage-per-dyad-year", "events", "evidence"} <= set(names)

    run_named_query(driver, "stage-per-dyad-year")
    text = editor_text(driver)
    # The named query arrives with every project prefix declared.
    assert re.search(r"^PREFIX ak:\s*<https://w3id.org/alignkg/ns#>", text, re.M)
    assert re.search(r"^PREFIX dyad:\s*<https://w3id.org/alignkg/dyad/>", text, re.M)
    header = [
        th.text.strip()
        for th in driver.find_elements(By.CSS_SELECTOR, f"{ACTIVE} .yasr_results table thead th")
    ]
    assert {"dyadLabel", "year", "readingCode", "stageCode"} <= set(header)

    rows = filter_results(driver, "CHN-RUS")
    years = {cell for row in rows for cell in row if re.fullmatch(r"(199\d|20[01]\d)", cell)}
    assert any("CHN-RUS" in row for row in rows)
    assert {"1992", "2015", "2017"} <= years
    assert any("advanced" in row and "2015" in row for row in rows)

    download = driver.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasr_downloadIcon")
    assert download.is_displayed()
    assert "disabled" not in (download.get_attribute("class") or "")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTEFACTS / "workbench.png"))

    download.click()
    saved = wait_for_download(downloads, ".csv")
    table = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert {"dyadLabel", "year", "stageCode"} <= set(table[0])
    chn_rus = {
        (r["year"], r["readingCode"]): r["stageCode"] for r in table if r["dyadLabel"] == "CHN-RUS"
    }
    assert chn_rus[("2015", "strict")] == "advanced"
    assert chn_rus[("1992", "strict")] == "early"
    assert console_errors(driver) == []


def test_evidence_browser_grid_and_cell(driver: Any, server: Server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    case = JOINT_SEA
    open_page(driver, server)
    show_evidence(driver)
    assert (
        Select(driver.find_element(By.ID, "dyad-picker")).first_selected_option.get_attribute(
            "value"
        )
        == case.dyad
    )

    rows = driver.find_elements(By.CSS_SELECTOR, "#grid tbody.indicators tr.indicator")
    assert [r.get_attribute("data-rung") for r in rows] == [str(n) for n in range(1, 8)]
    groups = driver.find_elements(By.CSS_SELECTOR, "#grid tbody.indicators")
    assert [g.get_attribute("data-stage") for g in groups] == ["early", "moderate", "advanced"]
    years = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#grid thead tr.years th")]
    assert years == [str(y) for y in range(1992, 2018)]

    # Both readings' bands, with the stage of every year; strict is advanced in 2015.
    for reading in ("strict", "manifested"):
        bands = driver.find_elements(By.CSS_SELECTOR, f"#grid tr.band-{reading} td.band-cell")
        spans = [
            (int(b.get_attribute("data-first")), int(b.get_attribute("data-last"))) for b in bands
        ]
        covered = [y for first, last in spans for y in range(first, last + 1)]
        assert covered == list(range(1992, 2018)), reading
    strict = {
        y: band
        for band in driver.find_elements(By.CSS_SELECTOR, "#grid tr.band-strict td.band-cell")
        for y in range(
            int(band.get_attribute("data-first")), int(band.get_attribute("data-last")) + 1
        )
    }
    assert strict[2015].get_attribute("data-stage") == case.strict_stage
    assert case.strict_stage in strict[2015].text
    assert strict[1992].get_attribute("data-stage") == "early"
    precursors = driver.find_element(
        By.CSS_SELECTOR, "#grid tr.precursors-strict td[data-year='1992']"
    )
    assert precursors.text == "+3"

    # Cells are buttons labelled L/H (readable without colour); absent cells are empty.
    button = cell_button(driver, case.year, case.rung)
    assert button.tag_name == "button"
    assert button.text.startswith(case.level)
    assert "finding" in (button.get_attribute("aria-label") or "")
    assert button.find_elements(By.CSS_SELECTOR, ".flag")
    assert not driver.find_elements(By.CSS_SELECTOR, "#grid button.cell[data-rung='7']")
    labels = {b.text[:1] for b in driver.find_elements(By.CSS_SELECTOR, "#grid button.cell")}
    assert labels == {"L", "H"}

    # The whole figure fits 1280 px: no horizontal scrolling.
    right = driver.execute_script(
        "return document.getElementById('grid').getBoundingClientRect().right"
    )
    assert right <= WIDTH
    assert driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH

    panel = open_cell(driver, case)
    events = panel.find_elements(By.CSS_SELECTOR, "article.event")
    joint = [e for e in events if case.event in e.find_element(By.TAG_NAME, "h3").text]
    assert joint, [e.find_element(By.TAG_NAME, "h3").text for e in events]
    event = joint[0]
    assert "2015" in event.find_element(By.CSS_SELECTOR, "dl.meta").text
    quotes = [q.text for q in event.find_elements(By.CSS_SELECTOR, "blockquote.quote")]
    assert any(case.quote in q for q in quotes), quotes
    sources = event.find_elements(By.CSS_SELECTOR, "ul.sources li.source")
    assert sources
    with_link = [s for s in sources if s.find_elements(By.CSS_SELECTOR, "a.source-link")]
    assert with_link
    for source in with_link:
        link = source.find_element(By.CSS_SELECTOR, "a.source-link")
        assert link.get_attribute("href").startswith(("http://", "https://"))
        assert link.get_attribute("target") == "_blank"
        assert "noopener" in link.get_attribute("rel").split()
        assert source.find_element(By.CSS_SELECTOR, ".tag.language").text
    findings = event.find_elements(By.CSS_SELECTOR, "ul.findings li.finding")
    assert any(
        case.finding_rule in f.text and "warning" in (f.get_attribute("class") or "")
        for f in findings
    ), [f.text for f in findings]

    driver.execute_script("window.scrollTo(0, 0)")
    full_page_png(driver, ARTEFACTS / "evidence-browser.png")
    assert console_errors(driver) == []


PEACE_MISSION = CellCase(
    dyad="CHN-RUS",
    year=2005,
    rung=5,
    level="L",
    event="Peace Mission 2005",
    quote="a new system of command codes was introduced",
    finding_rule="LadderStageHighShape",
    strict_stage="moderate",
)


def test_evidence_browser_shows_the_ladder_findings_of_a_cell(
    driver: Any, server: Server
) -> None:
    """Integrated command in 2005, before the moderate stage is high: the ladder's warning is
    on the indicator-year itself, shown above the events."""
    from selenium.webdriver.common.by import By

    case = PEACE_MISSION
    open_page(driver, server)
    show_evidence(driver)
    panel = open_cell(driver, case)
    section = panel.find_element(By.CSS_SELECTOR, "section.cell-findings")
    findings = section.find_elements(By.CSS_SELECTOR, "li.finding")
    assert len(findings) == 2  # indicators 3 and 4 were not yet high
    assert all(case.finding_rule in f.text for f in findings)
    assert any("indicator 4 has not reached the high level" in f.text for f in findings)
    events = panel.find_elements(By.CSS_SELECTOR, "article.event")
    assert any(case.event in e.find_element(By.TAG_NAME, "h3").text for e in events)
    assert any(case.quote in q.text for q in panel.find_elements(By.CSS_SELECTOR, "blockquote"))
    assert console_errors(driver) == []


def test_evidence_browser_keyboard(driver: Any, server: Server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    case = JOINT_SEA
    open_page(driver, server, "#evidence")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#grid button.cell"), "the grid")
    start = cell_button(driver, 2014, case.rung)
    driver.execute_script("arguments[0].focus()", start)
    start.send_keys(Keys.ARROW_RIGHT)
    focused = driver.switch_to.active_element
    assert (focused.get_attribute("data-year"), focused.get_attribute("data-rung")) == (
        str(case.year),
        str(case.rung),
    )
    focused.send_keys(Keys.ENTER)
    wait_for(
        driver,
        lambda d: d.find_element(By.ID, "cell-panel").get_attribute("data-year") == str(case.year),
        "the panel after Enter",
    )
    assert case.event in driver.find_element(By.ID, "cell-panel").text
    assert driver.switch_to.active_element.get_attribute("aria-pressed") == "true"


def test_dyad_picker_redraws_the_grid(driver: Any, server: Server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with urllib.request.urlopen(server.origin + "/api/dyads") as response:
        dyads = json.load(response)["dyads"]
    other = next(d for d in dyads if d["dyad"] != JOINT_SEA.dyad)
    open_page(driver, server, "#evidence")
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#grid button.cell"), "the grid")
    options = [
        o.get_attribute("value")
        for o in driver.find_elements(By.CSS_SELECTOR, "#dyad-picker option")
    ]
    assert options == [d["dyad"] for d in dyads]
    Select(driver.find_element(By.ID, "dyad-picker")).select_by_value(other["dyad"])
    wait_for(
        driver,
        lambda d: d.find_element(By.ID, "grid").get_attribute("data-dyad") == other["dyad"],
        f"the grid of {other['dyad']}",
    )
    years = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#grid thead tr.years th")]
    assert years == [str(y) for y in range(other["first"], other["last"] + 1)]
    assert len(driver.find_elements(By.CSS_SELECTOR, "#grid tr.indicator")) == 7


def test_no_request_leaves_the_origin(driver: Any, server: Server, downloads: Path) -> None:
    from selenium.webdriver.common.by import By

    requested_urls(driver)  # start from an empty log
    console_errors(driver)
    open_page(driver, server)
    run_named_query(driver, "events")
    driver.find_element(By.CSS_SELECTOR, f"{ACTIVE} .yasr_downloadIcon").click()
    wait_for_download(downloads, "events.csv")
    show_evidence(driver)
    open_cell(driver, JOINT_SEA)
    driver.find_element(By.CSS_SELECTOR, "#findings summary").click()
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#findings-list li"), "findings")

    urls = requested_urls(driver)
    paths = {u[len(server.origin) :].split("?")[0] for u in urls if u.startswith(server.origin)}
    # The log is not vacuous: the page, its assets, the API and the endpoint were all asked for.
    assert {
        "/",
        "/static/app.js",
        "/static/vendor/yasgui.min.js",
        "/static/vendor/yasgui.min.css",
        "/api/queries",
        "/api/prefixes",
        "/api/grid",
        "/api/cell",
        "/api/findings",
        "/sparql",
    } <= paths
    assert foreign(urls, server.origin) == []
    # Nothing tried either: a blocked attempt would show as a console error (CSP).
    assert console_errors(driver) == []
    # And the page keeps nothing in localStorage across visits.
    assert driver.execute_script("return window.localStorage.length") == 0


def test_page_assets_name_no_other_host() -> None:
    """The page's own files reference no URL outside the server (the bundle is checked live)."""
    for name in ("index.html", "app.js", "style.css"):
        text = (WEB / name).read_text(encoding="utf-8")
        assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), name
        assert "innerHTML" not in text, name


def test_viewport_is_1280_by_800(driver: Any, server: Server) -> None:
    open_page(driver, server)
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [
        WIDTH,
        HEIGHT,
    ]
