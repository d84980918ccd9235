/* The counsellors' page: plain JS over the JSON API (no build step, no inline script).
 * The key lives in an HttpOnly cookie set by POST /web/session; every API call sends the
 * X-Requested-With marker, which is what lets the server use that cookie. All data is
 * written with textContent, never as HTML. */
"use strict";

const MARKER = { "X-Requested-With": "recommender-web" };
const SCOPES = ["local", "province", "outbound"];
const JOB_OUTCOMES = ["referred", "applied", "hired"];
const COURSE_OUTCOMES = ["referred", "enrolled"];
const K_JOBS = 10;
const K_COURSES = 6;

const T = {
  zh: {
    title: "岗位与培训推荐 · 就业服务窗口", logout: "退出", switch_lang: "English",
    login_title: "工作人员登录", login_hint: "请输入工作人员密钥。只需输入一次：密钥保存在本次浏览器会话中，页面脚本无法读取。",
    key: "密钥", login: "登录", find: "查找劳动者", find_by_id: "按编号查找", walk_in: "现场登记",
    worker_id: "劳动者编号", look_up: "查找",
    walkin_hint: "为来访劳动者现场填写。只用于本次推荐，不会保存，除非点击“保存档案”。",
    skills: "技能（自由填写）", skills_ph: "例如：会电焊，开过叉车，砌墙", certificates: "证书", certs_ph: "例如：焊工证、叉车证",
    home_county: "户籍所在县", home_ph: "例如：河南省固始县", current_place: "现居住地（可不填）", current_ph: "例如：广州市白云区",
    birth_or_age: "出生年份或年龄", expected_wage: "期望月薪（元）", mobility: "外出意愿",
    mob_anywhere: "可去外省", mob_province: "只在本省", mob_local: "只在本地",
    education: "文化程度", not_given: "未填", edu_none: "未上学", edu_primary: "小学", edu_junior_high: "初中",
    edu_senior_high: "高中", edu_secondary_vocational: "中专/技校", edu_college: "大专", edu_bachelor_plus: "本科及以上",
    get_recs: "获取推荐", understood: "系统理解的档案", save_title: "保存档案", new_id: "新编号", save: "保存档案",
    save_admin_only: "保存档案需要管理员权限；未保存的来访者不能登记推荐结果。",
    older_title: "大龄劳动者就业援助", jobs: "推荐岗位", courses: "推荐培训",
    scope_local: "本地", scope_province: "省内", scope_outbound: "跨省外出",
    footer: "推荐仅供参考，请与劳动者核实后再办理。", api_docs: "接口文档",
    role_counsellor: "就业指导员", role_admin: "管理员",
    loading: "正在查询…", done: "已更新推荐（模型版本 {v}）", not_found: "未找到劳动者 {id}",
    bad_key: "密钥无效", error: "出错了：{d}", signed_out: "已退出",
    walkin_label: "来访者（未保存）", stored_label: "劳动者 {id}",
    p_skills: "技能", p_certs: "证书", p_home: "户籍所在县", p_current: "现居住地", p_age: "年龄",
    p_wage: "期望月薪", p_mobility: "外出意愿", p_education: "文化程度", p_experience: "工作年限",
    none: "无", unknown_item: "未识别", confidence: "可信度 {p}%", not_understood: "未能识别：{t}",
    age_value: "{age}岁（{band}）", band_under30: "30岁以下", band_30_49: "30–49岁", "band_50+": "50岁及以上",
    years: "{n}年", yuan_month: "{n}元/月", same_as_home: "未填（按户籍地计算）",
    employer: "用人单位", place: "工作地点", distance: "距现居地约{n}公里", wage: "月薪", net: "预计每月净收入约{n}元",
    net_hint: "扣除食宿和回乡路费后", housing_yes: "包住宿", housing_no: "不包住宿", housing_unknown: "住宿未注明",
    si_yes: "缴社保", si_no: "不缴社保", si_unknown: "社保未注明", wage_unknown: "未注明工资",
    older_priority: "援助优先", why: "推荐理由", check: "请核实",
    o_referred: "已推荐", o_applied: "已投递", o_hired: "已录用", o_enrolled: "已报名",
    record_hint: "点击即登记结果", colon: "：", recorded_item: "{title}：已登记“{o}”", recorded: "已登记：{o}", save_first: "请先保存档案，才能登记结果",
    no_jobs: "该范围内暂无符合条件的岗位。", no_courses: "暂无符合条件的培训。",
    flag_age: "包括设有年龄限制的岗位（标出提醒）",
    c_certificate: "结业证书", c_fee: "学费", c_subsidy: "补贴", c_own: "个人自付", c_free: "个人免费", c_start: "开课日期",
    c_mode: "授课方式", c_place: "上课地点", c_opens: "可应聘的在招岗位：{n}个", c_opens_none: "不直接对应在招岗位",
    mode_in_person: "线下", mode_online: "线上", mode_blended: "线上线下结合",
    et_full_time: "全职", et_part_time: "兼职", et_seasonal: "季节工", et_platform: "平台灵活就业", et_public_welfare: "公益性岗位",
    saved: "已保存为 {id}", need_home: "请填写户籍所在县", need_birth: "请填写出生年份（如1972）或年龄（如54）",
    older_intro: "该劳动者{age}岁，达到大龄劳动者援助年龄（{min}岁及以上），系统已启用就业援助：",
    older_1: "优先推荐离家近的本地岗位、对年龄友好的用人单位和公益性岗位；标有“援助优先”的岗位即因此排在前面。",
    older_2: "岗位设有年龄上限的，按服务设置滤掉或标出提醒；可勾选“包括设有年龄限制的岗位”后与用人单位沟通。",
    older_3: "培训同样优先本地、适合转岗的课程，并列出补贴和个人自付费用。",
    older_4: "可核实其是否符合就业困难人员认定，以便申请公益性岗位安置、社会保险补贴等援助政策。",
    older_count: "本次推荐中：{j}个岗位、{c}个培训为援助优先。",
  },
  en: {
    title: "Jobs and training · employment service desk", logout: "Sign out", switch_lang: "中文",
    login_title: "Staff sign-in", login_hint: "Enter your staff key. Only once: it is kept for this browser session, where page scripts cannot read it.",
    key: "Key", login: "Sign in", find: "Find a worker", find_by_id: "Find by id", walk_in: "Walk-in",
    worker_id: "Worker id", look_up: "Look up",
    walkin_hint: "For a worker at the desk. Used for these recommendations only; nothing is stored unless you press “Save profile”.",
    skills: "Skills (free text)", skills_ph: "e.g. welding, drove a forklift, bricklaying", certificates: "Certificates", certs_ph: "e.g. welder's certificate",
    home_county: "Home county (hukou)", home_ph: "e.g. Gushi County, Henan", current_place: "Lives now (optional)", current_ph: "e.g. Baiyun District, Guangzhou",
    birth_or_age: "Birth year or age", expected_wage: "Expected wage (CNY/month)", mobility: "Willing to move",
    mob_anywhere: "Other provinces too", mob_province: "Within the province", mob_local: "Home county only",
    education: "Education", not_given: "Not given", edu_none: "None", edu_primary: "Primary", edu_junior_high: "Junior high",
    edu_senior_high: "Senior high", edu_secondary_vocational: "Vocational school", edu_college: "College", edu_bachelor_plus: "Bachelor or higher",
    get_recs: "Recommend", understood: "The profile as the system understood it", save_title: "Save profile", new_id: "New id", save: "Save profile",
    save_admin_only: "Saving a profile needs an admin key; outcomes cannot be recorded for an unsaved walk-in.",
    older_title: "Older-worker employment assistance", jobs: "Jobs", courses: "Training",
    scope_local: "Local", scope_province: "In province", scope_outbound: "Outbound",
    footer: "Recommendations are advice: check them with the worker before acting.", api_docs: "API docs",
    role_counsellor: "Counsellor", role_admin: "Admin",
    loading: "Looking up…", done: "Recommendations updated (model {v})", not_found: "No worker {id}",
    bad_key: "Unknown key", error: "Something went wrong: {d}", signed_out: "Signed out",
    walkin_label: "Walk-in (not saved)", stored_label: "Worker {id}",
    p_skills: "Skills", p_certs: "Certificates", p_home: "Home county", p_current: "Lives now", p_age: "Age",
    p_wage: "Expected wage", p_mobility: "Willing to move", p_education: "Education", p_experience: "Experience",
    none: "none", unknown_item: "not understood", confidence: "confidence {p}%", not_understood: "Not understood: {t}",
    age_value: "{age} ({band})", band_under30: "under 30", band_30_49: "30–49", "band_50+": "50 and over",
    years: "{n} years", yuan_month: "{n} CNY/month", same_as_home: "not given (home county used)",
    employer: "Employer", place: "Place", distance: "about {n} km from where the worker lives", wage: "Wage", net: "about {n} CNY/month left",
    net_hint: "after living costs and trips home", housing_yes: "Housing provided", housing_no: "No housing", housing_unknown: "Housing not stated",
    si_yes: "Social insurance", si_no: "No social insurance", si_unknown: "Social insurance not stated", wage_unknown: "No wage posted",
    older_priority: "Assistance priority", why: "Why", check: "Check",
    o_referred: "Referred", o_applied: "Applied", o_hired: "Hired", o_enrolled: "Enrolled",
    record_hint: "One click records the outcome", colon: ": ", recorded_item: "{title}: recorded “{o}”", recorded: "Recorded: {o}", save_first: "Save the profile first to record outcomes",
    no_jobs: "No suitable jobs in this scope.", no_courses: "No suitable courses.",
    flag_age: "Include jobs with a posted age limit (marked)",
    c_certificate: "Certificate", c_fee: "Fee", c_subsidy: "Subsidy", c_own: "Worker pays", c_free: "Free for the worker", c_start: "Starts",
    c_mode: "Mode", c_place: "Place", c_opens: "Open jobs it leads to: {n}", c_opens_none: "Leads to no open job directly",
    mode_in_person: "In person", mode_online: "Online", mode_blended: "Blended",
    et_full_time: "Full time", et_part_time: "Part time", et_seasonal: "Seasonal", et_platform: "Platform work", et_public_welfare: "Public-welfare post",
    saved: "Saved as {id}", need_home: "Enter the home county", need_birth: "Enter a birth year (e.g. 1972) or an age (e.g. 54)",
    older_intro: "This worker is {age}, at or above the older-worker age ({min}); assistance is on:",
    older_1: "Local jobs near home, age-friendly employers and public-welfare posts come first; jobs marked “Assistance priority” were moved up for this reason.",
    older_2: "Jobs with a posted age limit are filtered out or marked, as the service is set; tick “Include jobs with a posted age limit” to raise them with the employer.",
    older_3: "Training also favours local courses suited to a change of job, with the subsidy and what the worker pays.",
    older_4: "Check whether the worker qualifies as a person with employment difficulties, for public-welfare placement and social-insurance subsidies.",
    older_count: "In these recommendations: {j} job(s) and {c} course(s) with assistance priority.",
  },
};

