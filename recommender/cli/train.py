"""``recommender train`` and ``recommender evaluate``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB)")
    p.add_argument("--test-days", type=int, default=90, help="held-out window at the end of the outcomes (days)")
    p.add_argument("--negatives", type=int, default=10, help="sampled feasible negatives per training query")
    p.add_argument("--objective", choices=["regression", "classification"], default="regression")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-queries", type=int, default=4000, help="held-out workers evaluated at most (sampled)")
    p.add_argument("--cluster", help="build the job training pairs (negative sampling) and their features on Dask: 'local' "
                   "(a LocalCluster of --processes processes) or a scheduler address such as tcp://10.0.0.5:8786; "
                   "same model as one process (default: RECOMMENDER_TRAIN_CLUSTER, else one process)")
    p.add_argument("--processes", type=int, help="processes of a --cluster local run (default: one per core)")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    t = subparsers.add_parser(
        "train",
        help="train the job and course rankers from the store and save a model version",
        description="Evaluate on a held-out time window, refit on all outcomes, save a versioned bundle with its "
        "manifest in RECOMMENDER_MODELS. The first model is promoted.",
    )
    _common(t)
    t.add_argument("--models", help="registry folder (default: RECOMMENDER_MODELS)")
    t.add_argument("--no-evaluate", action="store_true", help="skip the held-out evaluation (faster)")
    t.add_argument("--promote", choices=["first", "always", "never"], default="first")
    t.set_defaults(func=run_train)
    e = subparsers.add_parser(
        "evaluate",
        help="time-split evaluation of the learned rankers against baselines",
        description="Fit on outcomes before the held-out window, rank feasible jobs for every worker who came back "
        "in it, and print NDCG@10, Recall@10, MRR@10 and coverage per method, age band and cold/warm workers.",
    )
    _common(e)
    e.set_defaults(func=run_evaluate)


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from recommender.settings import get_settings
    from recommender.training.pipeline import TrainConfig

    return TrainConfig.from_settings(
        get_settings(),
        test_days=args.test_days,
        negatives=args.negatives,
        objective=args.objective,
        seed=args.seed,
        eval_max_queries=args.max_queries,
    )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@contextmanager
def _cluster(args: argparse.Namespace) -> Iterator[None]:
    """Inside the block the training pipeline uses a Dask client, when --cluster (or the setting) names one."""
    from recommender.settings import get_settings

    address = args.cluster or get_settings().train_cluster
    if not address:
        yield
        return
    from recommender.distributed.cluster import close, connect
    from recommender.distributed.training import use_cluster

    client = connect(address, n_workers=args.processes)
    _say(f"training pairs and features on Dask: {address}")
    try:
        with use_cluster(client):
            yield
    finally:
        close(client)


def print_evaluation(evaluation) -> None:  # type: ignore[no-untyped-def]
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.float_format", "{:.3f}".format):
        print(f"held-out window: {evaluation.split.describe()}")
        print("\nJobs")
        print(evaluation.jobs.to_string(index=False))
        print("\nOlder-worker assistance: weight trade-off (learned ranker)")
        print(evaluation.tradeoff.to_string(index=False))
        if evaluation.courses is not None:
            print("\nCourses")
            print(evaluation.courses.to_string(index=False))


def run_evaluate(args: argparse.Namespace) -> int:
    from recommender.settings import get_settings
    from recommender.snapshot import Snapshot
    from recommender.store import Store
    from recommender.training.pipeline import evaluate_snapshot

    store = Store(args.db or get_settings().db)
    with _cluster(args):
        evaluation = evaluate_snapshot(Snapshot.from_store(store, impressions=True), _config(args), progress=_say)
    print_evaluation(evaluation)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from recommender.registry import Registry
    from recommender.settings import get_settings
    from recommender.snapshot import Snapshot
    from recommender.store import Store
    from recommender.training.pipeline import train_and_register

    settings = get_settings()
    store = Store(args.db or settings.db)
    registry = Registry(args.models or settings.models)
    with _cluster(args):
        mv, evaluation = train_and_register(
            Snapshot.from_store(store, impressions=True), registry, _config(args), evaluate=not args.no_evaluate, promote=args.promote,
            progress=_say,
        )
    if evaluation is not None:
        print_evaluation(evaluation)
    promoted = registry.promoted() == mv.version
    print(f"\nsaved model {mv.version} in {mv.path}" + (" (promoted)" if promoted else ""))
    return 0
