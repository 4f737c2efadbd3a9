"""Helpers for the end-to-end tests: `alignkg serve` as a subprocess and headless Chromium.

Chromium and its driver are Debian's (/usr/bin/chromium, /usr/bin/chromedriver); selenium
is given the driver's path and told to stay offline, so selenium-manager downloads nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
INSTALL_HINT = (
    "the browser tests need Debian's Chromium and its driver: "
    "`sudo apt-get install chromium chromium-driver` (CI installs them)"
)
WIDTH, HEIGHT = 1280, 800
_SERVING = re.compile(r"serving\s+(https?://[^\s/]+)/?")
# Schemes that never reach the network: inline data and object URLs of the page itself.
LOCAL_SCHEMES = {"data", "blob"}
ALIGNKG = (sys.executable, "-m", "alignkg")


def require_chromium() -> None:
    """Fail (never skip) when Chromium or chromedriver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found; {INSTALL_HINT}", pytrace=False)


@dataclass
class Server:
    origin: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return self.origin + "/"


@contextmanager
def serve(kg: Path, store: Path, log: Path, *, startup: float = 180.0) -> Iterator[Server]:
    """Run ``alignkg serve --kg KG --port 0 --store STORE``; yield its origin; stop it."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*ALIGNKG, "serve", "--kg", str(kg), "--port", "0", "--store", str(store)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        origin = _wait_for_origin(process, log, startup)
        yield Server(origin=origin, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for_origin(process: subprocess.Popen[bytes], log: Path, startup: float) -> str:
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        for line in text.splitlines():
            match = _SERVING.search(line)
            if match and line.startswith("alignkg:"):
                return match.group(1)
        if process.poll() is not None:
            pytest.fail(f"alignkg serve exited with {process.returncode}:\n{text}", pytrace=False)
        time.sleep(0.1)
    pytest.fail(f"alignkg serve printed no URL:\n{log.read_text()}", pytrace=False)


def chromium(profile: Path, downloads: Path) -> Any:
    """A headless Chromium at 1280×800 with the network and console logs switched on."""
    require_chromium()
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        "--safebrowsing-disable-auto-update",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    return driver


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the last call (drains the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message.get("method") == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def foreign(urls: list[str], origin: str) -> list[str]:
    """The URLs that are neither on ``origin`` nor local to the page (data:, blob: of origin)."""
    return [url for url in urls if not _local(url, origin)]


def _local(url: str, origin: str) -> bool:
    scheme = urlsplit(url).scheme
    if scheme == "blob":  # blob:http://127.0.0.1:PORT/uuid, made by the page itself
        return url[len("blob:") :].startswith(origin + "/")
    if scheme in LOCAL_SCHEMES:
        return True
    return url == origin or url.startswith(origin + "/")


def console_errors(driver: Any) -> list[str]:
    """Console messages at error level since the last call (drains the browser log)."""
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def full_page_png(driver: Any, path: Path) -> Path:
    """A screenshot of the whole page (beyond the 1280×800 viewport) as PNG."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {
                "x": 0,
                "y": 0,
                "width": max(WIDTH, int(size["width"])),
                "height": int(size["height"]),
                "scale": 1,
            },
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