const state = {
  lang: "zh", session: null, status: null, choice: null, label: "", understood: null, jobs: {}, courses: null,
  recorded: new Set(), scope: "local", modelVersion: "", titles: {},
};

function $(id) { return document.getElementById(id); }
function t(key, vars) {
  let s = (T[state.lang] && T[state.lang][key]) || T.zh[key] || key;
  for (const [k, v] of Object.entries(vars || {})) {
    const shown = typeof v === "string" && v.startsWith("o_") ? t(v) : String(v);  // outcome names are translated too
    s = s.split("{" + k + "}").join(shown);
  }
  return s;
}
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}
function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
function fmt(n) { return Number(n).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { maximumFractionDigits: 0 }); }

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status; this.code = body && body.code; this.errors = (body && body.errors) || [];
  }
}

async function api(method, url, body) {
  const headers = { ...MARKER, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    if (res.status === 401 && !url.startsWith("/web/session")) showLogin();
    throw new ApiError(res.status, data);
  }
  if (res.headers.get("X-Model-Version")) state.modelVersion = res.headers.get("X-Model-Version");
  return data;
}

function setStatus(text, kind, key, vars) {
  // With a key, the message is kept as key + vars and re-translated when the language changes.
  state.status = key ? { key, vars, kind } : null;
  const s = $("status");
  s.textContent = key ? t(key, vars) : (text || "");
  s.className = "status" + (kind ? " " + kind : "");
}
function say(key, vars, kind) { setStatus("", kind, key, vars); }
function errorText(err) {
  if (!(err instanceof ApiError)) return t("error", { d: String(err) });
  const extra = err.errors.map((e) => `${(e.loc || []).filter((p) => p !== "body").join(".")}: ${e.msg}`).join("; ");
  return t("error", { d: err.message + (extra && !err.message.includes(extra) ? ` (${extra})` : "") });
}

