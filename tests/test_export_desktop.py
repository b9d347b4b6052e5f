"""GEXF, VOSviewer and Cytoscape exports of the demo build: parsed back and compared with the
build, and with the HTML page (same clusters, colours, sizes and positions)."""

from __future__ import annotations

import json
import math

import networkx as nx
import pytest

from kg.export.layout import _compute, cluster_color, node_looks
from kg.graph import CONCEPT


def test_gexf_round_trip_keeps_clusters_sizes_and_layout(demo_build):
    built, out = demo_build
    g = nx.read_gexf(out / "graph.gexf")
    looks = node_looks(built)
    assert set(g.nodes) == set(built.graph.nodes)
    assert g.number_of_edges() == built.graph.number_of_edges()
    for node, data in g.nodes(data=True):
        look = looks[node]
        viz = data["viz"]
        assert data["label"] == built.graph.nodes[node]["label"]
        assert data["cluster"] == built.analysis.cluster_of.get(node, -1)
        assert data["cluster_label"] == built.analysis.cluster_labels.get(look.cluster, "")
        colour = "#{:02x}{:02x}{:02x}".format(
            viz["color"]["r"], viz["color"]["g"], viz["color"]["b"]
        )
        assert colour == cluster_color(look.cluster)
        assert viz["size"] == pytest.approx(look.size)
        assert (viz["position"]["x"], -viz["position"]["y"]) == pytest.approx((look.x, look.y))
    for u, v, data in g.edges(data=True):
        assert data["weight"] == pytest.approx(built.graph.edges[u, v]["weight"])
        assert data["kind"] == built.graph.edges[u, v]["kind"]


def test_vosviewer_map_round_trip(demo_build):
    built, out = demo_build
    doc = json.loads((out / "vosviewer.json").read_text(encoding="utf-8"))
    items, links = doc["network"]["items"], doc["network"]["links"]
    concepts = sorted(n for n, d in built.graph.nodes(data=True) if d["kind"] == CONCEPT)
    assert [i["id"] for i in items] == list(range(1, len(concepts) + 1))
    by_id = dict(zip((i["id"] for i in items), concepts, strict=True))
    looks = node_looks(built)
    for item in items:
        node = by_id[item["id"]]
        assert item["label"] == built.graph.nodes[node]["label"]
        assert item["cluster"] == built.analysis.cluster_of[node] + 1
        assert (item["x"], item["y"]) == pytest.approx((looks[node].x, looks[node].y))
        assert item["weights"]["Size"] == pytest.approx(looks[node].size)
        papers = sum(1 for nb in built.graph[node] if nb.startswith("paper:"))
        assert item["weights"]["Occurrences"] == papers
    cooccurs = {
        frozenset((u, v)): d["weight"]
        for u, v, d in built.graph.edges(data=True)
        if d["kind"] == "cooccurs"
    }
    assert {
        frozenset((by_id[link["source_id"]], by_id[link["target_id"]])): link["strength"]
        for link in links
    } == cooccurs
    colours = {c["cluster"]: c["color"] for c in doc["config"]["color_schemes"]["cluster_colors"]}
    assert colours == {cid + 1: cluster_color(cid) for cid in built.analysis.cluster_labels}


def test_vosviewer_descriptions_escape_markup():
    from kg.export.vosviewer import _description

    text = _description('<img src=x onerror="alert(1)">', ["a & b"], "<script>x</script>")
    assert "<img" not in text and "<script" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text and "a &amp; b" in text


def test_cytoscape_round_trip_with_positions(demo_build):
    built, out = demo_build
    doc = json.loads((out / "graph.cyjs").read_text(encoding="utf-8"))
    g = nx.cytoscape_graph(doc)
    assert set(g.nodes) == set(built.graph.nodes)
    assert {frozenset(e) for e in g.edges} == {frozenset(e) for e in built.graph.edges}
    looks = node_looks(built)
    for element in doc["elements"]["nodes"]:
        node = element["data"]["id"]
        look = looks[node]
        assert element["position"] == {"x": look.x, "y": look.y}
        assert element["data"]["color"] == look.color
        assert element["data"]["size"] == look.size
        assert element["data"]["cluster"] == look.cluster
    assert any(rule["selector"] == "node" for rule in doc["style"])


