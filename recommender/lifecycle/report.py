"""A model version's report: one self-contained HTML page (plots inline as base64 PNG).

Written into the version folder as ``report.html`` by the retrain, together
with the bundle (atomically). Plots need matplotlib; without it the page still
holds every table and says which plots are missing.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recommender.lifecycle.evaluation import LifecycleEvaluation

REPORT = "report.html"
SEGMENTS = ("all", "age under 30", "age 30-49", "age 50+", "cold start", "warm")
COLOURS = {"learned": "#1f6fb2", "previous": "#9bbbd9", "random": "#bbbbbb", "popularity": "#e0a040",
           "content": "#6aa84f", "als": "#a64d79"}
SCOPE_COLOURS = {"local": "#2e7d32", "province": "#f9a825", "outbound": "#c62828"}


def _label(method: str) -> str:
    return {"learned": "candidate (this version)", "previous": "promoted (previous)"}.get(method, method)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    _plt().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def plot_metrics(ev: LifecycleEvaluation) -> Any:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=False)
    table = ev.jobs
    methods = list(dict.fromkeys(table["method"]))
    methods = [m for m in ("learned", "previous") if m in methods] + [m for m in methods if m not in ("learned", "previous")]
    segs = [s for s in SEGMENTS if s in set(table["segment"])]
    width = 0.8 / max(1, len(methods))
    for ax, metric in zip(axes, ("ndcg@10", "recall@10"), strict=True):
        for i, m in enumerate(methods):
            vals = [table.loc[(table["segment"] == s) & (table["method"] == m), metric].mean() for s in segs]
            ax.bar(np.arange(len(segs)) + i * width, vals, width, label=_label(m), color=COLOURS.get(m, None))
        ax.set_xticks(np.arange(len(segs)) + width * (len(methods) - 1) / 2)
        ax.set_xticklabels([s.replace("age ", "") for s in segs])
        ax.set_title(f"{metric.upper()} by segment (held-out window)")
        ax.grid(axis="y", alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_calibration(ev: LifecycleEvaluation) -> Any:
    plt = _plt()
    c = ev.calibration
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    ax.bar(c["decile"], c["observed_take_up"], color="#1f6fb2", label="observed take-up rate")
    ax.set_xlabel("predicted score decile (1 = lowest)")
    ax.set_ylabel("share of candidates taken up")
    ax.set_xticks(c["decile"])
    ax2 = ax.twinx()
    ax2.plot(c["decile"], c["mean_score"], color="#c62828", marker="o", label="mean predicted score")
    ax2.set_ylabel("mean predicted score (grade)")
    ax.set_title("Calibration on the held-out window")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], fontsize=8, loc="upper left")
    return fig


def plot_mix(ev: LifecycleEvaluation) -> Any:
    plt = _plt()
    mix = ev.mix
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    overall = mix.loc[mix["age_band"] == "all"].set_index("method")
    bands = mix.loc[(mix["method"] == "learned") & (mix["age_band"] != "all")].set_index("age_band")
    bands = bands.reindex([b for b in ("under 30", "30-49", "50+") if b in bands.index])
    for ax, frame, title in ((axes[0], overall, "Top-10 mix per method (all workers)"),
                             (axes[1], bands, "Top-10 mix of the candidate per age band")):
        left = np.zeros(len(frame))
        for scope in ("local", "province", "outbound"):
            vals = frame[scope].to_numpy(dtype=float)
            ax.barh([_label(str(i)) for i in frame.index], vals, left=left, color=SCOPE_COLOURS[scope], label=scope)
            left += vals
        ax.set_xlim(0, 1)
        ax.set_title(title)
        ax.invert_yaxis()
    axes[0].legend(fontsize=8, loc="lower right")
    return fig


def plot_importances(ev: LifecycleEvaluation, top: int = 20) -> Any:
    plt = _plt()
    imp = ev.importances.head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(imp) + 1.2))
    ax.barh(imp["feature"], imp["importance"], color="#1f6fb2")
    ax.set_xlabel("drop in NDCG@10 when the feature is shuffled")
    ax.set_title(f"Permutation importance (top {len(imp)}, held-out sample)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def plot_tradeoff(ev: LifecycleEvaluation) -> Any:
    plt = _plt()
    t = ev.tradeoff
    fig, ax = plt.subplots(figsize=(5.8, 3.8))
    for col, colour in (("ndcg@10 all", "#1f6fb2"), ("ndcg@10 50+", "#c62828"), ("ndcg@10 under 50", "#6aa84f"),
                        ("local share 50+", "#f9a825")):
        if col in t:
            ax.plot(t["weight"], t[col], marker="o", label=col, color=colour)
    ax.set_xlabel("older-worker weight")
    ax.set_title("What the older-worker weight buys and costs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


PLOTS: tuple[tuple[str, str, Callable[[LifecycleEvaluation], Any], Callable[[LifecycleEvaluation], bool]], ...] = (
    ("metrics", "NDCG@10 and Recall@10 by segment, against the promoted version and the baselines", plot_metrics,
     lambda ev: not ev.jobs.empty),
    ("calibration", "Calibration: predicted score deciles against observed take-up", plot_calibration,
     lambda ev: not ev.calibration.empty),
    ("mix", "Local / province / outbound mix of the recommendations", plot_mix, lambda ev: not ev.mix.empty),
    ("importances", "Feature importances", plot_importances, lambda ev: not ev.importances.empty),
    ("tradeoff", "Older-worker weight trade-off", plot_tradeoff, lambda ev: not ev.tradeoff.empty),
)


def render_plots(ev: LifecycleEvaluation) -> tuple[dict[str, str], str | None]:
    """{name: base64 PNG}; and why plots are missing, if they are."""
    try:
        _plt()
    except ImportError:
        return {}, "plots need matplotlib (pip install matplotlib); the tables below hold the same numbers"
    return {name: _png(fn(ev)) for name, _title, fn, ok in PLOTS if ok(ev)}, None


def _table(frame: pd.DataFrame | None, *, floats: str = "{:.3f}") -> str:
    if frame is None or frame.empty:
        return "<p><em>none</em></p>"
    return frame.to_html(index=False, float_format=floats.format, na_rep="", border=0, classes="t")


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;margin:24px auto;max-width:1240px;color:#222}
h1{font-size:22px;margin-bottom:4px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;font-size:13px} .verdict{padding:10px 14px;border-radius:6px;margin:14px 0;font-size:14px}
.pass{background:#e8f5e9;border:1px solid #66bb6a} .fail{background:#ffebee;border:1px solid #e57373}
table.t{border-collapse:collapse;font-size:12px;margin:6px 0} table.t td,table.t th{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
table.t th{background:#f5f5f5} img{max-width:100%;margin:6px 0} .grid{display:flex;flex-wrap:wrap;gap:16px}
"""