// ---------------------------------------------------------------- language

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  const btn = $("lang");
  btn.textContent = t("switch_lang");
  btn.lang = state.lang === "zh" ? "en" : "zh-CN";
  if (state.session) $("role").textContent = t("role_" + state.session.role);
  if (state.status) say(state.status.key, state.status.vars, state.status.kind);
  render();
}

// ---------------------------------------------------------------- session

function showLogin() {
  state.session = null;
  $("login").hidden = false; $("app").hidden = true; $("logout").hidden = true; $("role").hidden = true;
  $("key").focus();
}
function showApp(session) {
  state.session = session;
  $("login").hidden = true; $("app").hidden = false; $("logout").hidden = false;
  $("role").hidden = false; $("role").textContent = t("role_" + session.role);
}
async function checkSession() {
  try { showApp(await api("GET", "/web/session")); } catch (e) { showLogin(); }
}
async function login(ev) {
  ev.preventDefault();
  const err = $("login-error");
  err.hidden = true;
  try {
    const session = await api("POST", "/web/session", { key: $("key").value });
    $("key").value = "";
    showApp(session);
    $("worker-id").focus();
  } catch (e) {
    err.textContent = e.status === 401 ? t("bad_key") : errorText(e);
    err.hidden = false;
  }
}
async function logout() {
  try { await api("DELETE", "/web/session"); } catch (e) { /* signed out anyway */ }
  Object.assign(state, { choice: null, understood: null, jobs: {}, courses: null, recorded: new Set() });
  $("results").hidden = true;
  say("signed_out");
  showLogin();
}

