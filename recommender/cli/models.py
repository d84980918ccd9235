"""``recommender models list | show V | promote V | rollback``: the model registry."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "models",
        help="list, show, promote and roll back model versions",
        description="The model registry (RECOMMENDER_MODELS). A running service picks up a promotion or rollback "
        "by itself (hot swap), without a restart.",
    )
    p.add_argument("--models", help="registry folder (default: RECOMMENDER_MODELS)")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION")
    ls = sub.add_parser("list", help="versions, oldest first, with their gate verdict and headline metrics")
    ls.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="one version's manifest: data, metrics, gate verdict, report")
    show.add_argument("version")
    show.add_argument("--json", action="store_true", help="the whole manifest as JSON")
    pr = sub.add_parser("promote", help="serve this version (the gate is not consulted: an operator's decision)")
    pr.add_argument("version")
    pr.add_argument("--reason", default="promoted by hand", help="kept in the promotion history")
    sub.add_parser("rollback", help="serve the version that was promoted before the current one")
    hist = sub.add_parser("history", help="promotions, oldest first")
    hist.add_argument("--json", action="store_true")
    p.set_defaults(func=run_models, models_parser=p)


def _registry(args: argparse.Namespace) -> Any:
    from recommender.registry import Registry
    from recommender.settings import get_settings

    return Registry(args.models or get_settings().models)


def headline(manifest: dict[str, Any], method: str = "learned") -> dict[str, float | None]:
    """NDCG@10 overall, 50+ and cold start of one method from a manifest's metrics."""
    out: dict[str, float | None] = {"all": None, "age 50+": None, "cold start": None}
    for row in (manifest.get("metrics") or {}).get("jobs", []):
        if row.get("method") == method and row.get("segment") in out:
            out[row["segment"]] = row.get("ndcg@10")
    return out


def _fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def run_models(args: argparse.Namespace) -> int:
    action = getattr(args, "models_command", None)
    if action is None:
        args.models_parser.print_help()
        return 2
    reg = _registry(args)
    if action == "list":
        promoted = reg.promoted()
        rows = []
        for v in reg.versions():
            gate = v.manifest.get("gate") or {}
            verdict = "" if not gate else ("passed" if gate.get("passed") else "refused")
            rows.append({"version": v.version, "created": v.manifest.get("created"), "promoted": v.version == promoted,
                         "gate": verdict, "ndcg@10": headline(v.manifest)})
        if args.json:
            print(json.dumps({"promoted": promoted, "data": rows}, ensure_ascii=False))
            return 0
        if not rows:
            print(f"no model versions in {reg.root}")
            return 0
        print(f"{'':2}{'version':<30} {'created':<26} {'gate':<8} ndcg@10 all / 50+ / cold")
        for r in rows:
            h = r["ndcg@10"]
            print(f"{'* ' if r['promoted'] else '  '}{r['version']:<30} {str(r['created']):<26} {r['gate']:<8} "
                  f"{_fmt(h['all'])} / {_fmt(h['age 50+'])} / {_fmt(h['cold start'])}")
        print("\n* promoted")
        return 0
    if action == "show":
        mv = reg.get(args.version)
        m = mv.manifest
        if args.json:
            print(json.dumps(m, ensure_ascii=False, indent=2, default=str))
            return 0
        gate = m.get("gate") or {}
        print(f"version      {mv.version}{'  (promoted)' if reg.promoted() == mv.version else ''}")
        print(f"created      {m.get('created')}")
        print(f"trained at   {m.get('trained_at')}  data {m.get('data_fingerprint')}")
        print(f"window       {m.get('training_window')}  held out {m.get('split')}")
        print(f"rows         {m.get('rows')}")
        if m.get("new_outcomes") is not None:
            print(f"new outcomes {m.get('new_outcomes')}")
        h = headline(m)
        print(f"ndcg@10      all {_fmt(h['all'])}  50+ {_fmt(h['age 50+'])}  cold start {_fmt(h['cold start'])}")
        if gate:
            print(f"compared     {m.get('compared_with')}: {gate.get('comparison') or ''}")
            print(f"gate         {'passed' if gate.get('passed') else 'REFUSED'}: {gate.get('reason')}")
        if (mv.path / "report.html").exists():
            print(f"report       {mv.path / 'report.html'}")
        return 0
    if action == "promote":
        previous = reg.promoted()
        mv = reg.promote(args.version, reason=args.reason)
        print(f"promoted {mv.version} (was {previous})")
        return 0
    if action == "rollback":
        previous = reg.promoted()
        mv = reg.rollback()
        print(f"rolled back to {mv.version} (was {previous})")
        return 0
    if action == "history":
        hist = reg.history()
        if args.json:
            print(json.dumps(hist))
        else:
            for r in hist:
                print(f"{r['at']}  {r['version']}  (was {r.get('previous')})  {r.get('reason', '')}")
        return 0
    return 2
