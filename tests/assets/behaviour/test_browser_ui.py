"""The web UI in a real browser: `make dev`'s server (python -m engine_assets.dev) shows every segment's group, a
validation's checks and picture, and the realism report opens with its pictures and corridor table; then the server
and the browser stop with every process they started.

Headless Chromium and its driver come from Debian's packages (chromium, chromium-driver) at fixed paths, so nothing
is downloaded at test time. Without them the test skips, except under CI (env CI set), where it fails.
"""

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psutil
import pytest
import servers
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.selenium_manager import SeleniumManager
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from worlds import QUIET

from engine_assets.definitions import ASSET_CHECKS, ASSETS
from engine_assets.run.layers import load_layers
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
MISSING = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
NO_BROWSER = f"{' and '.join(MISSING)} missing: apt-get install chromium chromium-driver (Debian packages)"
# Closed network, running as root: no sandbox, nothing fetched in the background, a profile of its own.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
         "--window-size=1600,1000")
# Generous: the UI loads its scripts, then asks the server for the asset graph, on 2 busy cores.
WAIT = 60
BROWSER_STOP = 30
VALIDATION = "reference/reference_validation"
REPORT, SCENARIO = "report/realism", "baseline"

# A laptop without Chromium skips; CI must not pass by skipping.
pytestmark = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"), reason=NO_BROWSER)


def _materialise(root: Path, home: Path, asset: str, partition: str | None = None) -> dict:
    """Materialise `asset` (and its checks) of the world at `root`, recorded in the instance at `home` that the UI
    will read; returns the asset's materialisation metadata."""
    engine = EngineResource(data_root=str(root))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dg.materialize([*ASSETS, *ASSET_CHECKS], selection=dg.AssetSelection.assets(asset.split("/")),
                                resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                                run_config=QUIET, partition_key=partition, instance=instance, raise_on_error=False)
    errors = [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    assert result.success, errors
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == asset]
    return event.materialization.metadata


def _check_names(asset: str) -> list[str]:
    return sorted(key.name for c in ASSET_CHECKS for key in c.check_keys if key.asset_key.to_user_string() == asset)


def _by_profile(profile: Path) -> list[psutil.Process]:
    """Processes naming the profile directory: Chromium's crash handlers, which leave the process tree at once,
    keep their database under XDG_CONFIG_HOME, pointed there."""
    return [p for p in psutil.process_iter(["cmdline"]) if str(profile) in " ".join(p.info["cmdline"] or ())]


def _browser_processes(driver: WebDriver, profile: Path) -> list[psutil.Process]:
    """chromedriver, the Chromium it started and that Chromium's crash handlers."""
    root = psutil.Process(driver.service.process.pid)
    found = {p.pid: p for p in (root, *root.children(recursive=True), *_by_profile(profile))}
    return list(found.values())


@contextmanager
def _chromium(profile: Path, log: Path) -> Iterator[WebDriver]:
    """Headless Chromium driven through the packaged chromedriver, both named by path so Selenium Manager (which
    would look for, and download, a browser and driver) never runs. On the way out nothing of it is left."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile / 'user-data'}"):
        options.add_argument(flag)
    env = {**os.environ, "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")}
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER), log_output=str(log), env=env))
    processes = _browser_processes(driver, profile)
    try:
        yield driver
    finally:
        # After a failure: quit if the test has not, then kill whatever would not go.
        if driver.service.process.poll() is None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001 - cleaning up; the test's own error is the one to report
                pass
        for proc in servers.alive([*processes, *_by_profile(profile)]):
            proc.kill()


@contextmanager
def _evidence(driver: WebDriver, out: Path, step: str) -> Iterator[None]:
    """On failure of `step`, keep a screenshot and the page source, named in the assertion message."""
    try:
        yield
    except (AssertionError, WebDriverException) as error:
        shot, source = out / f"{step}.png", out / f"{step}.html"
        try:
            driver.save_screenshot(str(shot))
            source.write_text(driver.page_source)
        except WebDriverException as lost:  # the browser itself is gone: say so instead
            shot = source = f"not saved ({lost.msg})"
        raise AssertionError(f"{step} failed: {error}\nscreenshot: {shot}\npage source: {source}") from error


def _wait(driver: WebDriver, what: str | Callable[[], str], found: Callable[[WebDriver], object]) -> object:
    """found(driver) once it is truthy. React re-renders, so an element may go stale between finding and reading;
    `what` says what was awaited, or is called on timeout to say what was seen."""
    try:
        return WebDriverWait(driver, WAIT, poll_frequency=0.5,
                             ignored_exceptions=(StaleElementReferenceException,)).until(found)
    except TimeoutException:
        raise AssertionError(f"waited {WAIT} s for {what() if callable(what) else what}") from None


def _titles(driver: WebDriver, xpath: str) -> set[str]:
    # The UI cuts long names in the middle ("active_countrie…populated_cells"); the full name is the title.
    return {e.get_attribute("title") for e in driver.find_elements(By.XPATH, xpath)}


def _see_groups(driver: WebDriver, url: str, groups: set[str]) -> None:
    """The lineage view's sidebar lists every asset group."""
    driver.get(f"{url}/asset-groups")
    listed = "//*[@aria-label='asset_group']/following-sibling::*[@title]"
    seen: set[str] = set()

    def all_listed(d):
        seen.update(_titles(d, listed))
        return groups <= seen
    _wait(driver, lambda: f"groups {sorted(groups)} in the sidebar; missing {sorted(groups - seen)}", all_listed)