// ---------------------------------------------------------------- queries

function selectFindTab(which) {
  const walk = which === "walkin";
  $("tab-find").setAttribute("aria-selected", String(!walk));
  $("tab-walkin").setAttribute("aria-selected", String(walk));
  $("find-id").hidden = walk; $("walkin").hidden = !walk;
  (walk ? $("w-skills") : $("worker-id")).focus();
}

function walkinProfile() {
  const v = (id) => $(id).value.trim();
  const asList = (s) => s.split(/[\n\r,]+/).map((x) => x.trim()).filter(Boolean).join(";");
  const home = v("w-home");
  if (!home) throw new Error(t("need_home"));
  const raw = Number(v("w-birth"));
  if (!Number.isInteger(raw) || raw <= 0) throw new Error(t("need_birth"));
  const year = new Date().getFullYear();
  const birth = raw <= 120 ? year - raw : raw;
  if (birth < 1900 || birth > year) throw new Error(t("need_birth"));
  const p = { home_region: home, birth_year: birth, mobility: v("w-mobility") || "anywhere" };
  if (v("w-skills")) p.skills = asList(v("w-skills"));
  if (v("w-certs")) p.certificates = asList(v("w-certs"));
  if (v("w-current")) p.current_region = v("w-current");
  if (v("w-wage")) p.expected_wage = Number(v("w-wage"));
  if (v("w-education")) p.education = v("w-education");
  return p;
}

async function lookUp(choice, label) {
  state.choice = choice; state.label = label;
  say("loading", {}, "busy");
  $("results").setAttribute("aria-busy", "true");
  const flag = $("flag-age") && $("flag-age").checked;
  const jobReq = (scope) => ({ ...choice, k: K_JOBS, scope, ...(flag ? { age_policy: "flag" } : {}) });
  try {
    const [understood, local, province, outbound, courses, outcomes] = await Promise.all([
      api("POST", "/v1/profile/understood", choice),
      ...SCOPES.map((s) => api("POST", "/v1/recommendations/jobs", jobReq(s))),
      api("POST", "/v1/recommendations/courses", { ...choice, k: K_COURSES }),
      choice.worker_id ? api("GET", `/v1/outcomes?worker_id=${encodeURIComponent(choice.worker_id)}&limit=1000`) : null,
    ]);
    state.understood = understood;
    state.jobs = { local, province, outbound };
    state.courses = courses;
    state.recorded = new Set((outcomes ? outcomes.data : []).map((o) => `${o.item_type}:${o.item_id}:${o.outcome}`));
    const first = SCOPES.find((s) => state.jobs[s].items.length) || "local";
    state.scope = first;
    $("results").hidden = false;
    render();
    say("done", { v: state.modelVersion || local.model_version }, "ok");
  } catch (e) {
    if (e.status === 404) say("not_found", { id: choice.worker_id || "" }, "error");
    else setStatus(errorText(e), "error");
  } finally {
    $("results").removeAttribute("aria-busy");
  }
}

