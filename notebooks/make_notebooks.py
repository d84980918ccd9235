"""Write the notebooks of this folder (and execute them with ``--execute``).

    python notebooks/make_notebooks.py            # write the .ipynb files (no outputs)
    python notebooks/make_notebooks.py --execute  # write and execute them in place (outputs committed)

Notebooks only call the package: every computation lives in ``recommender``
(``recommender.world``, ``recommender.lifecycle``, ``recommender.training``).
They run on ``data_samples/`` in a temporary store and registry. Needs
nbformat, nbclient and ipykernel (and matplotlib for the plots).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

SETUP = """\
import tempfile
from pathlib import Path

import matplotlib
import pandas as pd

import recommender

matplotlib.rcParams["figure.dpi"] = 80
pd.set_option("display.width", 160)
pd.set_option("display.precision", 3)
SAMPLES = Path(recommender.__file__).resolve().parent.parent / "data_samples"
WORK = Path(tempfile.mkdtemp(prefix="recommender-notebook-"))  # a temporary store and registry
"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01-explore-sample-world.ipynb": [
        ("md", "# 01 · Explore the sample world\n\nWho the workers are, where the jobs are, and how the synthetic world in "
               "`data_samples/` compares with the NBS 2023 migrant-worker survey it is calibrated to "
               "(`recommender.world.calibration_table`; see docs/world.md)."),
        ("code", SETUP),
        ("code", "from recommender.ingest import ingest\nfrom recommender.snapshot import Snapshot\nfrom recommender.store import Store\n\n"
                 "store = Store(f\"sqlite:///{WORK / 'store.db'}\")\nprint(ingest(SAMPLES, store).format_text()[:600])\n"
                 "snap = Snapshot.from_store(store)\nstore.counts()"),
        ("md", "## Calibration against the NBS figures\n\nEach calibrated marginal of the written files next to its target "
               "(`diff` in percentage points for shares, relative % for means)."),
        ("code", "from recommender.world import SOURCE, calibration_table\n\nprint(SOURCE)\ncalib = calibration_table(SAMPLES)\ncalib"),
        ("code", "calib.groupby('group')['ok'].agg(['sum', 'size'])"),
        ("md", "## Age\n\nThe age bands of the survey, target against the sample world; older workers (over 50) are almost a third."),
        ("code", "ages = calib[calib['group'] == 'age'].iloc[5:].set_index('marginal')[['target', 'actual']]\n"
                 "ages.plot.bar(title='Age bands: NBS 2023 target vs sample world (%)', rot=0, figsize=(7, 3.5));"),
        ("code", "(2024 - snap.workers['birth_year']).plot.hist(bins=40, title='Workers by age in 2024', figsize=(7, 3));"),
        ("md", "## Income and wages\n\nMean monthly income of the survey against the world, and the posted wages of the jobs."),
        ("code", "calib[calib['group'] == 'income'].set_index('marginal')[['target', 'actual']].plot.barh("
                 "title='Monthly income (CNY): target vs sample world', figsize=(7, 3));"),
        ("code", "snap.jobs[['wage_min', 'wage_max']].plot.hist(bins=40, alpha=0.6, title='Posted wages of the jobs (CNY / month)', figsize=(7, 3));"),
        ("md", "## Flows: where the workers come from and where they work\n\nMobility (outbound share, cross-province share) "
               "and the home and work regions of the survey against the world."),
        ("code", "flows = calib[calib['group'].isin(['mobility', 'home region', 'work region'])]\n"
                 "flows.assign(label=flows['group'] + ': ' + flows['marginal']).set_index('label')[['target', 'actual']].plot.barh("
                 "title='Mobility and regions: target vs sample world (%)', figsize=(8, 5));"),
        ("code", "snap.workers['mobility'].value_counts(normalize=True).rename('share of workers')"),
        ("md", "## Industries and outcomes"),
        ("code", "calib[calib['group'] == 'industry'].set_index('marginal')[['target', 'actual']].plot.barh("
                 "title='Industry of employment: target vs sample world (%)', figsize=(7, 3.5));"),
        ("code", "snap.placements['outcome'].value_counts().rename('placements by outcome')"),
        ("code", "snap.placements.set_index('date').resample('MS').size().plot(title='Placement outcomes per month', figsize=(7, 3));"),
    ],
    "02-evaluate-and-fairness.ipynb": [
        ("md", "# 02 · Evaluate, per age band and scope, and what the older-worker weight buys\n\n"
               "The held-out evaluation the retrain uses (`recommender.lifecycle.evaluation.evaluate_candidate`): fit on "
               "outcomes before the last 90 days, then for every worker who came back in those days rank the jobs that "
               "were open and feasible for them that day, and compare with the baselines. Small settings keep it quick."),
        ("code", SETUP),
        ("code", "from recommender.ingest import ingest\nfrom recommender.snapshot import Snapshot\nfrom recommender.store import Store\n"
                 "from recommender.training.pipeline import TrainConfig\nfrom recommender.lifecycle.evaluation import evaluate_candidate\n"
                 "from recommender.lifecycle import report\n\n"
                 "store = Store(f\"sqlite:///{WORK / 'store.db'}\")\ningest(SAMPLES, store)\n"
                 "cfg = TrainConfig(negatives=4, eval_max_queries=300, policy_weights=(0.0, 1.0, 4.0))\n"
                 "ev = evaluate_candidate(Snapshot.from_store(store), cfg, courses=False)\nprint(ev.split.describe(), '-', ev.queries, 'held-out workers')"),
        ("md", "## Metrics by age band, cold start and warm\n\nNDCG@10 per segment and method (`learned` is the two-stage ranker)."),
        ("code", "ev.jobs.pivot_table(index='segment', columns='method', values='ndcg@10', sort=False)"),
        ("code", "report.plot_metrics(ev);"),
        ("md", "## Scope: local, province, outbound\n\nWhat share of each method's top 10 is local, in the province or outbound — "
               "overall and, for the learned ranker, per age band (older workers mostly want work near home)."),
        ("code", "ev.mix"),
        ("code", "report.plot_mix(ev);"),
        ("md", "## What the older-worker weight buys\n\nThe ranker at each weight (the share of its older-worker correction and the "
               "serving boost for workers 50+): NDCG@10 for 50+ and for everyone, and the local share of the 50+ lists."),
        ("code", "ev.tradeoff"),
        ("code", "report.plot_tradeoff(ev);"),
        ("md", "## Calibration and feature importances"),
        ("code", "report.plot_calibration(ev);"),
        ("code", "report.plot_importances(ev, top=15);"),
    ],
    "03-retrain-walkthrough.ipynb": [
        ("md", "# 03 · Retrain walkthrough: import new placements, retrain, compare, promote, roll back\n\n"
               "History is replayed: the store first holds the outcomes before the last 90 days and model v1 is trained "
               "on them; then the later placements and enrolments come in. The CLI does the same: `recommender retrain`, "
               "`recommender models list | show | promote | rollback` (see docs/lifecycle.md)."),
        ("code", SETUP),
        ("code", "from recommender.ingest import ingest\nfrom recommender.lifecycle import GateConfig, RetrainConfig, count_new_outcomes, retrain\n"
                 "from recommender.lifecycle.demo import heldout_start, split_outcomes\nfrom recommender.registry import Registry\n"
                 "from recommender.snapshot import Snapshot\nfrom recommender.store import Store\n"
                 "from recommender.training.pipeline import TrainConfig, train_and_register\n\n"
                 "history, new = split_outcomes(SAMPLES, WORK / 'files', before=heldout_start(SAMPLES))\n"
                 "store = Store(f\"sqlite:///{WORK / 'store.db'}\")\nregistry = Registry(WORK / 'models')\n"
                 "ingest(history, store)\nv1, _ = train_and_register(Snapshot.from_store(store), registry, TrainConfig(negatives=4), evaluate=False)\n"
                 "registry.promoted() == v1.version"),
        ("md", "## New placements come in\n\nThe retrain counts the outcomes recorded (`updated_at`) since the promoted model read its data."),
        ("code", "print(ingest(new, store).format_text()[:400])\ncount_new_outcomes(store, pd.Timestamp(v1.manifest['trained_at']).tz_convert(None).to_pydatetime())"),
        ("md", "## Retrain, compare, promote\n\nThe candidate and the promoted v1 are evaluated on the same held-out window "
               "and queries; the gate promotes it only if NDCG@10 overall, for 50+ and for cold-start workers is not "
               "worse beyond the tolerance (0.01 absolute or 2% relative)."),
        ("code", "small = TrainConfig(negatives=4, eval_max_queries=200, policy_weights=(0.0, 1.0))\n"
                 "log = lambda step, fraction, message: print(f'[{fraction:4.0%}] {message}')\n"
                 "good = retrain(store, registry, RetrainConfig(train=small, courses=False), progress=log)\nprint(good.status, good.version)"),
        ("code", "pd.DataFrame(good.gate['checks'])"),
        ("code", "registry.promoted() == good.version"),
        ("md", "Run again with nothing new: nothing to do (safe from cron)."),
        ("code", "retrain(store, registry, RetrainConfig(train=small, courses=False)).message"),
        ("md", "## A bad candidate is refused\n\nA gate self-test: the candidate is trained on shuffled labels. It is saved, with "
               "the reason in its manifest, but not promoted."),
        ("code", "bad = retrain(store, registry, RetrainConfig(train=small, courses=False, force=True, shuffle_labels=True))\n"
                 "print(bad.status)\nprint(registry.get(bad.version).manifest['gate']['reason'])"),
        ("code", "pd.DataFrame([{'version': v.version, 'promoted': v.version == registry.promoted(),\n"
                 "               'gate': (v.manifest.get('gate') or {}).get('passed'), 'compared_with': v.manifest.get('compared_with')}\n"
                 "              for v in registry.versions()])"),
        ("md", "## Roll back\n\nThe pointer moves back to the version served before; a running service swaps it in without a restart."),
        ("code", "registry.rollback().version == v1.version"),
        ("code", "[(h['version'][-6:], h['previous'] and h['previous'][-6:], h['reason'][:60]) for h in registry.history()]"),
        ("md", "## The report\n\nEach retrained version holds `report.html`, a self-contained page with the plots "
               "(see docs/screenshots/model-report.png)."),
        ("code", "report_path = registry.get(good.version).path / 'report.html'\nprint(report_path.name, report_path.stat().st_size, 'bytes,',\n"
                 "      report_path.read_text().count('data:image/png'), 'plots')"),
    ],
}


def build(name: str) -> object:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src) for kind, src in NOTEBOOKS[name]]
    return nb


def execute(nb: object, *, timeout: int = 3600) -> object:
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


def main(argv: list[str] | None = None) -> int:
    import nbformat

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true")
    parser.add_argument("names", nargs="*", help="notebooks to write (default: all)")
    args = parser.parse_args(argv)
    for name in args.names or list(NOTEBOOKS):
        nb = build(name)
        if args.execute:
            print(f"executing {name} ...", file=sys.stderr, flush=True)
            execute(nb)
        nbformat.write(nb, HERE / name)
        print(f"wrote {HERE / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
