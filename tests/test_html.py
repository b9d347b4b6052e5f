"""The HTML graph in real headless Chromium, opened from disk with the network blocked.

Two real builds: the bundled demo listing (no dates, no links) and 30 arXiv records plus three
hostile ones (markup in titles, authors, abstracts and links), so links, dates and escaping are
tried on real pages.
"""

from __future__ import annotations

import json

import pytest

from kg.graph import concept_node
from tests.conftest import ARXIV_5K

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DIM = "#e4e4e4"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


class Opened:
    def __init__(self, page):
        self.page = page
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        self.dialogs: list[str] = []

    def js(self, expr, arg=None):
        return self.page.evaluate(expr, arg)


def open_page(browser, path) -> Opened:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    o = Opened(page)
    page.on("requestfailed", lambda r: o.failed.append(r.url))
    page.on("console", lambda m: o.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: o.errors.append(str(e)))

    def on_dialog(d):
        o.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)

    def route(r):
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            o.external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_function("window.kgTimings && window.kgTimings.ready && window.kgTimings.drawn")
    return o


def page_data(path) -> dict:
    """The data embedded in the page, read back from the file as the page's script reads it."""
    html = path.read_text(encoding="utf-8")
    marker = '<script id="kg-data" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])


def hidden_ids(o: Opened) -> set[str]:
    """Nodes vis-network itself holds as hidden (not the page's own bookkeeping)."""
    return set(
        o.js(
            "Object.values(window.kgNetwork.body.nodes)"
            ".filter(n => n.options.hidden).map(n => n.id)"
        )
    )


# --- the demo build ---------------------------------------------------------------------------


def test_graph_draws_offline_with_legend_and_no_error(browser, demo_build):
    built, out = demo_build
    o = open_page(browser, out / "graph.html")
    data = page_data(out / "graph.html")
    drawn = o.js("window.kgNetwork.body.data.nodes.length")
    assert drawn == len(data["nodes"]) == built.graph.number_of_nodes()  # the demo is not cut
    assert o.js("Object.keys(window.kgNetwork.getPositions()).length") == drawn
    assert o.js("window.kgNetwork.body.data.edges.length") == built.graph.number_of_edges()
    # the positions are the ones computed in Python: physics never moved a node
    first = data["nodes"][0]
    assert o.js("(id) => window.kgNetwork.getPosition(id)", first["id"]) == {
        "x": pytest.approx(first["x"], abs=1),
        "y": pytest.approx(first["y"], abs=1),
    }
    legend = o.page.locator("#legend .cluster-label").all_text_contents()
    assert legend == [label for _, label in sorted(built.analysis.cluster_labels.items())]
    assert not o.page.locator("#date-filter").is_visible()  # the demo has no dates
    assert "most central part" not in o.page.locator("#view-note").inner_text()
    # the most central concepts are labelled at the default zoom, the others only when zoomed
    scale = o.js("window.kgNetwork.getScale()")
    top = max((n for n in data["nodes"] if n["kind"] == "concept"), key=lambda n: n["size"])
    font = o.js("(id) => window.kgNetwork.body.nodes[id].options.font.size", top["id"])
    assert font * scale >= 12
    assert not o.failed and not o.external and not o.errors and not o.dialogs
    o.page.close()


def test_search_by_partial_label_focuses_the_node(browser, demo_build):
    built, out = demo_build
    o = open_page(browser, out / "graph.html")
    # a piece of one paper's title that no other node's label or title contains
    titles = {f"paper:{p.key}": p.title for p in built.papers}
    texts = [d["label"].lower() for _, d in built.graph.nodes(data=True)]
    paper, query = next(
        (node, " ".join(title.split()[1:4]).lower())
        for node, title in sorted(titles.items())
        if len(title.split()) > 4
        and sum(" ".join(title.split()[1:4]).lower() in t for t in texts) == 1
    )
    o.page.fill("#search", query)
    first_hit = o.page.locator("#results button").first.inner_text()
    assert first_hit == titles[paper]
    o.page.press("#search", "Enter")
    assert o.js("window.kgNetwork.getSelectedNodes()") == [paper]
    assert o.page.locator("#details h2").inner_text() == titles[paper]
    # focused: the node is zoomed in on and sits inside the visible part of the canvas
    assert o.js("window.kgNetwork.getScale()") > o.js("window.kg.fitScale") * 2
    dom = o.js("(id) => window.kgNetwork.canvasToDOM(window.kgNetwork.getPosition(id))", paper)
    width = o.js("document.getElementById('graph').clientWidth")
    height = o.js("document.getElementById('graph').clientHeight")
    assert 0.2 * width < dom["x"] < 0.6 * width and 0.4 * height < dom["y"] < 0.6 * height
    assert not o.errors
    o.page.close()


