"""The bad-input contract, case by case, through the real command line.

Every file of ``tests/cases/bad-input/`` (one bad input each, listed with its expected
code, line, column and exit code in ``expected.csv``) is built by ``alignkg build`` in a
subprocess, together with the smallest valid coding (``tests/cases/bad-input-kg/``).
For each case: the exit code is the expected one (2 for bad input, 0 for input accepted
with a warning); a line ``path:line:column: CODE: `` names the problem; no traceback; the
coded files and, when the input is refused, the output folder are byte-identical before
and after; and no network connection is attempted: the subprocess runs with a
``sitecustomize`` that replaces every way to open a connection by one that records the
attempt and fails. Three coding problems (validation violations) are also run through
``alignkg validate``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = Path(__file__).parent / "cases" / "bad-input"
REFERENCE = Path(__file__).parent / "cases" / "bad-input-kg" / "reference.ttl"
with (CASES / "expected.csv").open(encoding="utf-8") as handle:
    EXPECTED = list(csv.DictReader(handle))
ALIGNKG = Path(sys.executable).with_name("alignkg")
#: Coding problems also run through ``alignkg validate`` (one per way a finding is made:
#: a completeness shape, a violation query, the unknown-term query); the others share
#: these paths and run through ``build`` only, to keep the test near a minute.
THROUGH_VALIDATE = {"end-before-start.ttl", "event-before-state-existed.ttl", "unknown-level.ttl"}

SITECUSTOMIZE = '''
"""Installed by tests/test_bad_input.py: no network. Every attempt is recorded and fails."""
import os
import socket

_LOG = os.environ["ALIGNKG_TEST_NETWORK_LOG"]


def _refuse(*args, **kwargs):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"attempt: {args!r}\\n")
    raise OSError("network access is blocked in this test")


socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
with open(_LOG + ".loaded", "w", encoding="utf-8") as marker:
    marker.write("sitecustomize active\\n")
'''


def _digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path) and the SHA-256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _run(work: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    assert ALIGNKG.exists(), f"the console script is not installed next to {sys.executable}"
    return subprocess.run(
        [str(ALIGNKG), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _environment(work: Path, case: dict[str, str]) -> dict[str, str]:
    site = work / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGNKG_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["ALIGNKG_TEST_NETWORK_LOG"] = str(work / "network.log")
    if case["env"]:
        name, _, value = case["env"].partition("=")
        env[name] = value
    return env


def _check(result: subprocess.CompletedProcess[str], case: dict[str, str]) -> None:
    shown = result.stdout + result.stderr
    assert result.returncode == int(case["exit"]), shown
    assert "Traceback" not in shown, shown
    expected = re.compile(
        rf"^{re.escape('kg/' + case['file'])}:{case['line']}:{case['column']}: {case['code']}: ",
        re.MULTILINE,
    )
    assert expected.search(shown), f"no line {expected.pattern!r} in:\n{shown}"


@pytest.mark.parametrize("case", EXPECTED, ids=[c["file"] for c in EXPECTED])
def test_bad_input_meets_the_contract(case: dict[str, str], tmp_path: Path) -> None:
    kg = tmp_path / "kg"
    kg.mkdir()
    shutil.copy(REFERENCE, kg / REFERENCE.name)
    shutil.copy(CASES / case["file"], kg / case["file"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.txt").write_text("what an earlier build left\n", encoding="utf-8")
    env = _environment(tmp_path, case)
    kg_before, out_before = _digest(kg), _digest(out)
    files = ["--kg", f"kg/{REFERENCE.name}", "--kg", f"kg/{case['file']}"]

    result = _run(tmp_path, "build", *files, "--out", "out", "--no-cache", "-q", env=env)
    _check(result, case)
    assert _digest(kg) == kg_before
    if case["exit"] == "2":
        assert _digest(out) == out_before, "a refused build wrote to the output folder"
    else:
        assert (out / "alignkg.nq").exists(), "an accepted build writes its output"

    if case["file"] in THROUGH_VALIDATE:
        paths = [f"kg/{REFERENCE.name}", f"kg/{case['file']}"]
        _check(_run(tmp_path, "validate", *paths, "-q", env=env), case)
        assert _digest(kg) == kg_before

    assert (tmp_path / "network.log.loaded").exists(), "the no-network sitecustomize did not load"
    log = tmp_path / "network.log"
    attempts = log.read_text(encoding="utf-8") if log.exists() else ""
    assert attempts == "", f"network connections attempted:\n{attempts}"


def test_the_catalogue_covers_enough_cases() -> None:
    files = {p.name for p in CASES.iterdir() if p.name != "expected.csv"}
    assert files == {c["file"] for c in EXPECTED}
    assert len(EXPECTED) >= 35
    assert all(c["why"] and c["kind"] for c in EXPECTED)
    assert {c["file"] for c in EXPECTED} >= THROUGH_VALIDATE


def test_the_no_network_guard_catches_a_connection(tmp_path: Path) -> None:
    """The guard itself works: a subprocess that tries to connect is recorded and fails."""
    env = _environment(tmp_path, {"env": ""})
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import urllib.request\n"
            "try:\n urllib.request.urlopen('http://example.invalid/', timeout=5)\n"
            "except OSError as e: print('refused', e)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "refused" in result.stdout, result.stdout + result.stderr
    assert (tmp_path / "network.log").read_text(encoding="utf-8").startswith("attempt:")


@pytest.mark.parametrize("case_file", ["end-before-start.ttl", "missing-dot.ttl"])
@pytest.mark.parametrize("earlier", [False, True], ids=["no-out-folder", "earlier-output"])
def test_a_refused_build_with_the_default_store_leaves_the_output_folder_as_it_was(
    case_file: str, earlier: bool, tmp_path: Path
) -> None:
    """``alignkg build`` keeps its persistent store in OUT/cache by default: a refused
    build removes the store it created, so the output folder is as it was (absent, or
    byte-identical)."""
    kg = tmp_path / "kg"
    kg.mkdir()
    shutil.copy(REFERENCE, kg / REFERENCE.name)
    shutil.copy(CASES / case_file, kg / case_file)
    out = tmp_path / "out"
    if earlier:
        out.mkdir()
        (out / "earlier.txt").write_text("what an earlier build left\n", encoding="utf-8")
    before = _digest(out) if earlier else None
    case = next(c for c in EXPECTED if c["file"] == case_file)
    result = _run(tmp_path, "build", "--kg", "kg", "--out", "out", "-q", env=_environment(tmp_path, case))
    _check(result, case)
    assert "nothing written" in result.stderr or case["code"].startswith("AK1")
    if earlier:
        assert _digest(out) == before
    else:
        assert not out.exists()