def render_report(manifest: dict[str, Any], ev: LifecycleEvaluation | None) -> str:
    """The HTML page for a version (``manifest`` as it will be saved)."""
    e = html.escape
    gate = manifest.get("gate") or {}
    version = str(manifest.get("version", "(unsaved)"))
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Model {e(version)}</title>"
             f"<style>{CSS}</style></head><body>", f"<h1>Model {e(version)}</h1>"]
    window = manifest.get("training_window") or {}
    split = manifest.get("split") or {}
    parts.append(
        "<p class='meta'>"
        f"trained {e(str(manifest.get('trained_at', '')))} · outcomes {e(str(window.get('from', '?')))} – {e(str(window.get('to', '?')))}"
        f" · held-out window {e(str(split.get('cutoff', '?')))} – {e(str(split.get('end', '?')))}"
        f" · data {e(str(manifest.get('data_fingerprint', '')))}"
        f" · new outcomes since the promoted model: {e(str(manifest.get('new_outcomes', {})))}</p>"
    )
    if gate:
        cls = "pass" if gate.get("passed") else "fail"
        word = "PASSED" if gate.get("passed") else "REFUSED"
        parts.append(f"<div class='verdict {cls}'><b>Gate {word}</b>: {e(str(gate.get('reason', '')))}"
                     + (f"<br><small>compared with: {e(str(gate.get('comparison') or ''))}</small>" if gate.get("comparison") else "")
                     + f"<br><small>promoted: {e(str(manifest.get('promoted', False)))}</small></div>")
        if gate.get("checks"):
            parts.append(_table(pd.DataFrame(gate["checks"]), floats="{:.4f}"))
    if ev is None:
        parts.append("<p>No evaluation was run for this version.</p></body></html>")
        return "".join(parts)
    plots, missing = render_plots(ev)
    if missing:
        parts.append(f"<p><em>{e(missing)}</em></p>")
    titles = {name: title for name, title, _fn, _ok in PLOTS}

    def img(name: str) -> str:
        if name not in plots:
            return ""
        return f"<h2>{e(titles[name])}</h2><img alt='{e(titles[name])}' data-plot='{name}' src='data:image/png;base64,{plots[name]}'>"

    parts.append(img("metrics"))
    parts.append("<div class='grid'><div>" + img("calibration") + "</div><div>" + img("tradeoff") + "</div></div>")
    parts.append(img("mix"))
    parts.append(img("importances"))
    if not ev.importances.empty:
        parts.append(f"<p class='meta'>NDCG@10 of the candidate on this sample: {ev.importances.attrs.get('baseline_ndcg', float('nan')):.3f}; "
                     "importance = its drop when one feature's values are shuffled across the sample.</p>")
    pivot = ev.jobs.pivot_table(index="segment", columns="method", values="ndcg@10", sort=False)
    pivot.columns.name = None
    parts.append("<h2>Tables</h2><h3>NDCG@10 per segment and method</h3>" + _table(pivot.reset_index()))
    parts.append("<h3>Older-worker weight trade-off</h3>" + _table(ev.tradeoff))
    parts.append("<h3>Calibration</h3>" + _table(ev.calibration, floats="{:.4f}"))
    parts.append("<h3>Recommendation mix</h3>" + _table(ev.mix))
    parts.append("<h3>All job metrics</h3>" + _table(ev.jobs))
    if ev.courses is not None:
        parts.append("<h3>Courses</h3>" + _table(ev.courses))
    parts.append(f"<p class='meta'>libraries: {e(str(manifest.get('libraries', '')))}</p></body></html>")
    return "".join(parts)
