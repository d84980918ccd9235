"""Text cleaning shared by every normaliser.

Free text from workers and job boards mixes full-width and half-width forms,
traditional and simplified characters, English, emoji and filler words. All
matchers compare *keys*: the same cleaning applied to the taxonomy aliases and
to the input, so an exact dictionary lookup catches most strings before any
fuzzy matching is needed.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "clean_text",
    "make_key",
    "key_from_clean",
    "strip_noise",
    "split_cell",
    "is_cjk",
    "has_cjk",
    "t2s",
]

# Traditional -> simplified for the characters that occur in job and skill
# text. Pairs "繁简"; a full OpenCC table is not needed (and not a dependency).
_T2S_PAIRS = (
    "電电 焊焊 銲焊 車车 員员 師师 機机 裝装 計计 廠厂 護护 廚厨 藝艺 軟软 體体 駕驾 駛驶 證证 書书 業业 "
    "銷销 貨货 運运 輸输 樓楼 層层 鋼钢 鐵铁 壓压 氣气 線线 維维 養养 嬰婴 兒儿 醫医 療疗 藥药 飯饭 館馆 "
    "麵面 點点 衛卫 潔洁 環环 園园 綠绿 種种 農农 魚鱼 豬猪 雞鸡 鴨鸭 東东 區区 廣广 華华 號号 時时 "
    "間间 門门 開开 關关 問问 題题 經经 驗验 級级 職职 資资 薪薪 險险 勞劳 動动 務务 擇择 練练 學学 "
    "習习 導导 師师 傅傅 試试 調调 適适 應应 會会 雜杂 搬搬 處处 倉仓 庫库 揀拣 揀拣 發发 貼贴 標标 "
    "專专 項项 網网 絡络 腦脑 視视 頻频 遊游 戲戏 優优 惠惠 費费 錢钱 價价 買买 賣卖 單单 幫帮 讓让 "
    "說说 話话 語语 讀读 寫写 認认 識识 歲岁 齡龄 男男 婦妇 媽妈 爺爷 奶奶 陪陪 診诊 顧顾 則则 質质 "
    "檢检 測测 驗验 儀仪 錶表 數数 據据 據据 類类 範范 圍围 設设 備备 廢废 塊块 場场 廳厅 櫃柜 "
    "夠够 歡欢 樂乐 燈灯 熱热 滅灭 災灾 爐炉 燒烧 煙烟 營营 與与 為为 這这 個个 們们 來来 對对 "
    "產产 線线 組组 織织 紡纺 絲丝 綫线 縫缝 紉纫 裝装 褲裤 襪袜 鞋鞋 帶带 鋁铝 銅铜 錫锡 鎖锁 "
    "鑽钻 鋸锯 磚砖 塗涂 漆漆 墻墙 牆墙 頂顶 屬属 攝摄 鏡镜 頭头 準准 確确 實实 際际 總总 "
    "倉仓 儲储 搬搬 卸卸 遞递 郵邮 寄寄 騎骑 團团 購购 億亿 萬万 塊块 兩两 幾几 雙双 "
    "禮礼 儀仪 賓宾 餐餐 廳厅 湯汤 鍋锅 燉炖 麪面 飲饮 補补 換换 輪轮 胎胎 鈑钣 噴喷 "
    "漿浆 擠挤 塑塑 膠胶 罐罐 鍍镀 磨磨 拋抛 鍛锻 鑄铸 模模 鉗钳 銑铣 搖摇 擺摆 "
    "監监 控控 巡巡 邏逻 崗岗 衛卫 殺杀 蟲虫 掃扫 垃垃 圾圾 園园 藝艺 樹树 藥药 "
    "講讲 課课 紀纪 錄录 輯辑 劇剧 戶户 創创 訊讯 雲云 遠远 進进 過过 還还 邊边 "
    "讓让 談谈 歷历 屆届 幣币 隨随 復复 錯错 險险 緊紧 鬆松 長长 門门 陳陈 劉刘 張张 黃黄 趙赵 "
    "楊杨 吳吴 鄭郑 韓韩 馮冯 葉叶 蘇苏 盧卢 蔣蒋 龍龙 鳳凤 貴贵 陽阳 滬沪 蘇苏 浙浙 閩闽 贛赣 "
    "遼辽 吉吉 黑黑 魯鲁 豫豫 鄂鄂 湘湘 粵粤 瓊琼 渝渝 川川 黔黔 滇滇 陝陕 甘甘 寧宁 蒙蒙 疆疆 "
    "響响 聲声 車车 輛辆 駐驻 廂厢 橋桥 隧隧 礦矿 煉炼 鑛矿 爆爆 破破 隊队 勢势 "
    "溝沟 通通 協协 責责 認认 積积 極极 勤勤 勞劳 苦苦 級级 證证 執执 照照 "
)
_T2S = str.maketrans({p[0]: p[1] for p in _T2S_PAIRS.split() if len(p) == 2 and p[0] != p[1]})

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WS_RE = re.compile(r"\s+")
# Anything that is not a letter, digit or CJK character (keeps + and # for "C++", "C#").
_NON_KEY_RE = re.compile(r"[^0-9a-z\u3400-\u4dbf\u4e00-\u9fff+#]+")
_EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200b-\u200f\u2060\ufeff]"
)

# Separators of a list cell. Spaces are handled separately (only between CJK).
_SPLIT_RE = re.compile(r"[;；、，,/|\n\r\t·•]+|\s*\+\s*(?=[\u4e00-\u9fff])")
_CJK_SPACE_RE = re.compile(r"(?<=[\u4e00-\u9fff）)】])\s+(?=[\u4e00-\u9fff（(【])")

# Filler around a skill or certificate phrase: proficiency words, years of
# experience, "preferred", verbs of doing. Applied to keys (already cleaned).
_NOISE_PATTERNS = (
    r"(?:\d+|[一二两三四五六七八九十半几多数]+)\s*(?:年|个月|月)(?:以上|左右|多)?(?:的)?(?:工作|相关|从业)?(?:经验|工龄|经历)?(?:以上)?",
    r"(?:有|具有|具备|拥有|持有|持)?(?:相关|丰富|多年|一定|工作)?(?:的)?(?:工作)?经验(?:者)?(?:优先)?",
    r"(?:者优先|优先考虑|优先录用|优先|更佳|为佳|最好|加分)",
    r"^(?:熟练掌握|熟练使用|熟练操作|熟练|熟悉|精通|掌握|了解|擅长|懂得|懂|会|能|可以|可|较强的|很强的|良好的|良好|较强|一定的|基本的|简单的|简单|持有效|持有|有效|持证|有证|持|本人|自己|我|有|具有|具备|拥有|一名|一个)(?=.{2,})",
    r"^(?:开|做|搞|干|跑|当|用|使用|操作|从事|负责|进行)(?=.{2,})",
    r"(?<=.{2})(?:技术|技能|能力|工作|作业|经历|操作|技巧|活儿|活|方面|相关|等|基础|熟练|精通|娴熟|良好|优秀|都会|都行|均可)$",
    r"(?<=.{2})(?:证件齐全|证件|在有效期内|有效期内|有效|齐全|已年审|年审|复审|在审|原件)$",
    r"\b(?:very|old|experienced|experience|skilled|skills|skill|proficient|years|year|yrs|in|with|of|can|able to|good at|the|and|work|working)\b\s*",
    r"\b\d+\s*(?:\+\s*)?\b",
)
_NOISE_RE = [re.compile(p) for p in _NOISE_PATTERNS]


def t2s(text: str) -> str:
    """Map the common traditional characters to simplified ones."""
    return text.translate(_T2S)


def is_cjk(ch: str) -> bool:
    """True for a CJK unified ideograph."""
    return bool(_CJK_RE.match(ch))


def has_cjk(text: str) -> bool:
    """True if the text contains at least one CJK ideograph."""
    return bool(_CJK_RE.search(text))


def clean_text(text: object) -> str:
    """NFKC, simplified, lower-case, no emoji, single spaces.

    Never raises: ``None``, NaN and non-strings become ``""`` or ``str(x)``.
    """
    if text is None:
        return ""
    if isinstance(text, float) and text != text:
        return ""
    s = text if isinstance(text, str) else str(text)
    if not s:
        return ""
    if not (s.isascii() or unicodedata.is_normalized("NFKC", s)):
        s = unicodedata.normalize("NFKC", s)
    s = _EMOJI_RE.sub(" ", s)
    s = t2s(s).lower()
    # Surrogates and other unencodable code points cannot reach the matchers.
    s = s.encode("utf-8", "ignore").decode("utf-8")
    return _WS_RE.sub(" ", s).strip()


_KEY_SPACE_RE = re.compile(r"(?<![0-9a-z+#]) | (?![0-9a-z+#])")


@lru_cache(maxsize=65536)
def make_key(text: str) -> str:
    """Dictionary key of a phrase: cleaned, letters/digits/CJK only.

    Spaces survive only between two Latin words ("forklift driver"), so
    "叉车 司机" and "叉车司机" share a key while English words stay apart.
    """
    return key_from_clean(clean_text(text))


def key_from_clean(cleaned: str) -> str:
    """:func:`make_key` of a string that is already :func:`clean_text` output."""
    s = _NON_KEY_RE.sub(" ", cleaned).strip()
    return _KEY_SPACE_RE.sub("", s) if " " in s else s


@lru_cache(maxsize=65536)
def strip_noise(key: str) -> str:
    """Remove proficiency words, years of experience and filler from a key.

    Returns the key unchanged if stripping would leave nothing, so a noise
    word on its own is still looked up as itself.
    """
    out = key
    for _ in range(3):
        before = out
        for rx in _NOISE_RE:
            out = rx.sub("", out)
        if out == before:
            break
    out = out.strip()
    return out if out else key


def split_cell(text: object) -> list[str]:
    """Split a list cell on ``;；、，,/|`` and on spaces between CJK words.

    English phrases keep their spaces ("forklift driving" is one item).
    """
    s = clean_text(text)
    if not s:
        return []
    s = _CJK_SPACE_RE.sub(";", s)
    return [p.strip() for p in _SPLIT_RE.split(s) if p and p.strip()]