async function findById(ev) {
  ev.preventDefault();
  const id = $("worker-id").value.trim();
  if (id) await lookUp({ worker_id: id }, t("stored_label", { id }));
}
async function walkIn(ev) {
  ev.preventDefault();
  let profile;
  try { profile = walkinProfile(); } catch (e) { setStatus(e.message, "error"); return; }
  await lookUp({ profile }, "walkin");
}

async function saveProfile(ev) {
  ev.preventDefault();
  if (!state.choice || !state.choice.profile) return;
  const id = $("save-id").value.trim();
  if (!id) return;
  try {
    await api("PUT", `/v1/workers/${encodeURIComponent(id)}`, { ...state.choice.profile, worker_id: id, registered_on: today() });
    say("saved", { id }, "ok");
    $("worker-id").value = id;
    await lookUp({ worker_id: id }, t("stored_label", { id }));
  } catch (e) { setStatus(errorText(e), "error"); }
}

async function record(item, outcome, button) {
  if (!state.choice || !state.choice.worker_id) return;
  button.disabled = true;
  try {
    await api("POST", "/v1/outcomes", [{
      worker_id: state.choice.worker_id, item_type: item.item_type, item_id: item.item_id, outcome, date: today(),
    }]);
    state.recorded.add(`${item.item_type}:${item.item_id}:${outcome}`);
    say("recorded_item", { title: item.title || item.item_id, o: "o_" + outcome }, "ok");
    render();
  } catch (e) {
    button.disabled = false;
    setStatus(errorText(e), "error");
  }
}

// ---------------------------------------------------------------- rendering

function render() {
  if (!state.understood || $("results").hidden) return;
  renderProfile(); renderOlder(); renderJobs(); renderCourses();
}

function chip(item) {
  if (!item.id) {
    return el("li", { class: "chip unknown", title: t("confidence", { p: Math.round(item.confidence * 100) }) },
      el("span", { text: item.text }), el("small", { text: " · " + t("unknown_item") }));
  }
  const name = state.lang === "en" ? (item.name_en || item.name_zh) : item.name_zh;
  const same = item.text === item.name_zh;
  return el("li", { class: "chip" + (item.confidence < 0.9 ? " unsure" : "") },
    el("span", { text: name }),
    same ? null : el("small", { class: "surface", text: ` ← ${item.text}` }),
    el("small", { class: "conf", text: ` ${Math.round(item.confidence * 100)}%`, title: t("confidence", { p: Math.round(item.confidence * 100) }) }));
}
function chips(items) {
  if (!items.length) return el("span", { class: "muted", text: t("none") });
  return el("ul", { class: "chips" }, ...items.map(chip));
}
function region(r, fallback) {
  if (!r) return el("span", { class: "muted", text: fallback });
  if (r.error || !r.code) return el("span", { class: "warn-text", text: t("not_understood", { t: r.text }) });
  return el("span", {}, r.full_name, el("small", { class: "muted", text: ` (${r.code})` }));
}

function renderProfile() {
  const u = state.understood;
  const body = $("profile-body");
  const walkin = !state.choice.worker_id;
  const rows = [
    [t("p_skills"), chips(u.skills)],
    [t("p_certs"), chips(u.certificates)],
    [t("p_home"), region(u.home_region, t("none"))],
    [t("p_current"), region(u.current_region, t("same_as_home"))],
    [t("p_age"), t("age_value", { age: u.age, band: t("band_" + u.age_band.replace(" ", "").replace("-", "_")) })],
    [t("p_wage"), u.expected_wage ? t("yuan_month", { n: fmt(u.expected_wage) }) : t("not_given")],
    [t("p_mobility"), t("mob_" + (u.mobility || "anywhere"))],
    [t("p_education"), u.education ? t("edu_" + u.education) : t("not_given")],
  ];
  if (u.experience_years !== null && u.experience_years !== undefined) rows.push([t("p_experience"), t("years", { n: u.experience_years })]);
  body.replaceChildren(
    el("p", { class: "who" }, el("strong", { text: walkin ? t("walkin_label") : t("stored_label", { id: u.worker_id || state.choice.worker_id }) })),
    el("dl", { class: "facts" }, ...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v)])),
  );
  const canSave = walkin && state.session && state.session.can_save_workers;
  $("save-box").hidden = !canSave;
  $("save-note").hidden = !(walkin && !canSave);
}

