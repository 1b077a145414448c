"""The Dagster UI in a real browser: the webserver on a free loopback port, the global asset
lineage in headless Chromium (Playwright), every stage group with its assets, lineage edges and
asset checks, and a screenshot of the whole graph in `test-artifacts/asset-lineage.png`.

Needs Debian's `chromium` and the `playwright` package (never `playwright install`: the system
browser is used). In CI (CI=true) their absence fails the test; elsewhere it skips.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dagster_project.vocabulary.groups import COHORT_YEAR_GROUPS, DELIVERY_GROUPS

ROOT = Path(__file__).parents[1]
ARTIFACTS = ROOT / "test-artifacts"
STAGE_GROUPS = [*DELIVERY_GROUPS, *COHORT_YEAR_GROUPS]
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# the window is then sized to the graph, so that it is drawn at this zoom (see _fit_whole_graph)
VIEWPORT = {"width": 1600, "height": 1000}
ZOOM = 0.65
# an edge starts or ends this close to the node it belongs to (graph units)
EDGE_SLACK = 30

pytestmark = pytest.mark.slow


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(f"CI needs a browser for the UI test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    found = next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)
    if found is None:
        _unavailable("no Chromium on PATH (apt-get install chromium)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the webserver exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the webserver did not answer within {timeout:.0f} s:\n{log.read_text()}")


@pytest.fixture
def webserver(data_dir):
    """`dagster-webserver -m dagster_project.definitions` with the local instance config in a
    temporary DAGSTER_HOME; stopped with the process group it was started in (its own)."""
    home = data_dir / "dagster_home"
    shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                                     os.environ.get("PYTHONPATH")]))}
    log = data_dir / "webserver.log"
    executable = Path(sys.executable).with_name("dagster-webserver")
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(executable), "-m", "dagster_project.definitions", "-h", "127.0.0.1",
             "-p", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        # the webserver and the code server it spawned, and nothing else
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _expected_lineage():
    """Group of every asset, the assets with checks, and the assets with lineage edges."""
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    groups, linked = {}, set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups[key.to_user_string()] = node.group_name
        if node.parent_keys or node.child_keys:
            linked.add(key.to_user_string())
    checked = {key.asset_key.to_user_string() for key in graph.asset_check_keys}
    return groups, checked, linked


_GRAPH_JS = """() => {
  const svg = document.querySelector('svg[class*=svgContainer]');
  const nodes = {};
  svg.querySelectorAll('foreignObject').forEach(f => {
    const name = f.querySelector('[data-tooltip]');
    if (!name) return;
    const checks = f.querySelector('a[href*="view=checks"]');
    nodes[name.getAttribute('data-tooltip')] = {
      box: ['x', 'y', 'width', 'height'].map(a => +f.getAttribute(a)),
      checks: checks ? checks.getAttribute('href') : null,
    };
  });
  const edges = Array.from(svg.querySelectorAll('path[stroke="var(--color-lineage-edge)"]'))
    .map(p => p.getAttribute('d'));
  return {nodes, edges};
}"""


def _edge_ends(d: str) -> list[tuple[float, float]]:
    """First and last point of an SVG path (`M x,y C … x,y`)."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return [(numbers[0], numbers[1]), (numbers[-2], numbers[-1])]


def _touches(box, point) -> bool:
    x, y, w, h = box
    return (x - EDGE_SLACK <= point[0] <= x + w + EDGE_SLACK
            and y - EDGE_SLACK <= point[1] <= y + h + EDGE_SLACK)


_GEOMETRY_JS = """() => {
  const svg = document.querySelector('svg[class*=svgContainer]');
  const canvas = svg.parentElement.parentElement.getBoundingClientRect();
  return {width: svg.width.baseVal.value, height: svg.height.baseVal.value,
          left: canvas.left, top: canvas.top};
}"""


def _fit_whole_graph(page) -> None:
    """Size the window so that the whole expanded graph fits at a zoom where nodes show their
    names and checks. On load Dagster zooms the graph to the canvas' width; zoomed further out
    than about 0.5 it draws bare boxes, and it never draws nodes off screen."""
    graph = page.evaluate(_GEOMETRY_JS)
    page.set_viewport_size({
        "width": int(graph["left"] + graph["width"] * ZOOM) + 40,
        "height": int(graph["top"] + graph["height"] * ZOOM) + 200,
    })
    page.reload(wait_until="networkidle")
    page.locator('svg foreignObject [data-tooltip="raw"]').first.wait_for()


def test_asset_lineage_in_headless_chromium(chromium_path, webserver):
    from playwright.sync_api import sync_playwright

    groups, checked, linked = _expected_lineage()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            # the community sign-up dialog (shown on loopback, once per browser) stays closed
            page.add_init_script("window.localStorage.setItem('communityNux', '\"1\"')")
            page.goto(f"{webserver}/asset-groups", wait_until="networkidle")
            page.locator('svg foreignObject [data-tooltip="raw"]').first.wait_for(timeout=60_000)
            # groups start collapsed; ⌥E is the graph's own "Expand all groups"
            collapsed = page.evaluate(_GEOMETRY_JS)["height"]
            page.keyboard.press("Alt+e")
            page.wait_for_function(  # laid out again, expanded
                "h => document.querySelector('svg[class*=svgContainer]').height.baseVal.value > h",
                arg=collapsed,
            )
            _fit_whole_graph(page)
            # asset nodes are drawn beside the group boxes, with their details
            page.wait_for_function(
                "n => document.querySelectorAll('svg foreignObject [data-tooltip]').length > n",
                arg=len(set(groups.values())),
            )
            page.wait_for_function(  # and the checks' status, fetched after the nodes
                "n => document.querySelectorAll('svg foreignObject a[href*=\"view=checks\"]')"
                ".length >= n",
                arg=len(checked),
            )
            page.wait_for_function(  # every node's status row filled in
                "() => !document.querySelector('svg[class*=svgContainer]')"
                ".textContent.includes('Loading')",
                timeout=60_000,
            )
            page.mouse.move(0, 0)  # no hover highlight in the screenshot
            graph = page.evaluate(_GRAPH_JS)
            ARTIFACTS.mkdir(exist_ok=True)
            canvas = page.locator("svg[class*=svgContainer]").locator("xpath=../..")
            canvas.screenshot(path=ARTIFACTS / "asset-lineage.png")
        finally:
            browser.close()

    nodes, ends = graph["nodes"], [p for d in graph["edges"] for p in _edge_ends(d)]
    assert set(STAGE_GROUPS) <= set(nodes), "a stage group is missing from the lineage"
    for group in STAGE_GROUPS:
        members = sorted(a for a, g in groups.items() if g == group)
        assert members, group
        for asset in members:
            assert asset in nodes, f"{asset} ({group}) is not drawn"
            if asset in linked:
                assert any(_touches(nodes[asset]["box"], p) for p in ends), f"{asset}: no edge"
            if asset in checked:
                assert nodes[asset]["checks"] == f"/assets/{asset}?view=checks", asset
    assert checked and len(graph["edges"]) >= len(linked) // 2
    assert (ARTIFACTS / "asset-lineage.png").stat().st_size > 50_000
