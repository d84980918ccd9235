"""The counsellors' page in headless Chromium, against the app under uvicorn.

A counsellor signs in once, finds a sample worker, sees local and outbound jobs and
courses with their reasons, records a referral with one click (checked through the
API), and serves a walk-in worker whose profile is typed in Chinese. The screenshots
of docs/web.md are written by these tests, at 1280 and 390 pixels wide.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pytest

from e2e_support import ADMIN, COUNSELLOR, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]



def _counsellor_today() -> str:
    """The day on the browser's clock (the context runs in Asia/Shanghai, 8 hours ahead of UTC)."""
    return dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().isoformat()

def sign_in(page: Any, key: str = COUNSELLOR) -> None:
    page.goto("/web/")
    page.locator("#login").wait_for(state="visible")
    page.fill("#key", key)
    page.click("#login-form button[type=submit]")
    page.locator("#app").wait_for(state="visible")


def find_worker(page: Any, worker_id: str) -> None:
    page.fill("#worker-id", worker_id)
    page.click("#find-id button[type=submit]")
    page.locator("#status.ok").wait_for()


def fill_walk_in(page: Any) -> None:
    page.click("#tab-walkin")
    page.fill("#w-skills", "会电焊，开过叉车\n砌墙")
    page.fill("#w-certs", "焊工证")
    page.fill("#w-home", "河南省固始县")
    page.fill("#w-birth", "1970")
    page.fill("#w-wage", "6000")
    page.select_option("#w-mobility", "anywhere")
    page.select_option("#w-education", "junior_high")
    page.click("#walkin button[type=submit]")
    page.locator("#status.ok").wait_for()