function renderOlder() {
  const u = state.understood;
  const box = $("older");
  box.hidden = !u.older_worker;
  if (!u.older_worker) return;
  const jobsPrio = SCOPES.reduce((n, s) => n + state.jobs[s].items.filter((i) => i.older_worker_priority).length, 0);
  const coursePrio = state.courses.items.filter((i) => i.reasons.some((r) => r.code === "older_worker_priority")).length;
  $("older-body").replaceChildren(
    el("p", { text: t("older_intro", { age: u.age, min: u.older_worker_age }) }),
    el("ul", {}, ...["older_1", "older_2", "older_3", "older_4"].map((k) => el("li", { text: t(k) }))),
    el("p", { class: "strong", text: t("older_count", { j: jobsPrio, c: coursePrio }) }),
  );
}

function reasonList(item) {
  const pick = (r) => (state.lang === "en" ? r.en : r.zh);
  return el("div", { class: "reasons" },
    item.reasons.length ? el("ul", { class: "why", "aria-label": t("why") }, ...item.reasons.map((r) => el("li", { "data-code": r.code, text: pick(r) }))) : null,
    item.warnings.length ? el("ul", { class: "warnings", "aria-label": t("check") }, ...item.warnings.map((r) => el("li", { "data-code": r.code, text: pick(r) }))) : null);
}

function outcomeButtons(item, outcomes) {
  const stored = Boolean(state.choice.worker_id);
  const box = el("div", { class: "outcomes", title: stored ? t("record_hint") : t("save_first") });
  for (const o of outcomes) {
    const done = state.recorded.has(`${item.item_type}:${item.item_id}:${o}`);
    const b = el("button", {
      type: "button", class: "outcome" + (done ? " done" : ""), "data-outcome": o, "aria-pressed": String(done),
      disabled: !stored || done, text: (done ? "✓ " : "") + t("o_" + o),
    });
    b.addEventListener("click", () => record(item, o, b));
    box.append(b);
  }
  return box;
}

function jobCard(item) {
  const wage = item.wage_min || item.wage_max
    ? t("yuan_month", { n: [item.wage_min, item.wage_max].filter((x) => x).map(fmt).join("–") }) : t("wage_unknown");
  const yesNo = (v, yes, no, unk) => (v === true ? t(yes) : v === false ? t(no) : t(unk));
  const tags = [
    el("span", { class: "tag " + (item.housing ? "good" : "plain"), text: yesNo(item.housing, "housing_yes", "housing_no", "housing_unknown") }),
    el("span", { class: "tag " + (item.social_insurance ? "good" : "plain"), text: yesNo(item.social_insurance, "si_yes", "si_no", "si_unknown") }),
    item.employment_type ? el("span", { class: "tag plain", text: t("et_" + item.employment_type) }) : null,
    item.older_worker_priority ? el("span", { class: "tag older", text: t("older_priority") }) : null,
  ];
  return el("article", { class: "item job", "data-item": item.item_id, "data-scope": item.scope },
    el("header", {},
      el("h3", {}, el("span", { class: "rank", text: `${item.rank}.` }), " ", item.title || item.item_id),
      el("p", { class: "wage" }, el("strong", { text: wage }),
        item.net_income !== null && item.net_income !== undefined
          ? el("small", { title: t("net_hint"), text: " · " + t("net", { n: fmt(item.net_income) }) }) : null)),
    el("p", { class: "meta" },
      el("span", { text: `${t("employer")}${t("colon")}${item.employer_name || item.employer_id || "—"}` }),
      el("span", { text: `${t("place")}${t("colon")}${item.place || item.region || "—"}` +
        (item.distance_km !== null && item.distance_km !== undefined ? ` · ${t("distance", { n: fmt(item.distance_km) })}` : "") })),
    el("p", { class: "tags" }, ...tags),
    reasonList(item),
    outcomeButtons(item, JOB_OUTCOMES));
}

function renderJobs() {
  for (const tab of document.querySelectorAll("#scope-tabs [data-scope]")) {
    const s = tab.dataset.scope;
    tab.setAttribute("aria-selected", String(s === state.scope));
    tab.querySelector(".count").textContent = `(${state.jobs[s] ? state.jobs[s].items.length : 0})`;
  }
  const items = state.jobs[state.scope] ? state.jobs[state.scope].items : [];
  $("jobs").dataset.scope = state.scope;
  $("jobs").replaceChildren(...(items.length ? items.map(jobCard) : [el("p", { class: "muted", text: t("no_jobs") })]));
}

