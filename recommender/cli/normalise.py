"""``recommender normalise``: free text -> occupation, skills, certificates, limits.

    recommender normalise "电焊工（二保焊）包吃住"
    recommender normalise --titles jobs.csv --out titles.csv

One text: prints the CSCO occupation (top-k with scores), the skills and
certificates found, and the ages, pay and perks written in it. Batch: reads the
``title`` column of a CSV and writes ``title, occupation_code, occupation_name,
score`` (code as in csco22.csv, empty when the title stays unknown).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from recommender.errors import ContractError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "normalise",
        help="map free text to CSCO occupations, skills, certificates and limits",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("text", nargs="?", help="a job title, skill or certificate phrase")
    p.add_argument("--titles", type=Path, help="CSV file with a 'title' column to classify")
    p.add_argument("--out", type=Path, help="output CSV for --titles (default: standard output)")
    p.add_argument("-k", type=int, default=3, help="occupation candidates to show (default 3)")
    p.add_argument("--taxonomy-extra", type=Path, help="folder of taxonomy CSVs that extend the shipped ones")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def _extra_dir(args: argparse.Namespace) -> Path | None:
    if args.taxonomy_extra is not None:
        return args.taxonomy_extra
    try:  # wired by the settings owner as RECOMMENDER_TAXONOMY_EXTRA
        from recommender.settings import get_settings

        value = getattr(get_settings(), "taxonomy_extra", None)
    except Exception:  # noqa: BLE001 - a broken setting must not hide the command
        value = None
    return Path(value) if value else None


def run(args: argparse.Namespace) -> int:
    from recommender.taxonomy import load_taxonomy

    if args.text is None and args.titles is None:
        print("error: give a TEXT or --titles FILE", file=sys.stderr)
        return 2
    tax = load_taxonomy(_extra_dir(args))
    if args.titles is not None:
        return _batch(args, tax)
    return _one(args, tax)


def _one(args: argparse.Namespace, tax) -> int:
    from recommender.normalise import CertificateNormaliser, SkillNormaliser, TitleClassifier, parse_posting_text

    text = args.text
    occupations = TitleClassifier(tax).top_k(text, args.k)
    skills = [m for m in SkillNormaliser(tax).match(text) if m.known]
    certs = [m for m in CertificateNormaliser(tax).match(text) if m.known]
    hints = parse_posting_text(text)
    if args.json:
        out = {
            "text": text,
            "occupations": [{"code": m.code, "name": m.name, "score": m.score, "level": m.level} for m in occupations],
            "skills": [{"id": m.id, "name": m.name, "score": m.score} for m in skills],
            "certificates": [{"id": m.id, "name": m.name, "score": m.score} for m in certs],
            "hints": {k: v for k, v in hints.as_dict().items() if v is not None},
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"text: {text}")
    print("occupation:")
    if not occupations:
        print("  (unknown)")
    for m in occupations:
        print(f"  {m.code}  {m.name}  score={m.score:.2f}")
    print("skills:")
    for m in skills or []:
        print(f"  {m.id}  {m.name}  score={m.score:.2f}")
    if not skills:
        print("  (none)")
    print("certificates:")
    for m in certs:
        print(f"  {m.id}  {m.name}  score={m.score:.2f}")
    if not certs:
        print("  (none)")
    print("limits and perks:")
    found = {k: v for k, v in hints.as_dict().items() if v is not None}
    if not found:
        print("  (none)")
    for k, v in found.items():
        print(f"  {k}: {v}")
    return 0


def _batch(args: argparse.Namespace, tax) -> int:
    from recommender.cli.recommend import safe_cell  # spreadsheet formula injection neutralised, as in every CSV we write
    from recommender.normalise import TitleClassifier

    path: Path = args.titles
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames is None or "title" not in reader.fieldnames:
                raise ContractError(f"{path} has no 'title' column (columns: {reader.fieldnames})")
            titles = [row["title"] or "" for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"cannot read {path}: {exc}") from exc
    clf = TitleClassifier(tax)
    results = clf.classify_many(titles)
    out = args.out.open("w", encoding="utf-8", newline="") if args.out else sys.stdout
    try:
        writer = csv.writer(out)
        writer.writerow(["title", "occupation_code", "occupation_name", "score"])
        for title, m in zip(titles, results, strict=True):
            writer.writerow([safe_cell(title), m.code or "", safe_cell(m.name or ""), f"{m.score:.4f}"])
    finally:
        if out is not sys.stdout:
            out.close()
    known = sum(m.known for m in results)
    print(f"classified {len(titles)} titles ({known} known, {len(titles) - known} unknown)", file=sys.stderr)
    return 0
