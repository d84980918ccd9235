"""Prometheus metrics, written out by hand (no extra dependency).

Request counts by route template and status, latency histograms by route,
and the model version serving as a labelled gauge. Routes are labelled by
their template (``/v1/workers/{worker_id}``), never by the raw path, so an
id does not create a new time series; unmatched paths share one label.

Several processes (``recommender serve --workers N``): a scrape reaches one of
them, so each publishes its counters to a folder they share
(``RECOMMENDER_METRICS_DIR``, which the runner sets) and the one scraped adds
them all up (``MetricsShare``). Counters of a process that died stay counted,
as counters must not go down.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("api")

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


class Metrics:
    """Counters and histograms for one app; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.latency: dict[tuple[str, str], list[float]] = {}  # bucket counts..., then sum, count
        self.served: dict[str, int] = defaultdict(int)
        self.served_log_failures = 0
        self.model_swaps = 0
        self.model_load_failures = 0
        self.requests_shed = 0
        self.ranking_passes = 0
        self.ranked_queries = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            row = self.latency.get((method, route))
            if row is None:
                row = self.latency[(method, route)] = [0.0] * (len(BUCKETS) + 2)
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1

    def count_served(self, item_type: str, n: int = 1) -> None:
        with self._lock:
            self.served[item_type] += n

    def inc(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def state(self) -> dict[str, Any]:
        """The counters as plain JSON values (what a process publishes for the others)."""
        with self._lock:
            return {
                "requests": [[*key, n] for key, n in self.requests.items()],
                "latency": [[*key, list(row)] for key, row in self.latency.items()],
                "served": dict(self.served),
                "counters": {name: getattr(self, name) for name in _COUNTERS},
            }

    def render(self, *, model_version: str | None, model_loaded_at: float | None = None, peers: Sequence[dict[str, Any]] = ()) -> str:
        """The Prometheus text exposition format (version 0.0.4): this process's counters plus ``peers``'
        (other processes' ``state()``); the model gauges are this process's."""
        total = _sum_states([self.state(), *peers])
        requests: dict[tuple[str, str, str], int] = total["requests"]
        latency: dict[tuple[str, str], list[float]] = total["latency"]
        served: dict[str, int] = total["served"]
        counters: dict[str, int] = total["counters"]
        out: list[str] = []
        out += ["# HELP recommender_http_requests_total HTTP requests by route template and status.",
                "# TYPE recommender_http_requests_total counter"]
        for (method, route, status), n in sorted(requests.items()):
            out.append(f"recommender_http_requests_total{_labels(method=method, route=route, status=status)} {n}")
        out += ["# HELP recommender_http_request_duration_seconds Request latency by route template.",
                "# TYPE recommender_http_request_duration_seconds histogram"]
        for (method, route), row in sorted(latency.items()):
            for bound, n in zip(BUCKETS, row, strict=False):
                out.append(
                    f"recommender_http_request_duration_seconds_bucket{_labels(method=method, route=route, le=f'{bound:g}')} {int(n)}"
                )
            out.append(f"recommender_http_request_duration_seconds_bucket{_labels(method=method, route=route, le='+Inf')} {int(row[-1])}")
            out.append(f"recommender_http_request_duration_seconds_sum{_labels(method=method, route=route)} {row[-2]:.6f}")
            out.append(f"recommender_http_request_duration_seconds_count{_labels(method=method, route=route)} {int(row[-1])}")
        out += ["# HELP recommender_recommendations_served_total Recommendation lists served, by item type.",
                "# TYPE recommender_recommendations_served_total counter"]
        for item_type, n in sorted(served.items()):
            out.append(f"recommender_recommendations_served_total{_labels(item_type=item_type)} {n}")
        out += ["# HELP recommender_served_log_failures_total Served lists that could not be written to the served log.",
                "# TYPE recommender_served_log_failures_total counter",
                f"recommender_served_log_failures_total {counters['served_log_failures']}",
                "# HELP recommender_model_swaps_total Newly promoted models loaded without restart.",
                "# TYPE recommender_model_swaps_total counter",
                f"recommender_model_swaps_total {counters['model_swaps']}",
                "# HELP recommender_model_load_failures_total Promoted models that failed to load (the previous one kept serving).",
                "# TYPE recommender_model_load_failures_total counter",
                f"recommender_model_load_failures_total {counters['model_load_failures']}",
                "# HELP recommender_requests_shed_total Ranking requests refused with 503 overloaded (queue full).",
                "# TYPE recommender_requests_shed_total counter",
                f"recommender_requests_shed_total {counters['requests_shed']}",
                "# HELP recommender_ranking_passes_total Passes of the ranking thread over queued single-worker job requests.",
                "# TYPE recommender_ranking_passes_total counter",
                f"recommender_ranking_passes_total {counters['ranking_passes']}",
                "# HELP recommender_ranked_queries_total Single-worker job requests ranked in those passes (divided by the passes: the mean group).",
                "# TYPE recommender_ranked_queries_total counter",
                f"recommender_ranked_queries_total {counters['ranked_queries']}"]
        out += ["# HELP recommender_model_info The model version serving (1), labelled by version.",
                "# TYPE recommender_model_info gauge"]
        if model_version:
            out.append(f"recommender_model_info{_labels(version=model_version)} 1")
        out += ["# HELP recommender_model_loaded Whether a model is loaded (1) or not (0).",
                "# TYPE recommender_model_loaded gauge",
                f"recommender_model_loaded {1 if model_version else 0}"]
        if model_loaded_at is not None:
            out += ["# HELP recommender_model_loaded_timestamp_seconds When the serving model was loaded (Unix time).",
                    "# TYPE recommender_model_loaded_timestamp_seconds gauge",
                    f"recommender_model_loaded_timestamp_seconds {model_loaded_at:.3f}"]
        return "\n".join(out) + "\n"


_COUNTERS = ("served_log_failures", "model_swaps", "model_load_failures", "requests_shed", "ranking_passes", "ranked_queries")


def _sum_states(states: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' ``state()`` added up (a malformed entry is skipped, not fatal to the scrape)."""
    requests: dict[tuple[str, str, str], int] = defaultdict(int)
    latency: dict[tuple[str, str], list[float]] = {}
    served: dict[str, int] = defaultdict(int)
    counters = dict.fromkeys(_COUNTERS, 0)
    width = len(BUCKETS) + 2
    for st in states:
        try:
            for method, route, status, n in st.get("requests", ()):
                requests[(str(method), str(route), str(status))] += int(n)
            for method, route, row in st.get("latency", ()):
                if len(row) != width:
                    continue
                acc = latency.setdefault((str(method), str(route)), [0.0] * width)
                for i, v in enumerate(row):
                    acc[i] += float(v)
            for item_type, n in st.get("served", {}).items():
                served[str(item_type)] += int(n)
            for name in _COUNTERS:
                counters[name] += int(st.get("counters", {}).get(name, 0))
        except (TypeError, ValueError, AttributeError):
            continue
    return {"requests": requests, "latency": latency, "served": served, "counters": counters}


class MetricsShare:
    """One process's ``Metrics`` published to ``folder`` (``<pid>.json``), and the others' read back."""

    def __init__(self, folder: Path, metrics: Metrics) -> None:
        self.folder = Path(folder)
        self.metrics = metrics
        self.path = self.folder / f"{os.getpid()}.json"

    def publish(self) -> None:
        """Write this process's counters (atomically: a reader sees the old file or the new one)."""
        tmp = self.path.with_name(f"{self.path.stem}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(self.metrics.state()))
            os.replace(tmp, self.path)
        except OSError as exc:
            log.warning("could not publish this process's metrics to %s: %s", self.folder, exc)

    def peers(self) -> list[dict[str, Any]]:
        """The other processes' last published counters."""
        out = []
        try:
            files = sorted(self.folder.glob("*.json"))
        except OSError:
            return out
        for f in files:
            if f == self.path:
                continue
            try:
                out.append(json.loads(f.read_text()))
            except (OSError, ValueError):
                continue  # removed or being replaced meanwhile
        return out
