"""Shared data and fakes for the API tests (imported by conftest and the tests)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from recommender.errors import NotFoundError, RecommenderError
from recommender.registry import Registry
from recommender.schemas import Recommendations, RecommendedItem, WorkerProfile
from recommender.settings import Settings
from recommender.store import Store

ADMIN = "admin-key-0123456789abcdef"
COUNSELLOR = "counsellor-key-0123456789ab"
PORTAL = "portal-key-0123456789abcdef"
KEYS = {"admin": ADMIN, "counsellor": COUNSELLOR, "portal": PORTAL}
ROLES = ("admin", "counsellor", "portal")


def headers(role: str | None) -> dict[str, str]:
    return {} if role is None else {"X-API-Key": KEYS[role]}


WORKERS = """worker_id,birth_year,gender,education,home_region,current_region,skills,certificates,experience_years,expected_wage,mobility,registered_on
W1,1980,M,junior_high,510112,440305,电焊;钢筋绑扎,焊工证,10,6000,anywhere,2024-03-18
W2,1970,F,primary,411625,,保洁、做饭,,,3500,local,2024-04-01
W3,1995,,senior_high,广东省深圳市,,开叉车；仓库管理,叉车证,3,5000,province,
"""
JOBS = """job_id,employer_id,title,skills,certificates,region,wage_min,wage_max,age_min,age_max,education_min,housing,social_insurance,employment_type,openings,posted_on,closes_on
J1,E1,电焊工（二保焊）,电焊,焊工证,440305,6000,8000,18,50,,是,1,full_time,3,2024-03-01,2024-09-01
J2,E2,保洁员,保洁,,411625,3000,3500,,60,,no,0,part_time,,2024-03-05,
J3,E1,叉车司机,开叉车,叉车证,440306,5000,6500,18,45,,1,1,full_time,2,2024-05-01,2024-06-01
"""
EMPLOYERS = """employer_id,name,industry,wage_arrears_listed
E1,某机械厂,制造业,0
E2,某物业公司,居民服务,false
"""
COURSES = """course_id,title,skills,certificate,region,mode,start_on,duration_days,fee,subsidy,age_min,age_max,seats
C1,焊工（初级）培训班,电焊;氩弧焊,焊工证,510112,in_person,2024-05-01,30,2000,1800,16,55,30
C2,叉车司机培训,开叉车,叉车证,440305,blended,2024-07-01,15,1500,1000,18,50,20
"""
PLACEMENTS = """worker_id,job_id,outcome,date
W1,J1,hired,2024-03-20
W2,J2,referred,2024-04-03
"""
ENROLMENTS = """worker_id,course_id,outcome,date
W1,C1,certified,2024-06-01
"""
FILES = {
    "employers": EMPLOYERS,
    "workers": WORKERS,
    "jobs": JOBS,
    "courses": COURSES,
    "placements": PLACEMENTS,
    "enrolments": ENROLMENTS,
}


def write_world(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def make_settings(tmp_path: Path, **over: Any) -> Settings:
    values: dict[str, Any] = dict(
        db=f"sqlite:///{tmp_path / 'store.db'}",
        models=tmp_path / "models",
        api_keys={"admin": [ADMIN], "counsellor": [COUNSELLOR], "portal": [PORTAL]},
        environment="development",
        rate_limit_per_minute=0,
        model_poll_seconds=0.05,
    )
    values.update(over)
    return Settings(**values)


class ProfileError(RecommenderError, ValueError):
    """What the real Recommender raises for an inline profile that breaks the contract."""

    code = "invalid_profile"

    def __init__(self, message: str, errors: list[dict[str, str]]) -> None:
        super().__init__(message)
        self.errors = errors


class FakeRecommender:
    """Implements the Recommender interface from the store's records (no learning)."""

    def __init__(self, version: str, store: Store, bundle: Any = None) -> None:
        self.version = version
        self.store = store
        self.bundle = bundle
        self.calls = 0

    def _worker(self, worker: str | WorkerProfile) -> str | None:
        if isinstance(worker, str):
            if self.store.get("workers", worker) is None:
                raise NotFoundError(f"unknown worker {worker}")
            return worker
        from recommender.regions import RegionIndex

        try:
            RegionIndex.default().resolve(worker.home_region)
        except Exception as exc:
            raise ProfileError(f"invalid profile: home_region: {exc}", [{"column": "home_region", "reason": str(exc)}]) from exc
        return worker.worker_id

    def _recs(self, worker_id: str | None, item_type: str, name: str, k: int, scope: str, as_of: dt.date | None) -> Recommendations:
        self.calls += 1
        frame = self.store.read_table(name)
        key = "job_id" if item_type == "job" else "course_id"
        items = [
            RecommendedItem(item_type=item_type, item_id=str(row[key]), rank=i + 1, score=1.0 / (i + 1), title=row["title"])
            for i, (_, row) in enumerate(frame.head(k).iterrows())
        ]
        return Recommendations(worker_id=worker_id, item_type=item_type, as_of=as_of or dt.date(2024, 6, 1), scope=scope, model_version=self.version, items=items)

    def recommend_jobs(self, worker: str | WorkerProfile, *, k: int = 10, scope: str = "all", as_of: dt.date | None = None, age_policy: str | None = None) -> Recommendations:
        return self._recs(self._worker(worker), "job", "jobs", k, scope, as_of)

    def recommend_jobs_many(self, queries: list[Any]) -> list[Any]:
        """Like the real one: each query's result or its error, in order (through ``recommend_jobs``,
        so a test that overrides that sees every query)."""
        out: list[Any] = []
        for q in queries:
            try:
                out.append(self.recommend_jobs(q.worker, k=q.k, scope=q.scope, as_of=q.as_of, age_policy=q.age_policy))
            except RecommenderError as exc:
                out.append(exc)
        return out

    def recommend_courses(self, worker: str | WorkerProfile, *, k: int = 5, as_of: dt.date | None = None) -> Recommendations:
        return self._recs(self._worker(worker), "course", "courses", k, "all", as_of)

    def recommend_batch(self, workers: list[str | WorkerProfile], *, item_type: str = "job", k: int = 10, scope: str = "all", as_of: dt.date | None = None, age_policy: str | None = None) -> list[Any]:
        """Like the real one: an unknown worker or a bad profile gives its error in place."""
        name = "jobs" if item_type == "job" else "courses"
        out: list[Any] = []
        for w in workers:
            try:
                out.append(self._recs(self._worker(w), item_type, name, k, scope, as_of))
            except RecommenderError as exc:
                out.append(exc)
        return out


def fake_loader(settings: Settings, store: Store, version: str | None = None) -> FakeRecommender:
    """Loads the promoted bundle (or ``version``) like the real service does, but serves the fake."""
    registry = Registry(settings.models)
    bundle, manifest = registry.load(version)  # NotFoundError when nothing is promoted
    if isinstance(bundle, dict) and bundle.get("broken"):
        raise RuntimeError("this bundle is broken on purpose")
    return FakeRecommender(manifest["version"], store, bundle)


def save_bundle(settings: Settings, name: str, *, promote: bool = False, broken: bool = False, ndcg: float = 0.3) -> str:
    registry = Registry(settings.models)
    mv = registry.save({"name": name, "broken": broken}, {"metrics": {"ndcg@10": ndcg}}, version=name)
    if promote:
        registry.promote(mv.version)
    return mv.version


def promoted_world(settings: Settings, folder: Path) -> Settings:
    """``settings`` with the small world (written under ``folder``) imported into its store and fake model v1 promoted."""
    from recommender.ingest import ingest

    store = Store(settings.db)
    report = ingest(write_world(folder / "world"), store)
    assert report.rejected == 0, report.format_text()
    store.dispose()
    save_bundle(settings, "v1", promote=True)
    return settings
