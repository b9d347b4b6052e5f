"""Trends: each concept's papers per month (or year), its growth, its bursts, its first appearance.

Counts are turned into shares of the papers of each period, so a month with twice the listings
does not make every concept look like it grew. Two views of "emerging":

- **growth**: the slope of a Poisson regression of the concept's monthly papers on time, with
  the period's paper count as exposure (``papers_t ~ Poisson(N_t · exp(a + b·t))``). ``b`` is the
  log growth of the concept's share per period (``growth_per_period = exp(b) - 1``: 0.5 means
  +50% a month); one pseudo-paper spread over the periods keeps a concept that only appears in
  the last month finite. ``growth_z`` is ``b`` over its standard error.
- **burst**: Kleinberg's two-state burst detection on the batched counts (the method CiteSpace
  uses): a period is in a burst when the concept's share there is better explained by a rate
  ``burst_scale`` times its base rate, after paying ``gamma · ln(periods)`` to enter the burst.

Papers without a date (or with only a year when months are asked for) are left out and counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kg.errors import ConfigError

FREQS = {"month": 7, "year": 4}
CHUNK_ROWS = 32_768
"""Concepts whose growth and bursts are computed together (the convergence test of the
regression is per block: a concept's figures do not depend on the other blocks)."""
"""Period names and how many characters of an ISO date name the period."""


@dataclass(frozen=True)
class Periods:
    """Concept × period paper counts: ``counts[i, t]`` papers of ``keys[i]`` in ``names[t]``."""

    names: list[str]
    totals: np.ndarray  # papers per period (all papers with a date of that precision)
    keys: list[str]
    labels: list[str]
    counts: np.ndarray
    first_seen: list[str]  # earliest date of a paper of each concept
    undated: int  # papers left out: no date at the asked precision


def _period_names(present: list[str], freq: str) -> list[str]:
    if not present:
        return []
    lo, hi = min(present), max(present)
    if freq == "year":
        return [str(y) for y in range(int(lo), int(hi) + 1)]
    return [str(p) for p in pd.period_range(lo, hi, freq="M")]


def concept_periods(
    papers: pd.DataFrame, mentions: pd.DataFrame, *, freq: str = "month"
) -> Periods:
    """Count each concept's papers per period (the matrix behind the other functions)."""
    if freq not in FREQS:
        raise ConfigError(f"freq must be one of {', '.join(FREQS)}, got {freq!r}")
    width = FREQS[freq]
    dates = {
        str(k): str(d)
        for k, d in zip(papers["key"], papers["date"], strict=True)
        if isinstance(d, str) and len(d) >= width
    }
    period_of = {k: d[:width] for k, d in dates.items()}
    names = _period_names(sorted(set(period_of.values())), freq)
    index = {p: i for i, p in enumerate(names)}
    totals = np.zeros(len(names))
    for p in period_of.values():
        totals[index[p]] += 1

    dated = mentions[mentions["paper"].astype(str).isin(period_of)]
    pairs = dated[["concept_key", "paper"]].astype(str).drop_duplicates()
    label_of = dict(
        zip(mentions["concept_key"].astype(str), mentions["concept"].astype(str), strict=True)
    )
    keys = sorted(pairs["concept_key"].unique())
    row = {k: i for i, k in enumerate(keys)}
    counts = np.zeros((len(keys), len(names)))
    first: dict[str, str] = {}
    for key, paper in zip(pairs["concept_key"], pairs["paper"], strict=True):
        counts[row[key], index[period_of[paper]]] += 1
        if key not in first or dates[paper] < first[key]:
            first[key] = dates[paper]
    return Periods(
        names,
        totals,
        keys,
        [label_of[k] for k in keys],
        counts,
        [first[k] for k in keys],
        len(papers) - len(period_of),
    )


def concept_trends(
    papers: pd.DataFrame,
    mentions: pd.DataFrame,
    *,
    freq: str = "month",
    periods: Periods | None = None,
) -> pd.DataFrame:
    """Each concept's papers per period, with the period's total and the concept's share.

    One row per concept and period where the concept has papers (long format: pivot it for a
    plot). ``papers`` needs ``key`` and ``date`` columns, ``mentions`` needs ``paper``,
    ``concept_key`` and ``concept`` (the tables of a build); ``periods``, the counts
    ``concept_periods`` made of them, if made already.

    >>> papers = pd.DataFrame({"key": ["p1", "p2", "p3"],
    ...                        "date": ["2025-03-02", "2025-04-10", "2025-04-20"]})
    >>> mentions = pd.DataFrame({"paper": ["p1", "p2", "p3"], "concept_key": ["llm"] * 3,
    ...                          "concept": ["LLM"] * 3})
    >>> concept_trends(papers, mentions)[["period", "concept", "papers", "share"]]
        period concept  papers  share
    0  2025-03     LLM       1    1.0
    1  2025-04     LLM       2    1.0
    """
    p = concept_periods(papers, mentions, freq=freq) if periods is None else periods
    rows, cols = np.nonzero(p.counts)
    counts = p.counts[rows, cols]
    frame = pd.DataFrame(  # columns, not one dict per row: a big build has millions of rows
        {
            "period": np.array(p.names, dtype=object)[cols],
            "concept": np.array(p.labels, dtype=object)[rows],
            "concept_key": np.array(p.keys, dtype=object)[rows],
            "papers": counts.astype(np.int64),
            "period_papers": p.totals[cols].astype(np.int64),
            "share": [round(v, 6) for v in (counts / p.totals[cols]).tolist()],
        },
        columns=["period", "concept", "concept_key", "papers", "period_papers", "share"],
    )
    return frame.sort_values(["concept_key", "period"], kind="stable").reset_index(drop=True)


def poisson_growth(
    counts: np.ndarray, totals: np.ndarray, *, smoothing: float = 1.0, iterations: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """Log growth per period of each row's share, and its standard error (Poisson regression).

    >>> b, se = poisson_growth(np.array([[1.0, 2.0, 4.0, 8.0]]), np.array([100.0] * 4),
    ...                        smoothing=0.0)
    >>> round(float(np.exp(b[0])), 3)  # the share doubles each period
    2.0
    """
    live = totals > 0
    k = len(counts)
    if live.sum() < 2:
        return np.full(k, np.nan), np.full(k, np.nan)
    c = counts[:, live] + smoothing * totals[live] / totals[live].sum()
    n = totals[live]
    x = np.arange(len(totals), dtype=float)[live]
    x = x - x.mean()
    a = np.log(c.sum(axis=1) / n.sum())
    b = np.zeros(k)
    for _ in range(iterations):
        mu = n * np.exp(a[:, None] + b[:, None] * x)
        ga, gb = (c - mu).sum(axis=1), ((c - mu) * x).sum(axis=1)
        haa, hab, hbb = mu.sum(axis=1), (mu * x).sum(axis=1), (mu * x * x).sum(axis=1)
        det = haa * hbb - hab * hab
        step_b = np.clip((haa * gb - hab * ga) / det, -1.0, 1.0)
        a = a + (hbb * ga - hab * gb) / det
        b = b + step_b
        if np.all(np.abs(step_b) < 1e-10):
            break
    mu = n * np.exp(a[:, None] + b[:, None] * x)
    haa, hab, hbb = mu.sum(axis=1), (mu * x).sum(axis=1), (mu * x * x).sum(axis=1)
    return b, np.sqrt(haa / (haa * hbb - hab * hab))


def kleinberg_bursts(
    counts: np.ndarray, totals: np.ndarray, *, scale: float = 2.0, gamma: float = 1.0
) -> np.ndarray:
    """Kleinberg's two-state batched burst detection: a boolean (rows × periods) burst mask.

    Periods without papers are never in a burst.

    >>> kleinberg_bursts(np.array([[1.0, 1.0, 9.0, 1.0]]), np.array([50.0] * 4)).astype(int)
    array([[0, 0, 1, 0]])
    """
    live = np.flatnonzero(totals > 0)
    r, d = counts[:, live], totals[live]
    k, t_count = r.shape
    mask = np.zeros(counts.shape, dtype=bool)
    if t_count == 0 or k == 0:
        return mask
    p0 = np.clip(r.sum(axis=1) / d.sum(), 1e-12, None)
    p1 = np.clip(scale * p0, None, 1 - 1e-9)
    p0 = np.clip(p0, None, 1 - 1e-9)

    def cost(p: np.ndarray) -> np.ndarray:
        return -(r * np.log(p)[:, None] + (d - r) * np.log1p(-p)[:, None])

    costs = np.stack([cost(p0), cost(p1)])  # (state, row, period)
    enter = gamma * np.log(max(t_count, 2))
    best = np.stack([costs[0, :, 0], costs[1, :, 0] + enter])
    back = np.zeros((2, k, t_count), dtype=int)
    for t in range(1, t_count):
        stay0, from1 = best[0], best[1]
        back[0, :, t] = np.where(from1 < stay0, 1, 0)
        to0 = np.minimum(stay0, from1)
        up, stay1 = best[0] + enter, best[1]
        back[1, :, t] = np.where(up < stay1, 0, 1)
        to1 = np.minimum(up, stay1)
        best = np.stack([to0 + costs[0, :, t], to1 + costs[1, :, t]])
    state = np.argmin(best, axis=0)
    path = np.zeros((k, t_count), dtype=bool)
    rows = np.arange(k)
    for t in range(t_count - 1, -1, -1):
        path[:, t] = state == 1
        state = back[state, rows, t]
    mask[:, live] = path
    return mask


def emerging_concepts(
    papers: pd.DataFrame,
    mentions: pd.DataFrame,
    *,
    freq: str = "month",
    min_papers: int = 5,
    smoothing: float = 1.0,
    burst_scale: float = 2.0,
    burst_gamma: float = 1.0,
    periods: Periods | None = None,
) -> pd.DataFrame:
    """One row per concept with dated papers: first appearance, growth and strongest burst.

    Sorted fastest-growing first; ``growth`` is left empty (NaN) for concepts with fewer than
    ``min_papers`` dated papers, whose trend is noise, and they sort last. ``periods``: as
    for ``concept_trends``.

    >>> papers = pd.DataFrame({"key": [f"p{i}" for i in range(8)],
    ...                        "date": ["2025-01-05"] * 4 + ["2025-02-05"] * 4})
    >>> mentions = pd.DataFrame({"paper": ["p0", "p4", "p5", "p6", "p0", "p1", "p4"],
    ...                          "concept_key": ["new"] * 4 + ["old"] * 3,
    ...                          "concept": ["new"] * 4 + ["old"] * 3})
    >>> emerging_concepts(papers, mentions, min_papers=2)[["concept", "first_seen", "papers"]]
      concept  first_seen  papers
    0     new  2025-01-05       4
    1     old  2025-01-05       3
    """
    p = concept_periods(papers, mentions, freq=freq) if periods is None else periods
    rows = len(p.keys)
    # filled block by block into arrays: lists of Python floats, one per concept and figure,
    # took ~120 MB on a big build's 370,000 concepts, at the analytics export's memory peak
    width = FREQS[freq]
    period = {name: name for name in p.names}  # one string per period, not one per concept
    columns: dict[str, Any] = {
        "concept": p.labels,
        "concept_key": p.keys,
        "papers": np.zeros(rows, dtype=np.int64),
        "first_seen": p.first_seen,
        "first_period": np.array([period.get(f[:width], f[:width]) for f in p.first_seen], object),
        "growth": np.zeros(rows),
        "growth_per_period": np.zeros(rows),
        "growth_z": np.zeros(rows),
        "burst_start": np.full(rows, "", dtype=object),
        "burst_end": np.full(rows, "", dtype=object),
        "burst_weight": np.zeros(rows),
    }
    # in blocks of rows: the regression and the burst search hold several concept x period
    # matrices at once, hundreds of MB for the 370,000 concepts of a big build
    for lo in range(0, max(rows, 1), CHUNK_ROWS):
        counts = p.counts[lo : lo + CHUNK_ROWS]
        growth, se = poisson_growth(counts, p.totals, smoothing=smoothing)
        total = counts.sum(axis=1)
        growth = np.where(total >= min_papers, growth, np.nan)
        bursts = kleinberg_bursts(counts, p.totals, scale=burst_scale, gamma=burst_gamma)
        burst = np.asarray(bursts.any(axis=1)).tolist()
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero error: z is infinite
            figures = zip(
                total.tolist(),
                growth.tolist(),
                np.expm1(growth).tolist(),
                (growth / se).tolist(),
                strict=True,
            )
        for j, (n, b, per_period, z) in enumerate(figures):
            i = lo + j
            columns["papers"][i] = int(n)
            columns["growth"][i] = _round(b)
            columns["growth_per_period"][i] = _round(per_period)
            columns["growth_z"][i] = _round(z)
            if burst[j]:
                start, end, weight = _strongest_burst(
                    bursts[j], counts[j], p.totals, scale=burst_scale
                )
                columns["burst_weight"][i] = round(weight, 6)
                if weight:
                    columns["burst_start"][i], columns["burst_end"][i] = (
                        p.names[start],
                        p.names[end],
                    )
    frame = pd.DataFrame(columns, columns=list(columns))
    frame = frame.sort_values(
        ["growth", "papers", "concept_key"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    )
    return frame.reset_index(drop=True)


def _round(value: float) -> float:
    return round(value, 6) if math.isfinite(value) else float("nan")


def _strongest_burst(
    mask: np.ndarray, counts: np.ndarray, totals: np.ndarray, *, scale: float
) -> tuple[int, int, float]:
    """The burst run with the largest likelihood gain: (first period, last period, weight)."""
    live = totals > 0
    if not mask.any() or not live.any():
        return 0, 0, 0.0
    p0 = min(counts[live].sum() / totals[live].sum(), 1 - 1e-9)
    p1 = min(scale * p0, 1 - 1e-9)
    gain = np.zeros(len(totals))
    r, d = counts[live], totals[live]
    gain[live] = r * np.log(p1 / p0) + (d - r) * (np.log1p(-p1) - np.log1p(-p0))
    best = (0, 0, 0.0)
    t = 0
    while t < len(mask):
        if not mask[t]:
            t += 1
            continue
        end = t
        while end + 1 < len(mask) and mask[end + 1]:
            end += 1
        weight = float(gain[t : end + 1].sum())
        if weight > best[2]:
            best = (t, end, weight)
        t = end + 1
    return best
