"""Build ``normalise_eval.csv`` from the hand-written cases plus generated noise.

Run once and commit the output; it is deterministic (fixed seed, sorted pools):

    python benchmarks/normalise_eval/build_eval.py

The hand-written cases (``hand_*.txt``) are phrases as workers and job boards
write them, labelled by a person; they were not generated from the taxonomy's
alias lists. Each case also yields noisy variants: full-width characters,
traditional characters, filler words, spacing, homophone typing slips (one
character replaced by another with the same pinyin), English letter typos, and
for titles the ages, pay and perks that job boards put in titles. A variant
keeps the label of its case (unknown stays unknown).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from pypinyin import lazy_pinyin

HERE = Path(__file__).resolve().parent
OUT = HERE / "normalise_eval.csv"
SEED = 20240518
KINDS = {"skill": "hand_skills.txt", "certificate": "hand_certificates.txt", "title": "hand_titles.txt"}

# Simplified -> traditional for a few dozen common characters (independent of
# the library's own table, so the eval does not just mirror it).
_S2T = dict(
    zip(
        "电车员师机装计厂护厨艺软体驾驶证书业销货运输楼钢铁压气线维养婴儿医疗药饭馆面点卫洁环园绿种农鱼猪鸡鸭级职资险劳动务学习导试调会杂处仓库拣发贴标专网络脑视频优费价买卖单帮说话语读写认识岁龄质检测验仪数据类设备场厅灯热炉烧烟营为这个们来对产组织纺丝缝纫铝铜锡锁钻砖涂墙顶摄镜头总储递邮骑团购锅饮补换轮钣喷胶镀锻铸钳铣监岗杀虫扫树讲课录辑户创进过边长门响声辆驻厢桥矿炼队沟协责积极执",
        "電車員師機裝計廠護廚藝軟體駕駛證書業銷貨運輸樓鋼鐵壓氣線維養嬰兒醫療藥飯館麵點衛潔環園綠種農魚豬雞鴨級職資險勞動務學習導試調會雜處倉庫揀發貼標專網絡腦視頻優費價買賣單幫說話語讀寫認識歲齡質檢測驗儀數據類設備場廳燈熱爐燒煙營為這個們來對產組織紡絲縫紉鋁銅錫鎖鑽磚塗牆頂攝鏡頭總儲遞郵騎團購鍋飲補換輪鈑噴膠鍍鍛鑄鉗銑監崗殺蟲掃樹講課錄輯戶創進過邊長門響聲輛駐廂橋礦煉隊溝協責積極執",
        strict=True,
    )
)

_SKILL_PREFIX = ["熟练", "会", "精通", "有经验的", "擅长", "能", "懂"]
_SKILL_SUFFIX = ["5年经验", "一年以上", "3年以上经验", "（熟练）", "优先", "有经验", "十年"]
_CERT_PREFIX = ["持有", "有", "持", "已考", "本人有"]
_CERT_SUFFIX = ["（在有效期内）", "齐全", "已年审", "原件", "（有效）", "在有效期"]
_TITLE_PREFIX = ["急招", "【急聘】", "高薪诚聘", "直招", "招聘", "长期招", "🔥急招", "【包吃住】"]
_TITLE_SUFFIX = [
    "包吃住",
    " 18-45岁",
    "月薪6000-8000",
    "（日结）",
    " 五险一金",
    " 22元/小时",
    "，男女不限",
    " 45岁以下",
    "8k-12k",
    " 长白班 不穿无尘服",
    "!!!",
    " 底薪+提成",
    "/综合工资7000+",
    " 做六休一",
    "（包住）日结200",
]


def _read(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (HERE / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _, expected = line.rpartition("|")
        rows.append((text.strip(), expected.strip()))
    return rows


def _fullwidth(s: str) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == " ":
            out.append("\u3000")
        elif 0x21 <= o <= 0x7E:
            out.append(chr(o + 0xFEE0))
        else:
            out.append(ch)
    return "".join(out)


def _traditional(s: str) -> str:
    return "".join(_S2T.get(ch, ch) for ch in s)


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _homophone_pool(texts: list[str]) -> dict[str, list[str]]:
    chars = sorted({ch for t in texts for ch in t if _is_cjk(ch)})
    pool: dict[str, list[str]] = {}
    for ch in chars:
        pool.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    # Common characters that are frequent typing slips.
    for ch in "汗悍旱捍翰憾函寒韩含涵喊罕电店点典殿垫甸淀叉插查差茶察岔诧工公功攻宫弓供恭共贡司思丝私斯撕死四寺似饲":
        pool.setdefault(lazy_pinyin(ch)[0], []).append(ch)
    return {k: sorted(set(v)) for k, v in pool.items()}


def _typo(s: str, rng: random.Random, pool: dict[str, list[str]]) -> str | None:
    cjk = [i for i, ch in enumerate(s) if _is_cjk(ch)]
    if len(cjk) >= 2:
        rng.shuffle(cjk)
        for i in cjk:
            alts = [c for c in pool.get(lazy_pinyin(s[i])[0], []) if c != s[i]]
            if alts:
                return s[:i] + rng.choice(alts) + s[i + 1 :]
        return None
    letters = [i for i, ch in enumerate(s) if ch.isascii() and ch.isalpha()]
    if len(letters) >= 5:
        i = rng.choice(letters[1:-1])
        op = rng.choice(["swap", "drop", "double"])
        if op == "swap" and i + 1 < len(s) and s[i + 1].isalpha():
            return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
        if op == "drop":
            return s[:i] + s[i + 1 :]
        return s[:i] + s[i] + s[i:]
    return None


def _spacing(s: str, rng: random.Random) -> str:
    if any(ch.isascii() and ch.isalpha() for ch in s):
        return "  " + s.replace(" ", "   ").title() + " "
    return " " + s + "  "


def _variants(kind: str, text: str, rng: random.Random, pool: dict[str, list[str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if kind == "skill":
        out.append(("noise", rng.choice(_SKILL_PREFIX) + text + rng.choice(["", rng.choice(_SKILL_SUFFIX)])))
    elif kind == "certificate":
        out.append(("noise", rng.choice(_CERT_PREFIX) + text + rng.choice(["", rng.choice(_CERT_SUFFIX)])))
    else:
        out.append(("perks", rng.choice(["", rng.choice(_TITLE_PREFIX)]) + text + rng.choice(_TITLE_SUFFIX)))
    typo = _typo(text, rng, pool)
    if typo is not None and rng.random() < 0.7:
        out.append(("typo", typo))
    form = rng.choice(["fullwidth", "traditional", "spacing"])
    if form == "fullwidth":
        out.append((form, _fullwidth(text)))
    elif form == "traditional" and _traditional(text) != text:
        out.append((form, _traditional(text)))
    else:
        out.append(("spacing", _spacing(text, rng)))
    return out


def build() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    cases = {kind: _read(name) for kind, name in KINDS.items()}
    pool = _homophone_pool([t for rows in cases.values() for t, _ in rows])
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for kind, items in cases.items():
        for text, expected in items:
            for source, variant in [("hand", text), *_variants(kind, text, rng, pool)]:
                if (kind, variant) in seen:
                    continue
                seen.add((kind, variant))
                rows.append({"kind": kind, "text": variant, "expected_id": expected, "source": source})
    return rows


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["kind", "text", "expected_id", "source"])
        writer.writeheader()
        writer.writerows(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["kind"]] = counts.get(r["kind"], 0) + 1
    print(f"wrote {len(rows)} rows to {OUT.name}: {counts}")


if __name__ == "__main__":
    main()