function courseCard(item) {
  const money = (n) => `${fmt(n)}${state.lang === "en" ? " CNY" : "元"}`;
  const facts = [
    [t("c_certificate"), item.certificate || t("none")],
    [t("c_fee"), item.fee !== null && item.fee !== undefined ? money(item.fee) : "—"],
    [t("c_subsidy"), item.subsidy ? money(item.subsidy) : t("none")],
    [t("c_own"), item.own_cost === 0 ? t("c_free") : item.own_cost !== null && item.own_cost !== undefined ? money(item.own_cost) : "—"],
    [t("c_start"), item.start_on || "—"],
    [t("c_mode"), item.mode ? t("mode_" + item.mode) : "—"],
    [t("c_place"), (item.place || item.region || "—") + (item.distance_km ? ` · ${t("distance", { n: fmt(item.distance_km) })}` : "")],
  ];
  const opens = item.opens_jobs || [];
  let opensNode;
  if (opens.length) {
    const list = el("ul", { class: "opens" });
    opensNode = el("details", { class: "opens-box" }, el("summary", { text: t("c_opens", { n: opens.length }) }), list);
    opensNode.addEventListener("toggle", () => { if (opensNode.open && !list.childElementCount) loadOpens(opens, list); });
  } else {
    opensNode = el("p", { class: "muted", text: t("c_opens_none") });
  }
  return el("article", { class: "item course", "data-item": item.item_id },
    el("header", {}, el("h3", {}, el("span", { class: "rank", text: `${item.rank}.` }), " ", item.title || item.item_id),
      el("p", { class: "wage" }, el("strong", { text: item.own_cost === 0 ? t("c_free") : `${t("c_own")} ${money(item.own_cost || 0)}` }))),
    el("dl", { class: "facts compact" }, ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
    opensNode,
    reasonList(item),
    outcomeButtons(item, COURSE_OUTCOMES));
}

async function loadOpens(ids, list) {
  const known = {};
  for (const s of SCOPES) for (const j of (state.jobs[s] ? state.jobs[s].items : [])) known[j.item_id] = j.title;
  for (const id of ids.slice(0, 8)) {
    let title = known[id] || state.titles[id];
    if (!title) {
      try { title = (await api("GET", `/v1/jobs/${encodeURIComponent(id)}`)).title; state.titles[id] = title; } catch (e) { title = ""; }
    }
    list.append(el("li", {}, title || id, el("small", { class: "muted", text: ` (${id})` })));
  }
  if (ids.length > 8) list.append(el("li", { class: "muted", text: "…" }));
}

function renderCourses() {
  const items = state.courses ? state.courses.items : [];
  $("courses").replaceChildren(...(items.length ? items.map(courseCard) : [el("p", { class: "muted", text: t("no_courses") })]));
}

// ---------------------------------------------------------------- start

function addAgeToggle() {
  const tabs = $("scope-tabs");
  const label = el("label", { class: "toggle" }, el("input", { type: "checkbox", id: "flag-age" }), el("span", { "data-i18n": "flag_age", text: t("flag_age") }));
  tabs.after(label);
  $("flag-age").addEventListener("change", () => { if (state.choice) lookUp(state.choice, state.label); });
}

document.addEventListener("DOMContentLoaded", () => {
  const saved = (() => { try { return localStorage.getItem("lang"); } catch (e) { return null; } })();
  state.lang = saved === "en" ? "en" : "zh";
  addAgeToggle();
  $("lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    try { localStorage.setItem("lang", state.lang); } catch (e) { /* private mode */ }
    applyLanguage();
  });
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("tab-find").addEventListener("click", () => selectFindTab("find"));
  $("tab-walkin").addEventListener("click", () => selectFindTab("walkin"));
  $("find-id").addEventListener("submit", findById);
  $("walkin").addEventListener("submit", walkIn);
  $("save-form").addEventListener("submit", saveProfile);
  for (const tab of document.querySelectorAll("#scope-tabs [data-scope]")) {
    tab.addEventListener("click", () => { state.scope = tab.dataset.scope; renderJobs(); });
  }
  applyLanguage();
  checkSession();
});