def test_search_names_a_concept_by_acronym_or_spelling_before_titles(browser, demo_build):
    """An exact acronym (or another spelling) finds its concept first, before the labels and
    titles that merely start with it; case and hyphens do not matter."""
    built, out = demo_build
    o = open_page(browser, out / "graph.html")
    named = 0
    for concept in built.linked.concepts:
        node = concept_node(concept.key)
        if not built.graph.has_node(node):
            continue
        queries = [concept.acronym] if concept.acronym else []
        if "-" in concept.pref_label:  # "memory-efficient zeroth-order" as "Memory efficient…"
            queries.append(concept.pref_label.replace("-", " ").capitalize())
        for query in queries:
            assert o.js("(q) => window.kg.search(q)[0]", query) == node, query
            named += 1
    assert named >= 10
    # "LLM": its concept first, not "LLM fine-tuning", whose label starts with it
    assert o.js("(q) => window.kg.search(q)[0]", "LLM") == concept_node("large language model")
    assert not o.errors
    o.page.close()


def test_filters_hide_nodes(browser, demo_build):
    built, out = demo_build
    o = open_page(browser, out / "graph.html")
    data = page_data(out / "graph.html")
    assert hidden_ids(o) == set()
    cluster0 = {n["id"] for n in data["nodes"] if n["cluster"] == 0}
    o.page.uncheck("#cluster-0")
    assert hidden_ids(o) == cluster0
    o.page.check("#cluster-0")
    o.page.uncheck("#show-papers")
    assert hidden_ids(o) == {n["id"] for n in data["nodes"] if n["kind"] == "paper"}
    o.page.check("#show-papers")
    o.page.fill("#min-degree", "20")
    assert hidden_ids(o) == {n for n in built.graph if built.graph.degree(n) < 20}
    assert (
        o.page.locator("#count")
        .inner_text()
        .startswith(f"{built.graph.number_of_nodes() - len(hidden_ids(o))} of ")
    )
    assert not o.errors
    o.page.close()


def test_click_highlights_the_neighbourhood(browser, demo_build):
    built, out = demo_build
    o = open_page(browser, out / "graph.html")
    data = page_data(out / "graph.html")
    positions = o.js("window.kgNetwork.getPositions()")
    size = {n["id"]: n["size"] for n in data["nodes"]}

    def clear(node):  # no other node drawn over it: a click there can only hit this node
        x, y = positions[node["id"]]["x"], positions[node["id"]]["y"]
        return all(
            (x - p["x"]) ** 2 + (y - p["y"]) ** 2 > (node["size"] + size[k]) ** 2
            for k, p in positions.items()
            if k != node["id"]
        )

    concept = next(
        n
        for n in sorted(
            (n for n in data["nodes"] if n["kind"] == "concept"),
            key=lambda n: (-n["size"], n["id"]),
        )
        if clear(n)
    )
    dom = o.js(
        "(id) => window.kgNetwork.canvasToDOM(window.kgNetwork.getPosition(id))", concept["id"]
    )
    box = o.page.locator("#graph").bounding_box()
    o.page.mouse.click(box["x"] + dom["x"], box["y"] + dom["y"])
    assert o.js("window.kgNetwork.getSelectedNodes()") == [concept["id"]]
    assert o.page.locator("#details h2").inner_text() == concept["label"]
    neighbours = set(built.graph[concept["id"]]) | {concept["id"]}
    borders = o.js(
        "Object.fromEntries(window.kgNetwork.body.data.nodes.get()"
        ".map(n => [n.id, n.color.border]))"
    )
    assert {n for n, colour in borders.items() if colour != DIM} == neighbours
    # the details list the concept's papers with their evidence sentences
    papers = o.page.locator("#details ul.papers > li")
    assert papers.count() == sum(1 for n in neighbours if n.startswith("paper:"))
    assert o.page.locator("#details ul.papers .evidence").count() >= 1
    o.page.mouse.click(box["x"] + 5, box["y"] + 5)  # empty canvas: back to normal
    assert o.page.locator("#details").is_hidden()
    assert not o.errors
    o.page.close()


# --- arXiv records with hostile ones ----------------------------------------------------------

PWNED = "window.__pwned"
HOSTILE_TITLE = '<script>window.__pwned = "title"</script>Graph neural networks for molecules'
HOSTILE_IMG = "<img src=x onerror=\"window.__pwned = 'img'\"> Diffusion & </script> transformers"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, embedder):
    """30 real arXiv records and 3 hostile ones, built for real: (Build, folder)."""
    from kg.build import make_graph, output_folder, write_exports

    with ARXIV_5K.open(encoding="utf-8") as src:
        records = [json.loads(next(src)) for _ in range(33)]
    real, donors = records[:30], records[30:]
    bad = [
        {
            "id": "2401.00001",
            "title": HOSTILE_TITLE,
            "listing_date": "2024-01-05",
            "authors": ["<img src=x onerror=\"window.__pwned = 'author'\">", "Eve <b>Bold</b>"],
            "abs": "javascript:window.__pwned = 'link'",
            "summary": "We study <img src=x onerror=\"window.__pwned = 'abstract'\"> graph neural "
            "networks for molecular property prediction. " + donors[0]["summary"],
        },
        {
            "id": "2402.00002",
            "title": HOSTILE_IMG,
            "listing_date": "2024-02-10",
            "authors": ["Mallory"],
            "abs": "https://arxiv.org/abs/2402.00002",
            "summary": "</script><script>window.__pwned = 'script'</script> Diffusion models "
            "generate images. " + donors[1]["summary"],
        },
        {
            "id": "2402.00003",
            "title": "An ordinary title",
            "listing_date": "2024-02-11",
            "authors": ["Trent"],
            "abs": 'https://arxiv.org/abs/2402.00003" onclick="alert(1)',
            "summary": "<svg onload=alert(1)> " + donors[2]["summary"],
        },
    ]
    path = tmp_path_factory.mktemp("hostile") / "hostile.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in real + bad), encoding="utf-8")
    built = make_graph([path], embedder=embedder, progress=False)
    out = tmp_path_factory.mktemp("hostile-out") / "out"
    with output_folder(out) as folder:
        write_exports(built, folder, exports=("html",))
    return built, out


