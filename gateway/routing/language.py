"""Language detection for routing: scrub what is not language, ask lingua, weigh hints.

Pure (no I/O). The lingua detector is built once per process and language set
(`detector()`); building it loads the models (~360 MB, ~2.5 s in high accuracy mode).

Stored codes are ISO 639-1 (`ticket.language` is "zh", never "zh-Hant", as api.md
promises); the Chinese script and the Indonesian/Malay group only widen the *tags* a
rule can match (`LanguageResult.tags`): "zh" plus "zh-Hans" or "zh-Hant"; "id" and "ms"
both carry the tags id, ms and id-ms, because lingua cannot reliably tell them apart on
short text.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from gateway.routing import ngrams
from gateway.routing.scripts import spelled_language, without_loanwords

UNKNOWN = "unknown"

# Languages lingua cannot separate on short text: routing treats them as one group.
LANGUAGE_GROUPS: dict[str, str] = {"id": "id-ms", "ms": "id-ms"}

# Hints count only for short texts: past this many words lingua is right on its own.
SHORT_TEXT_WORDS = 5

# How much each hint adds to a language's confidence on a short text. An agent's
# setting is not a hint: it wins outright.
HINT_WEIGHTS: dict[str, float] = {
    "history": 0.30,  # the language of the customer's earlier messages
    "channel": 0.20,  # Telegram language_code, the widget's UI language
}

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:com|net|org|io|me|app|co)(?:/\S*)?\b")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_HEX = re.compile(r"\b(?:0x)?[0-9a-fA-F]{24,}\b")
# Crypto addresses and ids: long runs of letters and digits mixed (base58, bech32,
# Tron's T..., exchange order ids with letters).
_MIXED_ID = re.compile(r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9_-]{8,}\b")
_NUMBER = re.compile(r"[+-]?\d[\d.,:/'\s]*\d|\d")
# "p2p" touching Japanese or Chinese ("p2p取引") leaves Latin letters that pull the
# detector off the script the message is written in.
_P2P = re.compile(r"p2p", re.I)
# Tickers and currency codes read as words by the detector ("USDT" looks Vietnamese).
TICKERS = frozenset(
    """usdt usdc btc eth bnb trx sol ton fdusd dai xrp doge ltc busd tusd ada matic
    usd eur rub uah vnd idr myr try brl inr ngn cny rmb php pkr thb krw jpy ars mxn cop
    kzt egp aed sar irr gbp kes ghs ves pen clp bdt lkr zar uzs azn gel""".split()
)
_TICKER = re.compile(r"\b(?:" + "|".join(sorted(TICKERS, key=len, reverse=True)) + r")\b", re.I)
_SYMBOLS = re.compile(r"[$€£¥₽₴₫₺₹₩฿₱₦₸#№%*_=+<>|~^`\\/\[\]{}()\"“”«»]")
_SPACES = re.compile(r"\s+")

# Characters that exist only in one of the two Chinese scripts (common ones in support
# messages). Counting them tells Simplified from Traditional; a tie means Simplified,
# which most mainland and overseas P2P customers write.
_HANS_ONLY = frozenset(
    "这个们说时为会经过还没发钱账号买卖币让给订单转问题请谢对应该现后里东见开关无与从进实间"
    "长门马车书学习处办电话网络资额冻结骗盗帐户银钱汇款达币卖货骗觉当来这样么"
)
_HANT_ONLY = frozenset(
    "這個們說時為會經過還沒發錢賬號買賣幣讓給訂單轉問題請謝對應該現後裡東見開關無與從進實間"
    "長門馬車書學習處辦電話網絡資額凍結騙盜帳戶銀錢匯款達幣賣貨騙覺當來這樣麼"
)


# Words that, written in Latin letters, only Russian (or Hindi/Urdu) speakers write.
# Lingua reads "Prodavec ne otpuskaet usdt, ya oplatil" as Indonesian; two or more of
# these, making up a quarter of the words, say which language it really is. Romanised
# Urdu uses the same words as romanised Hindi: it is routed as Hindi.
ROMANISED_MARKERS: dict[str, frozenset[str]] = {
    "ru": frozenset(
        """oplatil oplatila oplatu oplata oplaty oplacheno prodavec prodavets prodavca
        pokupatel pokupatelya dengi deneg pomogite pochemu chto kak eto menya mne uzhe
        chasa srochno otpuskaet otpustil otpuskayet perevel perevela karte kartu sdelku
        sdelka sdelki otmenil otmenili vzlomali akkaunt vyveli vse nichego mozhno nuzhno
        spasibo pozhaluista pozhaluysta privet zdravstvuite zdravstvuyte apellyacii
        apellyaciya nikto otvechaet kriptu prishli prishlo delat moei moya moi vy posle
        nazhal govorit zachem gde kogda tolko ya""".split()
    ),
    "hi": frozenset(
        """hai hain nahi nahin nhi maine mera mere meri mujhe paise paisa diya kiya raha
        rahi gaya gayi hua kya kyu kyun abhi bhai bheje bhej bheja wapas aaya karo karu
        kaise chalega wajah karwa badal ho kar ke ki ka se ko aur bhi lekin karke kiye
        gaye gye tha thi hu hoon main apni apna apne liye tak kitna kab milega bahut
        badhiya acha accha koi karega badalne baad bane sakta sakti ne me mein hi
        bola bol kuch chahiye kaunse kaun kyunki magar aaye aayi khulega dhanyawad jaldi
        mila mili milega wala wale banke chhod atka gayab mangwa nikaal liya""".split()
    ),
    # Vietnamese typed without its tone marks ("toi da chuyen tien ma chua nhan duoc"):
    # lingua reads it as Spanish or French.
    "vi": frozenset(
        """toi khong ko nguoi duoc dc chuyen khoan chua roi tien nhan giao dich lenh huy
        sao lam het rut thiet cua xac minh oi dang nhap khieu nai hoan ngan thanh toan
        nguon giay han nop doi thay tk ck nha tha lua vang tro gui nhung phai gi bao
        lau mot nay sau truoc ban em da ma bi cho hang lai ve vi de tai""".split()
    ),
}
# Markers that alone say nothing (short, or words of other languages too).
_WEAK_MARKERS = frozenset(
    """ya vy vse mne kak ho kar ke ki ka se ko aur bhi hai ne me mein hi main tak kab
    ban em da ma bi cho hang lai ve vi de tai sau bao mot nay gi""".split()
)


def romanised_language(text: str) -> tuple[str, int, int] | None:
    """(language, marker words, words) for Latin-script text written in a language
    that has its own script, or None."""
    words = [w for w in re.findall(r"[^\W\d_]+", text.casefold()) if w.isascii()]
    if len(words) < 3 or not all(w.isascii() for w in text.split() if w.isalpha()):
        return None
    best: tuple[str, int, int] | None = None
    for code, markers in ROMANISED_MARKERS.items():
        hits = [w for w in words if w in markers]
        strong = [w for w in hits if w not in _WEAK_MARKERS]
        if len(strong) >= 2 and len(hits) * 4 >= len(words):
            if best is None or len(hits) > best[1]:
                best = (code, len(hits), len(words))
    return best


@dataclass(frozen=True, slots=True)
class LanguageHints:
    """What else says which language a customer writes, strongest last."""

    channel: str | None = None  # Telegram language_code, widget UI language
    history: str | None = None  # the language of the customer's earlier messages
    agent: str | None = None  # set by an agent on the customer: wins outright


@dataclass(frozen=True, slots=True)
class LanguageResult:
    code: str  # ISO 639-1, or "unknown"
    confidence: float
    reasons: tuple[str, ...] = ()
    script: str | None = None  # "Hans" / "Hant" for Chinese
    tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def known(self) -> bool:
        return self.code != UNKNOWN


def parse_languages(value: str | Iterable[str]) -> frozenset[str]:
    """`"en,ru"` or `["en", "ru"]` -> {"en", "ru"}; raises ValueError for a code lingua lacks."""
    items = value.split(",") if isinstance(value, str) else list(value)
    codes = frozenset(item.strip().lower() for item in items if item.strip())
    for code in codes:
        _lingua_language(code)
    if not codes:
        raise ValueError("the desk needs at least one language")
    return codes


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"language {code!r} is not an ISO 639-1 code lingua knows") from exc


_detectors: dict[tuple[frozenset[str], bool], LanguageDetector] = {}
_detectors_lock = threading.Lock()


def detector(languages: frozenset[str], *, low_accuracy: bool = False) -> LanguageDetector:
    """The process's one detector for this language set (built and preloaded on first use)."""
    key = (languages, low_accuracy)
    with _detectors_lock:
        built = _detectors.get(key)
        if built is None:
            builder = LanguageDetectorBuilder.from_languages(
                *(_lingua_language(code) for code in sorted(languages))
            )
            if low_accuracy:
                builder = builder.with_low_accuracy_mode()
            built = builder.with_preloaded_language_models().build()
            _detectors[key] = built
        return built


