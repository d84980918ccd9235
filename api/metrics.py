"""Prometheus metrics, written out by hand (no extra dependency).

Request counts by route template and status, latency histograms by route,
and the model version serving as a labelled gauge. Routes are labelled by
their template (``/v1/workers/{worker_id}``), never by the raw path, so an
id does not create a new time series; unmatched paths share one label.
"""

from __future__ import annotations

import threading
from collections import defaultdict

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

    def inc(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def render(self, *, model_version: str | None, model_loaded_at: float | None = None) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP recommender_http_requests_total HTTP requests by route template and status.",
                    "# TYPE recommender_http_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f"recommender_http_requests_total{_labels(method=method, route=route, status=status)} {n}")
            out += ["# HELP recommender_http_request_duration_seconds Request latency by route template.",
                    "# TYPE recommender_http_request_duration_seconds histogram"]
            for (method, route), row in sorted(self.latency.items()):
                for bound, n in zip(BUCKETS, row, strict=False):
                    out.append(
                        f"recommender_http_request_duration_seconds_bucket{_labels(method=method, route=route, le=f'{bound:g}')} {int(n)}"
                    )
                out.append(f"recommender_http_request_duration_seconds_bucket{_labels(method=method, route=route, le='+Inf')} {int(row[-1])}")
                out.append(f"recommender_http_request_duration_seconds_sum{_labels(method=method, route=route)} {row[-2]:.6f}")
                out.append(f"recommender_http_request_duration_seconds_count{_labels(method=method, route=route)} {int(row[-1])}")
            out += ["# HELP recommender_recommendations_served_total Recommendation lists served, by item type.",
                    "# TYPE recommender_recommendations_served_total counter"]
            for item_type, n in sorted(self.served.items()):
                out.append(f"recommender_recommendations_served_total{_labels(item_type=item_type)} {n}")
            out += ["# HELP recommender_served_log_failures_total Served lists that could not be written to the served log.",
                    "# TYPE recommender_served_log_failures_total counter",
                    f"recommender_served_log_failures_total {self.served_log_failures}",
                    "# HELP recommender_model_swaps_total Newly promoted models loaded without restart.",
                    "# TYPE recommender_model_swaps_total counter",
                    f"recommender_model_swaps_total {self.model_swaps}",
                    "# HELP recommender_model_load_failures_total Promoted models that failed to load (the previous one kept serving).",
                    "# TYPE recommender_model_load_failures_total counter",
                    f"recommender_model_load_failures_total {self.model_load_failures}",
                    "# HELP recommender_requests_shed_total Ranking requests refused with 503 overloaded (queue full).",
                    "# TYPE recommender_requests_shed_total counter",
                    f"recommender_requests_shed_total {self.requests_shed}"]
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