def test_html_uses_the_same_look(demo_build):
    from tests.test_html import page_data

    built, out = demo_build
    looks = node_looks(built)
    for n in page_data(out / "graph.html")["nodes"]:
        look = looks[n["id"]]
        assert (n["x"], n["y"], n["size"], n["color"], n["cluster"]) == (
            look.x,
            look.y,
            look.size,
            look.color,
            look.cluster,
        )


def test_layout_is_deterministic_and_keeps_clusters_apart(demo_build):
    built, _ = demo_build
    first, second = _compute(built), _compute(built)
    assert first == second
    looks, discs = first
    assert set(discs) == set(built.analysis.cluster_labels)
    for node, look in looks.items():  # every concept inside its cluster's disc
        if node.startswith("concept:"):
            x, y, r = discs[look.cluster]
            assert math.hypot(look.x - x, look.y - y) <= r + 0.1, node
    for a, (xa, ya, ra) in discs.items():  # and no two discs overlap
        for b, (xb, yb, rb) in discs.items():
            if a < b:
                assert math.hypot(xa - xb, ya - yb) >= ra + rb - 0.1, (a, b)


def test_exports_are_byte_identical_between_runs(demo_build, tmp_path):
    from kg.export import WRITERS

    built, out = demo_build
    for name in ("gexf", "vosviewer", "cytoscape", "html"):
        for path in WRITERS[name](built, tmp_path):
            assert path.read_bytes() == (out / path.name).read_bytes(), path.name


def _networkx_gexf(graph: nx.Graph, path) -> bytes:
    """What networkx's own writer makes of ``graph`` (without its date)."""
    from networkx.readwrite.gexf import GEXFWriter

    writer = GEXFWriter(encoding="utf-8", prettyprint=True)
    writer.xml.find("meta").attrib.pop("lastmodifieddate")
    writer.add_graph(graph)
    writer.write(path)
    return path.read_bytes()


def test_gexf_is_streamed_as_networkx_writes_it(demo_build, tmp_path, monkeypatch):
    from kg.export import gexf

    built, out = demo_build
    demo = gexf.gexf_graph(built)
    assert (out / "graph.gexf").read_bytes() == _networkx_gexf(demo, tmp_path / "nx.gexf")
    # edges in chunks of 7; attributes (and edge ids) that only later edges bring; no edge
    path = nx.path_graph(40)
    for u, _v, data in path.edges(data=True):
        data["weight"] = u / 3
    path.add_edge(38, 39, late="z", label="Ü & <b>", id=3)
    path.add_edge(10, 11, id="7")
    lone = nx.Graph()
    lone.add_node("a", note="é")
    drawn = nx.Graph([(1, 2), (2, 3)])  # edges with a look of their own: written whole
    drawn.edges[2, 3]["viz"] = {"color": {"r": 1, "g": 2, "b": 3, "a": 1.0}}
    monkeypatch.setattr(gexf, "EDGES_PER_CHUNK", 7)
    for name, graph in (("demo", demo), ("path", path), ("lone", lone), ("drawn", drawn)):
        gexf._write(graph, tmp_path / f"{name}.gexf")
        expected = _networkx_gexf(graph, tmp_path / f"{name}-nx.gexf")
        assert (tmp_path / f"{name}.gexf").read_bytes() == expected, name


