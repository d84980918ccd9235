"""The model lifecycle: retrain on new outcomes, gate, report, promote, roll back.

- ``lock``        one retrain at a time per registry (an OS file lock)
- ``evaluation``  the held-out evaluation a gate and a report need (candidate and
                  promoted model on the same split and the same queries)
- ``gate``        the promotion rule: not worse than the promoted model beyond a tolerance
- ``report``      a self-contained HTML page with plots, written into the version folder
- ``retrain``     the whole run: count new outcomes, train, evaluate, gate, save, promote

See docs/lifecycle.md.
"""

from __future__ import annotations

from recommender.lifecycle.gate import GateConfig, GateVerdict, apply_gate
from recommender.lifecycle.lock import RetrainBusy, RetrainLock
from recommender.lifecycle.retrain import RetrainConfig, RetrainResult, count_new_outcomes, retrain

__all__ = [
    "GateConfig",
    "GateVerdict",
    "RetrainBusy",
    "RetrainConfig",
    "RetrainLock",
    "RetrainResult",
    "apply_gate",
    "count_new_outcomes",
    "retrain",
]