def scrub(text: str) -> str:
    """Remove what is not language: URLs, addresses, handles, hashes, ids, numbers,
    amounts and tickers. What is left is what the detector should read."""
    text = _EMAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    text = _HEX.sub(" ", text)
    text = _MIXED_ID.sub(" ", text)
    text = _P2P.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    text = _TICKER.sub(" ", text)
    text = _SYMBOLS.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def has_letters(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def word_count(text: str) -> int:
    """Words, counting each CJK/Thai character run as ~2 chars a word."""
    count = 0
    for token in text.split():
        wide = sum(1 for ch in token if _is_unspaced_script(ch))
        count += max(1, (wide + 1) // 2) if wide else 1
    return count


def _is_unspaced_script(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xAC00 <= cp <= 0xD7AF
        or (0x0E00 <= cp <= 0x0E7F)
    )


def chinese_script(text: str) -> str:
    """ "Hant" when Traditional-only characters outnumber Simplified-only ones, else "Hans"."""
    hans = sum(1 for ch in text if ch in _HANS_ONLY)
    hant = sum(1 for ch in text if ch in _HANT_ONLY)
    return "Hant" if hant > hans else "Hans"


def tags_for(code: str, script: str | None = None) -> frozenset[str]:
    """What a rule's `language` list is matched against for a detected code."""
    tags = {code}
    group = LANGUAGE_GROUPS.get(code)
    if group:
        tags |= {group, *(c for c, g in LANGUAGE_GROUPS.items() if g == group)}
    if script:
        tags.add(f"{code}-{script}")
    return frozenset(tags)


class LanguageDetectorService:
    """Detects a message's language among the desk's languages, explaining its answer."""

    def __init__(
        self,
        languages: frozenset[str],
        *,
        min_confidence: float,
        low_accuracy: bool = False,
    ) -> None:
        self.languages = languages
        self.min_confidence = min_confidence
        self._detector = detector(languages, low_accuracy=low_accuracy)
        self._own = ngrams.shipped()

    def detect(self, text: str, hints: LanguageHints | None = None) -> LanguageResult:
        """The language of `text`, or "unknown" below the confidence threshold."""
        hints = hints or LanguageHints()
        if hints.agent:
            code = hints.agent.lower()
            script = chinese_script(text) if code == "zh" else None
            return self._result(code, 1.0, ["language set by an agent for this customer"], script)

        cleaned = scrub(text)
        romanised = romanised_language(cleaned)
        if romanised is not None and romanised[0] in self.languages:
            code, hits, words = romanised
            return self._result(
                code,
                min(1.0, 0.5 + hits / words),
                [f"language {code}: written in Latin letters ({hits} of {words} words)"],
                None,
            )
        spelled = spelled_language(cleaned, self.languages)
        if spelled is not None:
            code, reason = spelled
            script = chinese_script(cleaned) if code == "zh" else None
            return self._result(code, 1.0, [reason], script)
        cleaned = without_loanwords(cleaned)
        if not has_letters(cleaned):
            return LanguageResult(
                UNKNOWN,
                0.0,
                ("language unknown: no words left after removing numbers, ids and addresses",),
                tags=frozenset({UNKNOWN}),
            )
        scores = {
            cv.language.iso_code_639_1.name.lower(): cv.value
            for cv in self._detector.compute_language_confidence_values(cleaned)
        }
        reasons: list[str] = []
        words = word_count(cleaned)
        hinted = False
        if words <= SHORT_TEXT_WORDS:
            for kind in ("channel", "history"):
                hint = getattr(hints, kind)
                if hint and hint.lower() in scores:
                    weight = HINT_WEIGHTS[kind]
                    scores[hint.lower()] += weight
                    hinted = True
                    reasons.append(f"short text ({words} words): {kind} hint {hint} +{weight:.2f}")
        # A group's members share their confidence: "saya sudah bayar" is id 0.45, ms 0.43.
        grouped: dict[str, float] = {}
        for code, value in scores.items():
            key = LANGUAGE_GROUPS.get(code, code)
            grouped[key] = grouped.get(key, 0.0) + value
        best_key = max(grouped, key=lambda k: grouped[k])
        confidence = min(1.0, grouped[best_key])
        members = [c for c in scores if LANGUAGE_GROUPS.get(c, c) == best_key]
        code = max(members, key=lambda c: scores[c])
        if confidence < self.min_confidence:
            reasons.append(
                f"language unknown: best guess {code} at {confidence:.2f} is below the "
                f"threshold {self.min_confidence:.2f}"
            )
            return LanguageResult(UNKNOWN, confidence, tuple(reasons), tags=frozenset({UNKNOWN}))
        # A hint the short text followed outweighs the model's guess from a word or two.
        own = None if hinted else self._own_vote(cleaned, code, confidence)
        if own is not None:
            lingua_code, (code, confidence) = code, own
            reasons.insert(
                0,
                f"language {code} ({confidence:.2f}) by the desk's own n-gram model, "
                f"lingua read {lingua_code}",
            )
        else:
            reasons.insert(0, f"language {code} ({confidence:.2f}) detected by lingua")
            if best_key != code:
                reasons.append(f"{best_key} treated as one language group")
        script = chinese_script(cleaned) if code == "zh" else None
        return self._result(code, confidence, reasons, script)

    def _own_vote(self, cleaned: str, code: str, confidence: float) -> tuple[str, float] | None:
        """For Latin letters: (language, its posterior) when lingua's confidence in `code`
        plus the desk's own model's posterior (gateway/routing/ngrams.py) favour another
        language; None when they agree or the model has nothing to say."""
        if self._own is None or not ngrams.latin_only(cleaned):
            return None
        posterior = self._own.posterior(cleaned, among=self.languages)
        if not posterior:
            return None
        votes = dict(posterior)
        votes[code] = votes.get(code, 0.0) + confidence
        best = max(votes, key=votes.__getitem__)
        if LANGUAGE_GROUPS.get(best, best) == LANGUAGE_GROUPS.get(code, code):
            return None
        return best, posterior[best]

    @staticmethod
    def _result(
        code: str, confidence: float, reasons: list[str], script: str | None
    ) -> LanguageResult:
        if script:
            name = "Traditional" if script == "Hant" else "Simplified"
            reasons.append(f"Chinese script: {name} (zh-{script})")
        tags = tags_for(code, script)
        return LanguageResult(code, round(confidence, 3), tuple(reasons), script, tags)
