"""Accuracy and throughput of the normalisers on the labelled evaluation set.

    python benchmarks/bench_normalise.py [--eval benchmarks/normalise_eval/normalise_eval.csv] [--errors N]

Prints, per kind: top-1 accuracy of the best guess (the first of ``top_k`` for
titles, whatever its score; for skills and certificates the first known match,
as ``match`` reports no id under its threshold; an empty guess counts as right
only when the label is empty), top-3, the strict accuracy of the asserted
answers ("known ok": ``classify``/``match`` returned the labelled id, or
unknown for an empty label), the rate of confident wrong answers (an id was
returned and it is not the label), coverage (share answered), accuracy on hand-written vs
generated rows, and the share of rows that are an exact alias of the taxonomy
(honesty check: a high share would make the accuracy meaningless), and the
rate of wrong answers with a score of 0.9 or more. Then
throughput on one core: cold (no caches at all) and warm (second pass, caches
filled).
"""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from recommender.normalise import CertificateNormaliser, SkillNormaliser, TitleClassifier  # noqa: E402
from recommender.normalise.text import make_key, strip_noise  # noqa: E402
from recommender.taxonomy import load_taxonomy  # noqa: E402

HIGH = 0.9  # a score callers may treat as "sure"
DEFAULT_EVAL = Path(__file__).resolve().parent / "normalise_eval" / "normalise_eval.csv"


def _predict(kind: str, text: str, skills, certs, titles) -> tuple[str | None, list[str], float]:
    if kind == "title":
        top = titles.top_k(text, 3)
        best = titles.classify(text)
        return best.code, [m.code for m in top if m.code], best.score
    norm = skills if kind == "skill" else certs
    found = [m for m in norm.match(text) if m.id is not None]
    return (found[0].id if found else None), [m.id for m in found], (found[0].score if found else 0.0)


def _clear(*objs) -> None:
    make_key.cache_clear()
    strip_noise.cache_clear()
    for o in objs:
        o._cache.clear()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval", type=Path, default=DEFAULT_EVAL)
    ap.add_argument("--errors", type=int, default=0, help="print up to N wrong rows per kind")
    args = ap.parse_args()
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    except (AttributeError, OSError):
        pass

    with args.eval.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    t0 = time.perf_counter()
    tax = load_taxonomy()
    t1 = time.perf_counter()
    skills, certs, titles = SkillNormaliser(tax), CertificateNormaliser(tax), TitleClassifier(tax)
    t2 = time.perf_counter()
    print(f"eval rows: {len(rows)}   taxonomy load {t1 - t0:.2f}s   build normalisers {t2 - t1:.2f}s")

    aliases = set(skills._index.exact) | set(certs._index.exact) | set(titles._index.exact)
    stats: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    errors: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        kind, text, expected = r["kind"], r["text"], r["expected_id"] or None
        pred, top, score = _predict(kind, text, skills, certs, titles)
        st = stats[kind]
        st["n"] += 1
        ok = pred == expected
        guess = top[0] if top else None
        st["correct"] += guess == expected
        st["known_ok"] += ok
        st["answered"] += pred is not None
        st["confident_wrong"] += pred is not None and pred != expected
        st["wrong_hi"] += pred is not None and pred != expected and score >= HIGH
        st["top3"] += (expected in top[:3]) if expected else (pred is None)
        group = "hand" if r["source"] == "hand" else "generated"
        st[f"{group}_n"] += 1
        st[f"{group}_correct"] += guess == expected
        st["unknown_n"] += expected is None
        st["unknown_ok"] += expected is None and pred is None
        st["exact_alias"] += make_key(text) in aliases
        if (not ok or guess != expected) and len(errors[kind]) < args.errors:
            errors[kind].append(f"  {text!r}: expected {expected}, got {pred} (top {top[:3]})")

    print(f"\n{'kind':<12}{'n':>6}{'top-1':>8}{'top-3':>8}{'known ok':>10}{'conf.wrong':>11}{'wrong>=.9':>10}{'answered':>10}{'hand':>8}{'gen.':>8}{'unk.ok':>8}{'exact-alias':>12}")
    total = defaultdict(float)
    for kind in ("skill", "certificate", "title"):
        st = stats[kind]
        n = st["n"] or 1
        for k, v in st.items():
            total[k] += v
        print(
            f"{kind:<12}{int(st['n']):>6}{st['correct'] / n:>8.1%}{st['top3'] / n:>8.1%}{st['known_ok'] / n:>10.1%}"
            f"{st['confident_wrong'] / n:>11.2%}{st['wrong_hi'] / n:>10.2%}{st['answered'] / n:>10.1%}"
            f"{st['hand_correct'] / max(1, st['hand_n']):>8.1%}{st['generated_correct'] / max(1, st['generated_n']):>8.1%}"
            f"{st['unknown_ok'] / max(1, st['unknown_n']):>8.1%}{st['exact_alias'] / n:>12.1%}"
        )
    n = total["n"] or 1
    print(f"{'all':<12}{int(total['n']):>6}{total['correct'] / n:>8.1%}{total['top3'] / n:>8.1%}{total['known_ok'] / n:>10.1%}{total['confident_wrong'] / n:>11.2%}{total['wrong_hi'] / n:>10.2%}{total['answered'] / n:>10.1%}")
    for kind, errs in errors.items():
        print(f"\nwrong {kind}:")
        print("\n".join(errs))

    # Throughput on one core. "cold" is one public call per string, as a caller
    # makes it (classify for a title, match for a skill/certificate cell);
    # "cold, eval loop" repeats the accuracy loop above, which asks each title
    # twice (top_k and classify), so titles count double there.
    texts = [(r["kind"], r["text"]) for r in rows]
    cold = [SkillNormaliser(tax, cache_size=0), CertificateNormaliser(tax, cache_size=0), TitleClassifier(tax, cache_size=0)]
    _clear(*cold)
    t = time.perf_counter()
    for kind, text in texts:
        if kind == "title":
            cold[2].classify(text)
        else:
            (cold[0] if kind == "skill" else cold[1]).match(text)
        make_key.cache_clear()
        strip_noise.cache_clear()
    cold_rate = len(texts) / (time.perf_counter() - t)
    _clear(*cold)
    t = time.perf_counter()
    for kind, text in texts:
        _predict(kind, text, *cold)
        make_key.cache_clear()
        strip_noise.cache_clear()
    cold_eval_rate = len(texts) / (time.perf_counter() - t)
    _clear(skills, certs, titles)
    for kind, text in texts:
        _predict(kind, text, skills, certs, titles)
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        for kind, text in texts:
            _predict(kind, text, skills, certs, titles)
    warm_rate = reps * len(texts) / (time.perf_counter() - t)
    cells = [r["text"] for r in rows if r["kind"] == "skill"]
    _clear(skills)
    t = time.perf_counter()
    skills.match_many(cells)
    batch_rate = len(cells) / (time.perf_counter() - t)
    print(
        f"\nthroughput, one core: cold {cold_rate:,.0f} strings/s (no caches; {cold_eval_rate:,.0f}/s in the eval loop)   "
        f"warm {warm_rate:,.0f} strings/s (caches filled)   skill match_many cold {batch_rate:,.0f} cells/s"
    )


if __name__ == "__main__":
    main()