def test_graph_files_of_a_big_build_hold_its_most_central_part(demo_build, tmp_path):
    import dataclasses

    from kg.export import writer
    from kg.export.html import select_view

    built, _ = demo_build
    small = dataclasses.replace(built, config=built.config.replace(graph_max_nodes=120))
    for name in ("graphml", "gexf", "cytoscape", "vosviewer"):
        writer(name)(small, tmp_path)
    view = select_view(small, max_nodes=120)
    assert view.cut and len(view.nodes) <= 120
    graphml = nx.read_graphml(tmp_path / "graph.graphml")
    assert sorted(graphml.nodes) == view.nodes
    assert graphml.number_of_edges() == len(view.edges)
    gexf = nx.read_gexf(tmp_path / "graph.gexf")
    assert sorted(gexf.nodes) == view.nodes
    cyjs = json.loads((tmp_path / "graph.cyjs").read_text(encoding="utf-8"))
    assert sorted(n["data"]["id"] for n in cyjs["elements"]["nodes"]) == view.nodes
    vos = json.loads((tmp_path / "vosviewer.json").read_text(encoding="utf-8"))
    concepts = [n for n in view.nodes if built.graph.nodes[n]["kind"] == CONCEPT]
    assert len(vos["network"]["items"]) == len(concepts) < built.graph.number_of_nodes()
    by_id, kept = dict(enumerate(concepts, start=1)), set(concepts)
    links = {  # every co-occurrence among the concepts kept, not only the view's strongest
        frozenset((by_id[link["source_id"]], by_id[link["target_id"]])): link["strength"]
        for link in vos["network"]["links"]
    }
    assert links == {
        frozenset((u, v)): d["weight"]
        for u, v, d in built.graph.edges(data=True)
        if d["kind"] == "cooccurs" and u in kept and v in kept
    }
    assert "most central" in small.manifest()["graph_files"]
    assert built.manifest()["graph_files"] == "the whole graph"


def test_layout_of_many_clusters_keeps_every_disc_apart():
    """A big corpus has thousands of tiny clusters: the largest are laid out by force, the rest
    in rows below, where no disc overlaps another."""
    import numpy as np

    from kg.export.layout import MAX_DISCS, SPACING, _cluster_centres

    n = MAX_DISCS + 600
    radius = {c: SPACING * math.sqrt(1 + (7 * c) % 40) for c in range(n)}
    g = nx.Graph()
    cluster_of = {}
    for c in range(n):
        g.add_node(f"concept:{c}", kind=CONCEPT)
        cluster_of[f"concept:{c}"] = c
    for c in range(1, n):
        g.add_edge(f"concept:{c - 1}", f"concept:{c}", kind="cooccurs", weight=1)
    centres = _cluster_centres(g, cluster_of, radius, 42)
    assert sorted(centres) == list(range(n))
    xy = np.array([centres[c] for c in range(n)])
    r = np.array([radius[c] for c in range(n)])
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    apart = dist - (r[:, None] + r[None, :]) >= -1e-6
    rows = sorted(radius, key=lambda c: (-radius[c], c))[MAX_DISCS:]
    assert apart[rows].all()  # a disc in the rows overlaps no other disc
    assert centres == _cluster_centres(g, cluster_of, radius, 42)


def test_json_files_hold_one_node_or_link_a_line(demo_build, tmp_path):
    """The JSON graph files parse back to the value encoded (keys sorted), and their arrays
    hold one element a line: a node or a link per line, for readers, diff and grep."""
    from kg.export.jsonfile import write_json

    _, out = demo_build
    for name, arrays in (
        ("graph.cyjs", ("nodes", "edges")),
        ("vosviewer.json", ("items", "links")),
    ):
        text = (out / name).read_text(encoding="utf-8")
        doc = json.loads(text)
        lines = text.splitlines()
        for key in arrays:
            start = lines.index(next(line for line in lines if line.strip() == f'"{key}": ['))
            elements = doc["elements" if name == "graph.cyjs" else "network"][key]
            assert elements
            for line, element in zip(lines[start + 1 :], elements, strict=False):
                assert json.loads(line.rstrip(",")) == element
    value = {"b": [1, {"y": [2, 3.5], "x": None}], "a": {"k": "é\n", "e": [], "o": {}}, "t": (1,)}
    path = tmp_path / "value.json"
    write_json(path, value)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(value))
    assert text.endswith(' "t": [1]\n}\n') and text.index('"a"') < text.index('"b"')
    assert '  {"x":null,"y":[2,3.5]}' in text.splitlines()