def test_hostile_input_stays_text_and_runs_nothing(browser, hostile):
    built, out = hostile
    html = (out / "graph.html").read_text(encoding="utf-8")
    assert "<script>window.__pwned" not in html and "<img src=x" not in html
    o = open_page(browser, out / "graph.html")
    assert o.js(f"typeof {PWNED}") == "undefined"
    bad = {f"paper:{p.key}": p for p in built.papers if p.record_id.startswith("240")}
    assert len(bad) == 3
    for node, paper in sorted(bad.items()):
        assert o.js("(id) => window.kg.focusNode(id)", node)
        assert o.page.locator("#details h2").inner_text() == paper.title
        authors = o.page.locator("#details .authors")
        assert authors.inner_text() == ", ".join(paper.authors)
        o.page.fill("#search", paper.title[:12])  # the results list shows the titles too
        o.page.press("#search", "Enter")
    assert "<script>" in bad["paper:2401.00001"].title  # the markup reached the page as text
    o.page.wait_for_timeout(200)  # give an injected onerror handler time to fire
    assert o.js(f"typeof {PWNED}") == "undefined"
    assert o.js("document.querySelectorAll('img, svg, iframe, object, embed').length") == 0
    assert o.js("document.scripts.length") == 3  # vis-network, the data, the page's own
    hrefs = o.js("Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))")
    assert all(h.startswith("https://") and '"' not in h for h in hrefs)
    assert not o.dialogs and not o.errors and not o.external
    o.page.close()


def test_paper_details_link_to_arxiv_and_dates_filter(browser, hostile):
    built, out = hostile
    o = open_page(browser, out / "graph.html")
    paper = next(p for p in built.papers if p.arxiv_id == "2503.11794")
    o.page.fill("#search", "semantic-clipping: efficient")
    o.page.press("#search", "Enter")
    assert o.js("window.kgNetwork.getSelectedNodes()") == [f"paper:{paper.key}"]
    link = o.page.locator("#details a#paper-link")
    assert link.get_attribute("href") == "https://arxiv.org/abs/2503.11794"
    assert link.inner_text() == "Open on arXiv ↗"
    assert o.page.locator("#details ul.concepts > li").count() >= 1
    # the hostile paper's javascript: link became its arXiv page
    o.js("(id) => window.kg.focusNode(id)", "paper:2401.00001")
    assert link.get_attribute("href") == "https://arxiv.org/abs/2401.00001"
    # dates: 2024 (hostile records) and 2025 (the real ones); narrowing hides the 2024 papers
    assert o.page.locator("#date-filter").is_visible()
    assert o.page.locator("#date-from").input_value() == "2024-01"
    o.page.fill("#date-from", "2025-01")
    hidden = hidden_ids(o)
    dated = {f"paper:{p.key}": p.date for p in built.papers}
    assert {n for n in hidden if n.startswith("paper:")} == {
        n for n, d in dated.items() if d < "2025"
    }
    assert not o.errors
    o.page.close()


def test_large_build_is_cut_to_its_central_part(browser, hostile, tmp_path):
    from kg.export.html import render_html, view_data

    built, _ = hostile
    data = view_data(built, max_nodes=60)
    assert len(data["nodes"]) <= 60 < built.graph.number_of_nodes()
    kinds = {n["kind"] for n in data["nodes"]}
    assert kinds == {"concept", "paper"}
    page = tmp_path / "cut.html"
    page.write_text(render_html(data), encoding="utf-8")
    o = open_page(browser, page)
    assert o.js("window.kgNetwork.body.data.nodes.length") == len(data["nodes"])
    note = o.page.locator("#view-note").inner_text()
    assert f"{len(data['nodes'])} of {built.graph.number_of_nodes()} nodes" in note
    assert "html_max_nodes = 0" in note
    assert o.page.locator("#legend li").count() == len(data["clusters"])
    assert not o.errors
    o.page.close()


def test_html_max_nodes_is_validated():
    from kg.config import Config
    from kg.errors import ConfigError

    assert Config(html_max_nodes=0).html_max_nodes == 0
    with pytest.raises(ConfigError, match="html_max_nodes must be 0"):
        Config(html_max_nodes=10)