def _see_checks(driver: WebDriver, url: str, asset: str, checks: list[str]) -> None:
    """The asset's Checks tab lists each of its checks by name."""
    driver.get(f"{url}/assets/{asset}?view=checks")
    seen: set[str] = set()

    def all_listed(d):
        seen.update(_titles(d, "//*[@title]"))
        return set(checks) <= seen
    _wait(driver, lambda: f"checks {checks} on the Checks tab; missing {sorted(set(checks) - seen)}", all_listed)


def _natural_width(driver: WebDriver, img) -> int:
    """The decoded picture's width in pixels; 0 while loading or when it could not be decoded."""
    return driver.execute_script("return arguments[0].complete ? arguments[0].naturalWidth : 0;", img)


def _see_picture(driver: WebDriver, url: str, asset: str, key: str) -> None:
    """The metadata row `key` of the latest materialisation opens its Markdown, a picture that renders."""
    driver.get(f"{url}/assets/{asset}")
    row = f"//tr[td[normalize-space()='{key}']]"
    show = _wait(driver, f"the metadata row {key} and its [Show Markdown]", lambda d: d.find_element(
        By.XPATH, f"{row}//a[contains(normalize-space(), 'Show Markdown')]"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", show)
    show.click()
    img = _wait(driver, "the picture in the Markdown dialog",
                lambda d: d.find_element(By.XPATH, "//*[@role='dialog']//img"))
    _wait(driver, "the picture to render (naturalWidth > 0)", lambda d: _natural_width(d, img) > 0)


def _open_report_page(driver: WebDriver, page_path: Path) -> None:
    """The self-contained report page opens from disk: every picture renders and the corridor table has verdicts."""
    driver.get(page_path.resolve().as_uri())
    _wait(driver, "the page to load", lambda d: d.execute_script("return document.readyState") == "complete")
    imgs = driver.find_elements(By.TAG_NAME, "img")
    assert imgs, "the page has no pictures"
    widths = {img.get_attribute("alt") or str(i): _natural_width(driver, img) for i, img in enumerate(imgs)}
    assert all(widths.values()), f"pictures that do not render: {[alt for alt, w in widths.items() if not w]}"
    verdicts = driver.find_elements(By.XPATH, "//table//td[normalize-space()='PASS' or normalize-space()='FAIL']")
    assert verdicts, "no corridor table (a table with PASS/FAIL cells)"


def _stop_server(server: servers.DevServer) -> None:
    tree = server.tree()
    server.proc.send_signal(signal.SIGTERM)
    survivors = servers.wait_gone(tree)
    assert not survivors, (f"still running {servers.STOP_TIMEOUT} s after SIGTERM: {survivors}\n"
                           f"{servers.tail(server.log)}")


def _quit_browser(driver: WebDriver, profile: Path) -> None:
    processes = _browser_processes(driver, profile)
    driver.quit()
    survivors = servers.wait_gone([*processes, *_by_profile(profile)], BROWSER_STOP)
    assert not survivors, f"browser processes still running {BROWSER_STOP} s after quit: {survivors}"


def test_web_ui_in_headless_chromium(flows_world, tmp_path, monkeypatch):
    assert not MISSING, NO_BROWSER
    # Nothing may fetch a browser or driver: Selenium Manager must not run (and would not report usage if it did).
    monkeypatch.setenv("SE_AVOID_STATS", "true")
    monkeypatch.setattr(SeleniumManager, "binary_paths",
                        lambda *_: pytest.fail("Selenium Manager was asked for a browser or driver"))

    home = servers.dagster_home(tmp_path / "home")
    validation = _materialise(flows_world, home, VALIDATION)
    pictures = [key for key in validation if key.startswith("picture/")]
    assert pictures, f"{VALIDATION} has no picture in its metadata: {sorted(validation)}"
    page = Path(_materialise(flows_world, home, REPORT, SCENARIO)["page"].value)
    groups = {group for layer in load_layers() for group in layer.groups}

    profile = tmp_path / "chromium"
    with servers.running(servers.server_env(flows_world, home), tmp_path / "dagster-dev.log") as server, \
            _chromium(profile, tmp_path / "chromedriver.log") as driver:
        with _evidence(driver, tmp_path, "groups"):
            _see_groups(driver, server.url, groups)
        with _evidence(driver, tmp_path, "checks"):
            _see_checks(driver, server.url, VALIDATION, _check_names(VALIDATION))
        with _evidence(driver, tmp_path, "picture"):
            _see_picture(driver, server.url, VALIDATION, pictures[0])
        with _evidence(driver, tmp_path, "report"):
            _open_report_page(driver, page)
        _stop_server(server)
        _quit_browser(driver, profile)
