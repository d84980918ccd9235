"""What a trained model version holds: the fitted encoders and rankers.

Encoded jobs and workers are not part of the bundle: the service encodes the
store's current jobs with the bundle's own encoders when it loads, so the
features it serves come from the very code and state that were trained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recommender.training.jobs import JobModel
from recommender.training.world import Encoders


@dataclass
class ModelBundle:
    encoders: Encoders
    jobs: JobModel
    courses: Any | None = None  # CourseModel when course outcomes exist
    params: dict[str, Any] = field(default_factory=dict)
