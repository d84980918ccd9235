"""Ranking metrics over frames of recommendations and held-out outcomes.

Recommendations are rows (worker, item, rank); truth is rows (worker, item,
relevance > 0). Metrics are computed per worker, vectorised with pandas, and
averaged by the caller over whatever groups it needs (age band, cold start).
Gains are exponential (2**rel - 1), so a retained hire outweighs a click.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender import columns as C


def _gain(rel: np.ndarray | pd.Series) -> np.ndarray:
    return np.power(2.0, np.asarray(rel, dtype=float)) - 1.0


def per_worker_metrics(
    recs: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    k: int = 10,
    worker_col: str = C.WORKER,
    item_col: str = C.ITEM,
    rank_col: str = C.RANK,
    relevance_col: str = C.RELEVANCE,
) -> pd.DataFrame:
    """NDCG@k, Recall@k and MRR@k for every worker that has at least one relevant item.

    ``rank`` starts at 1. Workers in ``truth`` without recommendations score 0;
    workers without relevant items are not evaluated (their metrics are undefined).
    """
    truth = truth.loc[truth[relevance_col] > 0, [worker_col, item_col, relevance_col]]
    truth = truth.groupby([worker_col, item_col], as_index=False)[relevance_col].max()
    workers = pd.Index(truth[worker_col].unique(), name=worker_col)
    out = pd.DataFrame(index=workers)
    if workers.empty:
        return out.assign(ndcg=pd.Series(dtype=float), recall=pd.Series(dtype=float), mrr=pd.Series(dtype=float)).reset_index()
    top = recs.loc[recs[rank_col] <= k, [worker_col, item_col, rank_col]]
    hits = top.merge(truth, on=[worker_col, item_col], how="inner")
    hits["dcg"] = _gain(hits[relevance_col]) / np.log2(hits[rank_col].to_numpy(dtype=float) + 1.0)
    dcg = hits.groupby(worker_col)["dcg"].sum()
    ideal = truth.sort_values([worker_col, relevance_col], ascending=[True, False]).copy()
    ideal["pos"] = ideal.groupby(worker_col).cumcount() + 1
    ideal = ideal.loc[ideal["pos"] <= k]
    ideal["idcg"] = _gain(ideal[relevance_col]) / np.log2(ideal["pos"].to_numpy(dtype=float) + 1.0)
    idcg = ideal.groupby(worker_col)["idcg"].sum()
    n_rel = truth.groupby(worker_col).size()
    n_hit = hits.groupby(worker_col).size()
    first = hits.groupby(worker_col)[rank_col].min()
    out["ndcg"] = (dcg.reindex(workers).fillna(0.0) / idcg.reindex(workers)).to_numpy()
    out["recall"] = (n_hit.reindex(workers).fillna(0) / np.minimum(n_rel.reindex(workers), k)).to_numpy()
    out["mrr"] = (1.0 / first.reindex(workers)).fillna(0.0).to_numpy()
    return out.reset_index()


def catalogue_coverage(recs: pd.DataFrame, catalogue_size: int, *, item_col: str = C.ITEM, rank_col: str = C.RANK, k: int = 10) -> float:
    """Share of the catalogue that appears in anyone's top k."""
    if catalogue_size <= 0:
        return 0.0
    return float(recs.loc[recs[rank_col] <= k, item_col].nunique()) / float(catalogue_size)