def shot(page: Any, folder: Path, name: str, *, full: bool = True, at: str | None = None) -> None:
    """A screenshot into docs/screenshots/: the full page, or the screen scrolled to ``at``."""
    if at:
        page.eval_on_selector(at, "e => e.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(folder / name), full_page=full)


def test_sign_in_once_key_kept_out_of_page_and_url(desktop: Any, live_server: LiveServer, screenshots_dir: Path) -> None:
    page = desktop
    response = page.goto("/web/")
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    page.locator("#login").wait_for(state="visible")
    shot(page, screenshots_dir, "login-desktop.png", full=False)

    page.fill("#key", "not-a-key")
    page.click("#login-form button[type=submit]")
    page.locator("#login-error").wait_for(state="visible")
    assert "密钥无效" in page.inner_text("#login-error")

    sign_in(page)
    assert COUNSELLOR not in page.url
    cookie = next(c for c in page.context.cookies() if c["name"] == "rec_key")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # scripts cannot read the key
    assert page.inner_text("#role") == "就业指导员"

    page.reload()  # entered once: a reload keeps the session
    page.locator("#app").wait_for(state="visible")
    assert page.locator("#login").is_hidden()

    page.click("#logout")
    page.locator("#login").wait_for(state="visible")
    assert not [c for c in page.context.cookies() if c["name"] == "rec_key"]


def test_find_worker_see_jobs_and_courses_and_record_referral(
    desktop: Any, live_server: LiveServer, demo_worker: str, screenshots_dir: Path
) -> None:
    page = desktop
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load resource" not in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    sign_in(page)
    find_worker(page, demo_worker)

    # The profile as understood: normalised skills with confidence, home county, age band.
    profile = page.locator("#profile-body")
    assert demo_worker in profile.inner_text()
    assert profile.locator(".chip").count() >= 1
    assert re.search(r"\d+%", profile.locator(".chips").first.inner_text())
    assert "50岁及以上" in profile.inner_text()
    # Older-worker assistance is visible and explained.
    older = page.locator("#older")
    assert older.is_visible()
    assert "大龄劳动者" in older.inner_text() and "援助优先" in older.inner_text()

    # Local jobs, with employer, place, wage, net income, housing and insurance, reasons.
    page.click("#scope-tabs [data-scope=local]")
    local = page.locator("#jobs article.job")
    assert local.count() >= 1
    first = local.first
    text = first.inner_text()
    assert "用人单位" in text and "工作地点" in text and "元/月" in text
    assert re.search(r"(包住宿|不包住宿|住宿未注明)", text) and re.search(r"(缴社保|不缴社保|社保未注明)", text)
    assert first.locator(".why li").count() >= 1
    assert page.locator("#jobs article.job[data-scope=local]").count() == local.count()
    assert page.locator("#jobs .tag.older").count() >= 1 or page.locator("#older .strong").is_visible()

    # Courses with subsidy, own cost, certificate, start date and the jobs they open.
    courses = page.locator("#courses article.course")
    assert courses.count() >= 1
    ctext = courses.first.inner_text()
    assert "补贴" in ctext and ("个人自付" in ctext or "个人免费" in ctext) and "开课日期" in ctext and "结业证书" in ctext
    # One click records a referral; the API has it.
    job_id = first.get_attribute("data-item")
    before = _counsellor_today()
    first.locator("button[data-outcome=referred]").click()
    page.locator(f'#jobs article[data-item="{job_id}"] button[data-outcome=referred][aria-pressed=true]').wait_for()
    assert "已登记" in page.inner_text("#status")
    shot(page, screenshots_dir, "worker-desktop.png")
    with live_server.client() as c:
        stored = c.get("/v1/outcomes", params={"worker_id": demo_worker, "item_type": "job", "item_id": job_id}).json()
    # dated the counsellor's day (the page's clock, Asia/Shanghai here), not the server's UTC day
    days = {before, _counsellor_today()}
    assert any({"worker_id": demo_worker, "item_type": "job", "item_id": job_id, "outcome": "referred",
                "date": day} in stored["data"] for day in days), (days, stored["data"])

    # Enrolment in a course, the same way.
    course_id = courses.first.get_attribute("data-item")
    courses.first.locator("button[data-outcome=enrolled]").click()
    page.locator(f'#courses article[data-item="{course_id}"] button[data-outcome=enrolled][aria-pressed=true]').wait_for()
    with live_server.client() as c:
        enrolled = c.get("/v1/outcomes", params={"worker_id": demo_worker, "item_type": "course"}).json()["data"]
    assert any(o["item_id"] == course_id and o["outcome"] == "enrolled" for o in enrolled)

    # Outbound jobs in their own tab.
    page.click("#scope-tabs [data-scope=outbound]")
    outbound = page.locator("#jobs article.job")
    assert outbound.count() >= 1
    assert page.locator("#jobs article.job[data-scope=outbound]").count() == outbound.count()
    assert "跨省外出" in outbound.first.inner_text()
    shot(page, screenshots_dir, "worker-outbound-desktop.png", full=False)

    # Looking the worker up again shows what was recorded.
    find_worker(page, demo_worker)
    page.click("#scope-tabs [data-scope=local]")
    assert page.locator(f'#jobs article[data-item="{job_id}"] button[data-outcome=referred]').is_disabled()

    # English switch: the same results, in English; it sticks across a reload.
    page.click("#lang")
    assert page.inner_text("#jobs-title") == "Jobs"
    assert "Older-worker employment assistance" in page.inner_text("#older")
    assert "Employer" in page.locator("#jobs article.job").first.inner_text()
    shot(page, screenshots_dir, "worker-desktop-en.png")
    page.reload()
    page.locator("#app").wait_for(state="visible")
    assert page.inner_text("#tab-find") == "Find by id"
    page.click("#lang")
    assert page.inner_text("#tab-find") == "按编号查找"
    assert problems == []  # no script error, nothing blocked by the Content-Security-Policy


def test_unknown_worker_is_reported(desktop: Any, live_server: LiveServer) -> None:
    page = desktop
    sign_in(page)
    page.fill("#worker-id", "W9999999")
    page.click("#find-id button[type=submit]")
    page.locator("#status.error").wait_for()
    assert "未找到劳动者 W9999999" in page.inner_text("#status")


def test_walk_in_profile_typed_in_chinese_is_not_stored(desktop: Any, live_server: LiveServer, screenshots_dir: Path) -> None:
    with live_server.client() as c:
        before = c.get("/v1/summary").json()["workers"]
    page = desktop
    sign_in(page)
    fill_walk_in(page)

    profile = page.locator("#profile-body").inner_text()
    assert "来访者（未保存）" in profile
    assert "焊接" in profile and "叉车驾驶" in profile  # 会电焊 -> 焊接, 开过叉车 -> 叉车驾驶
    assert "熔化焊接与热切割作业证" in profile  # 焊工证
    assert "河南省信阳市固始县" in profile
    assert "50岁及以上" in profile
    assert page.locator("#older").is_visible()
    total = sum(int(re.sub(r"\D", "", page.inner_text(f"#scope-tabs [data-scope={s}] .count")) or 0)
                for s in ("local", "province", "outbound"))
    assert total >= 1
    assert page.locator("#courses article.course").count() >= 1
    # A counsellor cannot save (PUT /v1/workers needs an admin key): no button, a note instead.
    assert page.locator("#save-box").is_hidden()
    assert page.locator("#save-note").is_visible()
    assert page.locator("#jobs button[data-outcome]").first.is_disabled()
    shot(page, screenshots_dir, "walk-in-desktop.png")

    with live_server.client() as c:
        assert c.get("/v1/summary").json()["workers"] == before


def test_admin_saves_a_walk_in_then_records_outcomes(desktop: Any, live_server: LiveServer) -> None:
    page = desktop
    sign_in(page, ADMIN)
    assert page.inner_text("#role") == "管理员"
    fill_walk_in(page)
    assert page.locator("#save-box").is_visible()
    page.fill("#save-id", "WEB-E2E-0001")
    page.click("#save-form button[type=submit]")
    page.locator("#profile-body", has_text="劳动者 WEB-E2E-0001").wait_for()
    with live_server.client() as c:
        saved = c.get("/v1/workers/WEB-E2E-0001")
    assert saved.status_code == 200
    assert saved.json()["home_region"] == "411525" and saved.json()["birth_year"] == 1970
    assert page.locator("#save-box").is_hidden()
    assert page.locator("#courses button[data-outcome=referred]").first.is_enabled()


def test_phone_width(phone: Any, live_server: LiveServer, demo_worker: str, screenshots_dir: Path) -> None:
    page = phone
    page.goto("/web/")
    page.locator("#login").wait_for(state="visible")
    shot(page, screenshots_dir, "login-phone.png", full=False)
    sign_in(page)
    find_worker(page, demo_worker)
    # Nothing wider than the screen: no sideways scrolling at 390 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#jobs article.job").first.is_visible()
    shot(page, screenshots_dir, "worker-phone.png", full=False)
    shot(page, screenshots_dir, "older-phone.png", full=False, at="#older")
    page.click("#scope-tabs [data-scope=outbound]")
    shot(page, screenshots_dir, "jobs-phone.png", full=False, at="#jobs-title")
    shot(page, screenshots_dir, "courses-phone.png", full=False, at="#courses-title")
    fill_walk_in(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, screenshots_dir, "walk-in-form-phone.png", full=False, at="#walkin")
    shot(page, screenshots_dir, "walk-in-phone.png", full=False, at="#profile")


def test_age_limit_toggle_asks_for_flagged_jobs(desktop: Any, live_server: LiveServer, demo_worker: str) -> None:
    page = desktop
    sign_in(page)
    find_worker(page, demo_worker)

    def total() -> int:
        return sum(int(re.sub(r"\D", "", page.inner_text(f"#scope-tabs [data-scope={s}] .count")) or 0)
                   for s in ("local", "province", "outbound"))

    strict = total()
    with page.expect_request(lambda r: r.url.endswith("/v1/recommendations/jobs") and '"age_policy":"flag"' in (r.post_data or "")):
        page.check("#flag-age")
    page.locator("#status.ok").wait_for()
    assert total() >= strict
    flagged = page.locator('#jobs .warnings li[data-code="age_limit"]')
    if flagged.count():
        assert "年龄限制" in flagged.first.inner_text()
