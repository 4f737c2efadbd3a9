"""A smoke test of the load test (``bench/load.py``): one client for one second on the
example graph. The load test itself is run by hand (``python bench/load.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "cases" / "example" / "mini.ttl"


def test_the_load_script_runs_and_writes_its_table(tmp_path: Path) -> None:
    results = tmp_path / "load.md"
    done = subprocess.run(
        [
            sys.executable, str(ROOT / "bench" / "load.py"), "--kg", str(MINI),
            "--levels", "1", "--seconds", "1", "--timeout", "1", "--expensive-every", "0.5",
            "--no-hey", "--results", str(results),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {
        cells[2]: cells
        for line in results.read_text(encoding="utf-8").splitlines()
        if line.startswith("| 1 |")
        for cells in [[c.strip() for c in line.split("|")]]
    }
    assert set(rows) == {"lookup", "stage", "grid", "timeout", "all"}
    for kind in ("lookup", "stage", "grid"):
        assert int(rows[kind][3]) > 0 and rows[kind][4] == "0", rows[kind]
    assert rows["timeout"][3] == "1" and rows["timeout"][11] == "504: 1", rows["timeout"]
