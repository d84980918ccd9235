"""``recommender recommend``: batch recommendations for a file of worker ids."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from recommender.cli._common import progress

IN_PROCESS_SLICE = 5_000  # workers recommended (and written) at a time without --cluster


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "recommend",
        help="batch recommendations with the promoted model for the worker_id column of a CSV",
        description="Reads worker ids from FILE (column worker_id), recommends jobs or courses with the promoted "
        "model over the store's items (capacity-aware across the batch), and writes CSV with columns "
        "worker_id, rank, item_type, item_id, score, scope, reasons. Unknown workers are reported, not fatal.",
    )
    p.add_argument("--workers", required=True, type=Path, help="CSV with a worker_id column")
    p.add_argument("--out", required=True, type=Path, help="output CSV")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--type", dest="item_type", choices=["jobs", "courses"], default="jobs")
    p.add_argument("--scope", choices=["local", "province", "outbound", "all", "balanced"], default="all")
    p.add_argument("--as-of", help="YYYY-MM-DD (default: today, or the store's last posting day for historical data)")
    p.add_argument("--age-policy", choices=["strict", "flag"])
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the reasons column")
    p.add_argument("--db", help="store URL (default: RECOMMENDER_DB)")
    p.add_argument("--models", help="registry folder or fsspec URL (default: RECOMMENDER_MODELS)")
    p.add_argument("--cluster", help="score on Dask: 'local' (a LocalCluster of --processes processes) or a scheduler "
                   "address (tcp://host:8786). Workers need the same store URL and registry. Exposure caps are split "
                   "between partitions in proportion to their size (see recommender.distributed.batch)")
    p.add_argument("--processes", type=int, help="processes of a --cluster local run (default: one per core)")
    p.add_argument("--partition-size", type=int, help="workers per Dask task (default: about 4 tasks per process, at most 2000)")
    p.set_defaults(func=run)


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formula injection in text we write (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r" and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from recommender.errors import ContractError
    from recommender.settings import get_settings

    settings = get_settings()
    if args.db or args.models:
        settings = settings.model_copy(update={k: v for k, v in (("db", args.db), ("models", args.models)) if v})
    ids = pd.read_csv(args.workers, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "worker_id" not in ids.columns:
        raise ContractError(f"{args.workers}: no worker_id column")
    workers = [w.strip() for w in ids["worker_id"].tolist() if w.strip()]
    item_type = "course" if args.item_type == "courses" else "job"
    version = _version(settings)
    written = unknown = 0
    served: set[str] = set()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["worker_id", "rank", "item_type", "item_id", "score", "scope", "reasons"])
        for rows, errors in _results(args, settings, workers, item_type):
            for worker, message in errors:
                unknown += 1
                print(f"worker {worker}: {message}", file=sys.stderr)
            for r in rows.itertuples(index=False):
                out.writerow([safe_cell(r.worker_id), r.rank, r.item_type, safe_cell(r.item_id), f"{r.score:.5f}",
                              r.scope, safe_cell(r.reasons)])
                written += 1
                served.add(r.worker_id)
    empty = len(set(workers)) - unknown - len(served)
    print(f"{len(workers) - unknown} workers, {written} recommendations written to {args.out}; "
          f"{unknown} workers not found or invalid; model {version}", file=sys.stderr)
    if empty > 0:
        print(f"{empty} workers got no {item_type}: nothing feasible for them on that day, or the batch's "
              f"exposure caps (a few workers per job opening) were used up before their turn",
              file=sys.stderr)
    return 0


def _version(settings: object) -> str:
    from recommender.errors import NotFoundError
    from recommender.registry import Registry

    version = Registry(settings.models).promoted()  # type: ignore[attr-defined]
    if version is None:
        raise NotFoundError(f"no promoted model in {settings.models}; run `recommender train`")  # type: ignore[attr-defined]
    return version


def _results(args: argparse.Namespace, settings: object, workers: list[str], item_type: str):  # type: ignore[no-untyped-def]
    """(rows, errors) chunks in input order: one chunk in-process, one per partition on Dask."""
    from recommender.distributed.rows import to_rows

    opts = dict(item_type=item_type, k=args.k, scope=args.scope, as_of=args.as_of, age_policy=args.age_policy)
    if not args.cluster:
        from recommender.service import Recommender

        rec = Recommender.load(settings, version=_version(settings))  # type: ignore[arg-type]
        # slices through one ledger: the file of one whole batch, without a million results in memory
        ledger = rec.new_ledger() if item_type == "job" else None
        for a in range(0, len(workers), IN_PROCESS_SLICE):
            part = workers[a : a + IN_PROCESS_SLICE]
            yield to_rows(part, rec.recommend_batch(part, ledger=ledger, **opts), lang=args.lang)
        return
    from recommender.distributed import require_dask

    require_dask()
    from recommender.distributed.batch import iter_recommend, pinned_spec
    from recommender.distributed.cluster import close, connect

    client = connect(args.cluster, n_workers=args.processes)
    try:
        spec = pinned_spec(settings, _version(settings))  # type: ignore[arg-type]
        parts = iter_recommend(client, workers, spec, partition_size=args.partition_size, output="rows", lang=args.lang, **opts)
        for _, _, (rows, errors) in progress(parts, desc="partitions", total=-(-len(workers) // max(1, args.partition_size or 1))
                                                if args.partition_size else None):
            yield rows, errors
    finally:
        close(client)
