"""How big is graph.html and how soon can one use it? A benchmark (prints numbers), not a test.

    python benchmarks/bench_html.py examples/daily-papers-order.txt
    python benchmarks/bench_html.py ../shared/data/arxiv-cs-lg-5k.jsonl --limit 2000 \\
        --cache /tmp/b2000.pkl          # the build is pickled: a second run skips extraction
    python benchmarks/bench_html.py examples/daily-papers-order.txt --screenshot docs/graph.png
    python benchmarks/bench_html.py /tmp/out5k/graph.html --page --screenshot /tmp/5k.png

It builds the input in memory (or loads ``--cache``), then reports:

- the Python side: the shared layout (``kg.export.layout``), the view data and the render, and
  with ``--spring`` networkx's ``spring_layout`` of the whole graph for comparison (the layout the
  page used before: quadratic, so slow on big builds);
- the page: its size, and in headless Chromium (Debian's, from disk, network blocked) the time
  from navigation until vis-network has drawn the graph and until the page's handlers are set
  (``performance.now()``, the median of ``--runs`` loads), then the time a search takes to
  focus a node and a cluster filter to hide nodes, each until the next frame is painted.
"""

from __future__ import annotations

import argparse
import gzip
import os
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def first_records(path: Path, limit: int, folder: Path) -> Path:
    """The first ``limit`` lines of a JSONL file (gzip or not) as a new file."""
    opener = gzip.open if path.suffix == ".gz" else open
    out = folder / f"{path.name.split('.')[0]}-{limit}.jsonl"
    with opener(path, "rt", encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        for i, line in enumerate(src):
            if i >= limit:
                break
            dst.write(line)
    return out


def load_build(args: argparse.Namespace):
    from kg.build import make_graph
    from kg.config import Config

    if args.cache and args.cache.exists():
        return pickle.loads(args.cache.read_bytes()), None
    folder = Path(tempfile.mkdtemp(prefix="bench-html-"))
    inp = first_records(args.input, args.limit, folder) if args.limit else args.input
    t = time.perf_counter()
    built = make_graph([inp], config=Config(fast=args.fast), progress=False)
    took = time.perf_counter() - t
    if args.cache:
        args.cache.write_bytes(pickle.dumps(built))
    return built, took


def measure_page(path: Path, runs: int, screenshot: Path | None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    drawn, ready, focus, filt = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for run in range(runs):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.route(
                "**/*",
                lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort(),
            )
            page.goto(path.as_uri(), timeout=120_000)
            page.wait_for_function(
                "window.kgTimings && window.kgTimings.ready && window.kgTimings.drawn",
                timeout=120_000,
            )
            t = page.evaluate("window.kgTimings")
            drawn_nodes = page.evaluate(
                "[window.kgNetwork.body.data.nodes.length, window.kgNetwork.body.data.edges.length]"
            )
            drawn.append(t["drawn"])
            ready.append(max(t["ready"], t["drawn"]))  # handlers set and graph drawn
            if run == 0 and screenshot is not None:  # the map, its most central concept clicked
                dom = page.evaluate("""() => {
                    const top = window.kgNetwork.body.data.nodes.get()
                        .filter((n) => n.shape === "dot").sort((a, b) => b.size - a.size)[0];
                    return window.kgNetwork.canvasToDOM(window.kgNetwork.getPosition(top.id));
                }""")
                box = page.locator("#graph").bounding_box()
                page.mouse.click(box["x"] + dom["x"], box["y"] + dom["y"])
                page.mouse.move(box["x"] + 5, box["y"] + box["height"] - 5)  # no tooltip
                page.wait_for_timeout(300)
                page.screenshot(path=str(screenshot))
                page.mouse.click(box["x"] + 5, box["y"] + 5)
            # a search for the most central concept, until the focused view is painted
            focus.append(
                page.evaluate("""() => new Promise((done) => {
                const top = window.kgNetwork.body.data.nodes.get()
                    .filter((n) => n.shape === "dot").sort((a, b) => b.size - a.size)[0];
                const box = document.getElementById("search");
                const t0 = performance.now();
                box.value = top.label.slice(0, 6);
                box.dispatchEvent(new Event("input"));
                box.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"}));
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done(performance.now() - t0)));
            })""")
            )
            filt.append(
                page.evaluate("""() => new Promise((done) => {
                const box = document.getElementById("cluster-0");
                const t0 = performance.now();
                box.click();
                requestAnimationFrame(() => requestAnimationFrame(
                    () => done(performance.now() - t0)));
            })""")
            )
            if errors:
                raise SystemExit(f"page errors: {errors}")
            page.close()
        browser.close()
    return {
        "nodes": drawn_nodes[0],
        "edges": drawn_nodes[1],
        "drawn_ms": statistics.median(drawn),
        "ready_ms": statistics.median(ready),
        "search_focus_ms": statistics.median(focus),
        "filter_ms": statistics.median(filt),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "input", type=Path, help="a listing (the build is made in memory), or with --page a page"
    )
    ap.add_argument(
        "--page",
        action="store_true",
        help="INPUT is a graph.html a build wrote (e.g. out/graph.html): measure it as it is",
    )
    ap.add_argument("--limit", type=int, help="only the first N records of a JSONL input")
    ap.add_argument("--cache", type=Path, help="pickle of the build: written once, then reused")
    ap.add_argument("--fast", action="store_true", help="build in fast mode (kg build --fast)")
    ap.add_argument("--max-nodes", type=int, help="html_max_nodes (default: the config's)")
    ap.add_argument("--runs", type=int, default=3, help="page loads to take the median of")
    ap.add_argument(
        "--spring",
        action="store_true",
        help="also time networkx spring_layout of the whole graph (the old layout)",
    )
    ap.add_argument(
        "--screenshot", type=Path, help="save a PNG of the page, its most central concept clicked"
    )
    args = ap.parse_args()
    if args.page:
        print(f"graph.html: {args.input.stat().st_size / 1e6:.2f} MB")
        report(measure_page(args.input.resolve(), args.runs, args.screenshot), args)
        return

    import networkx as nx

    from kg.export import layout
    from kg.export.html import render_html, view_data

    built, build_s = load_build(args)
    g = built.graph
    print(
        f"graph: {g.number_of_nodes()} nodes ({len(built.papers)} papers), "
        f"{g.number_of_edges()} edges, {len(built.analysis.cluster_labels)} clusters"
        + (f"; built in {build_s:.1f} s" if build_s is not None else " (from cache)")
    )
    t = time.perf_counter()
    layout.node_looks(built)
    print(f"layout (kg.export.layout, whole graph): {time.perf_counter() - t:.2f} s")
    if args.spring:
        t = time.perf_counter()
        nx.spring_layout(
            g,
            seed=built.config.seed,
            weight="weight",
            k=2 / max(1, g.number_of_nodes()) ** 0.5,
            iterations=60,
        )
        print(
            f"spring_layout (networkx, whole graph, 60 iterations): {time.perf_counter() - t:.2f} s"
        )
    t = time.perf_counter()
    data = view_data(built, max_nodes=args.max_nodes)
    view_s = time.perf_counter() - t
    t = time.perf_counter()
    html = render_html(data)
    render_s = time.perf_counter() - t
    folder = Path(tempfile.mkdtemp(prefix="bench-html-page-"))
    page = folder / "graph.html"
    page.write_text(html, encoding="utf-8")
    v = data["view"]
    print(
        f"view: {v['nodes']} of {v['total']['nodes']} nodes, {v['edges']} of "
        f"{v['total']['edges']} edges (cut: {v['cut']}); view data {view_s:.2f} s, "
        f"render {render_s:.2f} s"
    )
    print(f"graph.html: {page.stat().st_size / 1e6:.2f} MB (vis-network itself: ~0.69 MB of it)")
    report(measure_page(page, args.runs, args.screenshot), args)


def report(m: dict[str, float], args: argparse.Namespace) -> None:
    print(
        f"chromium (median of {args.runs}): {m['nodes']} nodes and {m['edges']} edges "
        f"drawn {m['drawn_ms']:.0f} ms, "
        f"interactive {m['ready_ms']:.0f} ms after navigation; "
        f"search -> focused {m['search_focus_ms']:.0f} ms; "
        f"cluster filter {m['filter_ms']:.0f} ms"
    )
    if args.screenshot:
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
