"""``recommender recommend``: batch recommendations for a file of worker ids."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from recommender.cli._common import progress


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
    p.add_argument("--models", help="registry folder (default: RECOMMENDER_MODELS)")
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

    from recommender.errors import ContractError, RecommenderError
    from recommender.service import Recommender
    from recommender.settings import get_settings

    settings = get_settings()
    if args.db or args.models:
        settings = settings.model_copy(update={k: v for k, v in (("db", args.db), ("models", args.models and Path(args.models))) if v})
    ids = pd.read_csv(args.workers, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    if "worker_id" not in ids.columns:
        raise ContractError(f"{args.workers}: no worker_id column")
    rec = Recommender.load(settings)
    workers = [w.strip() for w in ids["worker_id"].tolist() if w.strip()]
    item_type = "course" if args.item_type == "courses" else "job"
    written = unknown = 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["worker_id", "rank", "item_type", "item_id", "score", "scope", "reasons"])
        batch = rec.recommend_batch(workers, item_type=item_type, k=args.k, scope=args.scope, as_of=args.as_of, age_policy=args.age_policy)
        for worker, result in progress(zip(workers, batch, strict=True), desc="writing", total=len(workers)):
            if isinstance(result, RecommenderError):
                unknown += 1
                print(f"worker {worker}: {result}", file=sys.stderr)
                continue
            for item in result.items:
                reasons = "; ".join(getattr(r, args.lang) for r in item.reasons + item.warnings)
                out.writerow([safe_cell(worker), item.rank, item.item_type, safe_cell(item.item_id), f"{item.score:.5f}",
                              item.scope or "", safe_cell(reasons)])
                written += 1
    print(f"{len(workers) - unknown} workers, {written} recommendations written to {args.out}; "
          f"{unknown} workers not found or invalid; model {rec.version}", file=sys.stderr)
    return 0
