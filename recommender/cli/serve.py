"""``recommender serve``: start the HTTP service on embedded defaults."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "serve",
        help="start the API service (first start: imports the sample world and trains a model)",
        description="Start the FastAPI service with uvicorn. On first start an empty store is filled with "
        "data_samples/ and, when no model is promoted, one is trained on the store and promoted.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="service processes, each accepting on its own SO_REUSEPORT socket (api/runner.py)")
    p.add_argument("--no-bootstrap", action="store_true", help="neither import sample data nor train a first model")
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from recommender.bootstrap import ensure_model, ensure_sample_data
    from recommender.registry import Registry
    from recommender.settings import get_settings
    from recommender.store import Store

    settings = get_settings()
    if not args.no_bootstrap:
        store = Store(settings.db)
        report = ensure_sample_data(store)
        if report is not None:
            _say(f"empty store: imported the sample world ({report.taken} rows, {report.rejected} rejected)")
        registry = Registry(settings.models)
        if registry.promoted() is None:
            _say("no model yet: training one on the store (about a minute for the sample world) ...")
            mv = ensure_model(store, registry, progress=_say)
            if mv is not None:
                _say(f"trained and promoted model {mv.version}")
        store.dispose()
    # several processes: each accepts on its own SO_REUSEPORT socket, so the kernel spreads the connections
    from api.runner import run as run_service

    run_service(args.host, args.port, args.workers)
    return 0
