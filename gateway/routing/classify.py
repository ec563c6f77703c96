# ruff: noqa: RUF001  (currency words and letter folds in many scripts)
"""Severity, dispute category and the stated order, amount and currency of a message.

Pure (no I/O). Phrase lists live in `gateway.routing.phrases`; this module normalises
text, matches phrases with typo tolerance, extracts the fields and explains each step.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from gateway.routing import phrases, release_phrases
from gateway.tickets.models import SEVERITY_RANK, Category, Severity

# Past this, a message is a pasted history or a log: its head says what matters.
MAX_CLASSIFY_CHARS = 4000
MAX_FUZZY_TOKENS = 400

BY_RANK = {rank: severity for severity, rank in SEVERITY_RANK.items()}

CATEGORY_SEVERITY: dict[str, Severity] = {
    Category.account_takeover: Severity.critical,
    Category.fraud_or_scam: Severity.high,
    Category.chargeback: Severity.high,
    Category.bank_account_frozen: Severity.high,
    Category.cancelled_after_payment: Severity.high,
    Category.crypto_not_released: Severity.high,
    Category.payment_not_received: Severity.high,
    Category.third_party_payment: Severity.normal,
    Category.amount_mismatch: Severity.normal,
    Category.account_frozen: Severity.normal,
    Category.other: Severity.normal,
}

# Rough USD value of one unit, only to compare a stated amount with the configured
# thresholds (an order of magnitude is what matters, not the day's rate).
USD_VALUE: dict[str, Decimal] = {
    code: Decimal(value)
    for code, value in {
        "USD": "1",
        "USDT": "1",
        "USDC": "1",
        "FDUSD": "1",
        "DAI": "1",
        "BUSD": "1",
        "TUSD": "1",
        "BTC": "60000",
        "ETH": "3000",
        "BNB": "550",
        "SOL": "150",
        "TON": "5",
        "TRX": "0.12",
        "XRP": "0.5",
        "LTC": "70",
        "DOGE": "0.12",
        "EUR": "1.08",
        "GBP": "1.27",
        "RUB": "0.011",
        "UAH": "0.024",
        "VND": "0.00004",
        "IDR": "0.000063",
        "MYR": "0.21",
        "TRY": "0.031",
        "BRL": "0.19",
        "INR": "0.012",
        "NGN": "0.00067",
        "CNY": "0.14",
        "PHP": "0.018",
        "PKR": "0.0036",
        "THB": "0.028",
        "KRW": "0.00074",
        "JPY": "0.0066",
        "ARS": "0.0011",
        "MXN": "0.055",
        "COP": "0.00025",
        "KZT": "0.0021",
        "EGP": "0.021",
        "AED": "0.27",
        "SAR": "0.27",
        "IRR": "0.000024",
        "VES": "0.027",
        "KES": "0.0077",
        "GHS": "0.067",
        "ZAR": "0.054",
        "BDT": "0.0085",
    }.items()
}
CRYPTO = frozenset(
    {"USDT", "USDC", "FDUSD", "DAI", "BUSD", "TUSD", "BTC", "ETH", "BNB", "SOL", "TON",
     "TRX", "XRP", "LTC", "DOGE"}
)  # fmt: skip
# Coins whose amounts are usually fractions: "0.125 BTC" is not 125 BTC.
COINS = frozenset({"BTC", "ETH", "BNB", "SOL", "LTC"})

# Alias -> code. Lower-case aliases match in any case; upper-case ones only as written
# ("TRY" is the lira, "try" is English).
_CURRENCY_ALIASES: dict[str, str] = {
    **{code.lower(): code for code in CRYPTO},
    **{code: code for code in USD_VALUE if code not in CRYPTO},
    "us$": "USD", "$": "USD", "dollars": "USD", "dollar": "USD", "usd": "USD",
    "долларов": "USD", "доллара": "USD", "доллар": "USD", "баксов": "USD",
    "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "евро": "EUR", "£": "GBP",
    "₽": "RUB", "руб": "RUB", "рублей": "RUB", "рубля": "RUB", "rub": "RUB",
    "₴": "UAH", "грн": "UAH", "гривень": "UAH", "гривен": "UAH", "uah": "UAH",
    "₫": "VND", "vnd": "VND", "vnđ": "VND", "đồng": "VND", "đ": "VND",
    "rp": "IDR", "idr": "IDR", "rm": "MYR", "ringgit": "MYR", "myr": "MYR",
    "₺": "TRY", "tl": "TRY", "lira": "TRY", "r$": "BRL", "reais": "BRL", "brl": "BRL",
    "₹": "INR", "inr": "INR", "rupees": "INR", "रुपये": "INR", "₦": "NGN", "naira": "NGN",
    "ngn": "NGN", "¥": "CNY", "元": "CNY", "块": "CNY", "塊": "CNY", "人民币": "CNY",
    "rmb": "CNY", "cny": "CNY", "円": "JPY", "jpy": "JPY", "₱": "PHP", "pesos": "PHP",
    "pkr": "PKR", "روپے": "PKR", "฿": "THB", "บาท": "THB", "baht": "THB", "thb": "THB",
    "₩": "KRW", "원": "KRW", "krw": "KRW", "₸": "KZT", "тенге": "KZT", "kzt": "KZT",
    "ريال": "SAR", "درهم": "AED", "تومان": "IRR", "ریال": "IRR", "جنيه": "EGP",
    "dolares": "USD", "dólares": "USD", "dolar": "USD", "грн.": "UAH",
    "rupiah": "IDR", "rupee": "INR", "روپیہ": "PKR",
}  # fmt: skip
_MULTIPLIERS: dict[str, Decimal] = {
    "k": Decimal(1000), "к": Decimal(1000), "тыс": Decimal(1000), "тысяч": Decimal(1000),
    "тис": Decimal(1000), "ribu": Decimal(1000), "rb": Decimal(1000), "nghìn": Decimal(1000),
    "ngàn": Decimal(1000), "mil": Decimal(1000), "bin": Decimal(1000), "千": Decimal(1000),
    "m": Decimal(10**6), "млн": Decimal(10**6), "juta": Decimal(10**6), "jt": Decimal(10**6),
    "triệu": Decimal(10**6), "tr": Decimal(10**6), "million": Decimal(10**6),
    "万": Decimal(10**4), "萬": Decimal(10**4), "만": Decimal(10**4), "lakh": Decimal(10**5),
    "लाख": Decimal(10**5), "لاکھ": Decimal(10**5), "crore": Decimal(10**7),
    "करोड़": Decimal(10**7), "trieu": Decimal(10**6), "هزار": Decimal(1000),
    "میلیون": Decimal(10**6), "ألف": Decimal(1000), "الف": Decimal(1000),
    "مليون": Decimal(10**6), "tys": Decimal(1000), "mln": Decimal(10**6),
    # Korean, Chinese and Japanese count in tens of thousands: "2천만원" is 2 x 10^7 won.
    "천": Decimal(1000), "백만": Decimal(10**6), "천만": Decimal(10**7), "억": Decimal(10**8),
    "百万": Decimal(10**6), "千万": Decimal(10**7), "亿": Decimal(10**8), "億": Decimal(10**8),
}  # fmt: skip

_NUM = r"\d{1,3}(?:[ ,.'\u00a0]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"


def _spaced(word: str) -> bool:
    """Written between spaces: a word of it ends only where a letter does not follow
    ("元" and "$" end where they end: "5000元卖家" is 5000 yuan)."""
    return word[-1].isalpha() and not any(_unspaced_char(ch) for ch in word)


def _unspaced_char(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xAC00 <= cp <= 0xD7AF
        or (0x0E00 <= cp <= 0x0E7F)
    )


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# A word alias or multiplier must end where its word ends: "ke" after "Rp 1.500.000" is
# Indonesian "to", not "k" for thousand; symbols and CJK ones need no word boundary.
_CUR = (
    rf"(?:(?P<cur>{_alternatives(a for a in _CURRENCY_ALIASES if _spaced(a))})(?!\w)"
    rf"|(?P<cur_sym>{_alternatives(a for a in _CURRENCY_ALIASES if not _spaced(a))}))"
)
_MULT = (
    rf"(?:(?P<mult>{_alternatives(m for m in _MULTIPLIERS if _spaced(m))})(?![^\W\d_])"
    rf"|(?P<mult_sym>{_alternatives(m for m in _MULTIPLIERS if not _spaced(m))}))"
)
# Before the number: no letter or digit of a spaced script ("usdt2" is no amount), but
# Chinese or Japanese text may run straight into it ("我付了10万元").
_CJK = "\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f"
_AMOUNT_AFTER = re.compile(
    rf"(?<![.,])(?<!(?![{_CJK}])\w)(?P<num>{_NUM})\s?{_MULT}?\.?\s?{_CUR}", re.I
)
# Ringgit and rupiah are often written touching the number: "rm60000", "rp500.000".
_CUR_BEFORE = rf"(?:(?P<cur_touch>rm|rp)(?=\d)|{_CUR})"
_AMOUNT_BEFORE = re.compile(
    rf"(?<!\w){_CUR_BEFORE}\s?(?P<num>{_NUM})(?:\s?{_MULT})?(?![\w.,]\d)", re.I
)
# P2P order numbers are 18-20 digits; some desks paste 12-24. Letters-and-digits ids
# count only right after a word for "order".
_ORDER_DIGITS = re.compile(r"(?<![\d.,])\d{12,24}(?![\d.,]\d)")
_ORDER_WORDS = (
    r"order|ордер|заказ|сделк|订单|訂單|đơn|pesanan|sipariş|pedido|orden|ordem|commande|"
    r"bestellung|auftrag|طلب|सौदा|ऑर्डर|注文|주문|ออเดอร์|سفارش|آرڈر"
)
_ORDER_NAMED = re.compile(
    rf"(?:{_ORDER_WORDS})\w*(?:\s*(?:no\.?|number|id|#|№|:))*\s*(?P<ref>[A-Za-z0-9][A-Za-z0-9-]{{5,63}})",
    re.I,
)

_ARABIC_FOLD = str.maketrans(
    {"ک": "ك", "ی": "ي", "ى": "ي", "ې": "ي", "ة": "ه", "ہ": "ه", "ھ": "ه", "ۀ": "ه",
     "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "\u200c": " ", "\u200d": "",
     "’": "'", "`": "'", "ـ": ""}
)  # fmt: skip
_REPEATS = re.compile(r"(.)\1{2,}")
_NON_WORD = re.compile(r"[^\w'\-]+")


def normalise(text: str) -> str:
    """Lower case, marks and accents folded, Arabic letter variants unified, runs of one
    letter shortened ("pleaseee" -> "please"), punctuation turned into spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if unicodedata.category(ch) != "Mn"
    )
    text = text.translate(_ARABIC_FOLD).replace("đ", "d").replace("ı", "i")
    text = _REPEATS.sub(r"\1", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def _unspaced(ch: str) -> bool:
    cp = ord(ch)
    return 0x3040 <= cp <= 0x30FF or 0x4E00 <= cp <= 0x9FFF or 0x0E00 <= cp <= 0x0E7F


def _fuzzy_script(word: str) -> bool:
    """Latin and Cyrillic words: where one typo is a typo, not another word."""
    return all(ch.isascii() or 0x0400 <= ord(ch) <= 0x04FF for ch in word)


def _osa_within(a: str, b: str, limit: int) -> bool:
    """Whether the optimal-string-alignment distance of a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return False
        prev2, prev = prev, cur
    return prev[-1] <= limit


def _typo_limit(stem: str) -> int:
    """Typos forgiven in a word: none below six letters or outside Latin/Cyrillic."""
    if len(stem) < 6 or not _fuzzy_script(stem):
        return 0
    return 1 if len(stem) < 9 else 2


def _near(stem: str, limit: int, token: str) -> bool:
    """`token` starts with `stem` give or take `limit` typos (checked after startswith)."""
    if not limit or len(token) < len(stem) - limit:
        return False
    if stem[0] != token[0] and stem[1] != token[1:2]:
        return False
    return any(
        _osa_within(stem, token[:length], limit)
        for length in range(len(stem) - limit, min(len(stem) + limit, len(token)) + 1)
    )


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str  # as written in phrases.py
    lang: str
    norm: str
    words: tuple[str, ...]
    unspaced: bool
    limits: tuple[int, ...]  # typos forgiven per word

    @property
    def fuzzy(self) -> bool:
        return not self.unspaced and any(self.limits)


@cache
def phrase_tables(table_id: str) -> tuple[tuple[str, tuple[Phrase, ...]], ...]:
    """The phrase tables, normalised once: ((key, phrases), ...)."""
    tables: dict[str, dict[str, dict[str, str]]] = {
        "category": phrases.CATEGORY_PHRASES,
        "urgent": {"urgent": phrases.URGENT_PHRASES},
        "low": {"low": phrases.LOW_PHRASES},
        "released": {"released": release_phrases.RELEASED_PHRASES},
        "not_released": {"not_released": release_phrases.NOT_RELEASED_PHRASES},
        "fake_proof": {"fake_proof": release_phrases.FAKE_PROOF_PHRASES},
    }
    out = []
    for key, by_lang in tables[table_id].items():
        items = []
        for lang, joined in by_lang.items():
            for raw in joined.split("|"):
                norm = normalise(raw)
                if norm:
                    words = tuple(norm.split())
                    limits = tuple(_typo_limit(w) for w in words)
                    items.append(Phrase(raw, lang, norm, words, any(map(_unspaced, norm)), limits))
        out.append((key, tuple(items)))
    if table_id == "category":
        order = {name: i for i, name in enumerate(phrases.CATEGORY_ORDER)}
        out.sort(key=lambda item: order[item[0]])
    return tuple(out)


def _find(
    phrase_list: Iterable[Phrase], padded: str, tokens: list[str], language: str | None = None
) -> Phrase | None:
    """The first phrase found in the text: exactly (word start) first, then with typos,
    but typos only in phrases of the message's own language (`language`; None: any),
    so "escrow" is never French "escroc"."""
    candidates = list(phrase_list)
    for p in candidates:
        if (p.norm in padded) if p.unspaced else (" " + p.norm in padded):
            return p
    toks = tokens[:MAX_FUZZY_TOKENS]
    for p in candidates:
        if not p.fuzzy or (language is not None and p.lang != language):
            continue
        n, first, limit = len(p.words), p.words[0], p.limits[0]
        for i in range(len(toks) - n + 1):
            token = toks[i]
            if not (token.startswith(first) or _near(first, limit, token)):
                continue
            if all(
                toks[i + k].startswith(w) or _near(w, p.limits[k], toks[i + k])
                for k, w in enumerate(p.words[1:], 1)
            ):
                return p
    return None


@dataclass(frozen=True, slots=True)
class Classification:
    category: Category
    severity: Severity
    order_ref: str | None
    amount: Decimal | None
    currency: str | None
    reasons: tuple[str, ...]
    # How sure the category and severity are (0..1); below the desk's threshold a ticket
    # goes to the triage queue. Phrase rules are sure when a phrase matched.
    confidence: float = 1.0


def parse_number(raw: str, *, prefer_decimal: bool = False) -> Decimal | None:
    """ "1,500.50", "1.500,50", "1 500", "0.05" -> Decimal. A lone "," or "." followed by
    exactly three digits groups thousands, unless the integer part is 0 or the currency
    is a coin (`prefer_decimal`: "0.125 BTC")."""
    s = raw.replace("\u00a0", " ").replace("'", " ").strip()
    marks = [(i, ch) for i, ch in enumerate(s) if ch in " ,."]
    if marks:
        last_i, last_ch = marks[-1]
        tail = s[last_i + 1 :]
        head = "".join(ch for ch in s[:last_i] if ch.isdigit())
        if last_ch == " ":
            decimal = False
        elif len({ch for _, ch in marks}) > 1:
            decimal = True
        elif len(marks) > 1:
            decimal = False
        else:
            decimal = len(tail) != 3 or head.strip("0") == "" or prefer_decimal
        s = f"{head}.{tail}" if decimal else "".join(ch for ch in s if ch.isdigit())
    try:
        return Decimal(s)
    except InvalidOperation:
        return None


def _currency(alias: str) -> str | None:
    """Lower-case aliases match in any case; upper-case codes ("TRY") only as written."""
    return _CURRENCY_ALIASES.get(alias) or _CURRENCY_ALIASES.get(alias.lower())


def extract_amount(text: str) -> tuple[Decimal, str] | None:
    """The first amount stated with its currency ("1,500 USDT", "Rp 2 juta", "$300")."""
    best: tuple[int, Decimal, str] | None = None
    for pattern in (_AMOUNT_AFTER, _AMOUNT_BEFORE):
        for m in pattern.finditer(text):
            code = _currency(m["cur"] or m["cur_sym"] or m.groupdict().get("cur_touch") or "")
            value = parse_number(m["num"], prefer_decimal=code in COINS)
            if code is None or value is None or len(m["num"]) > 20:
                continue
            # A bare "m"/"k" after a number reads as a multiplier only when a currency follows.
            mult = m["mult"] or m["mult_sym"]
            if mult:
                value *= _MULTIPLIERS[mult.lower()]
            if best is None or m.start() < best[0]:
                best = (m.start(), value, code)
            break
    return (best[1], best[2]) if best else None


def extract_order_ref(text: str) -> str | None:
    """The first long order number, or an id written right after a word for "order"."""
    m = _ORDER_DIGITS.search(text)
    if m:
        return m.group(0)
    m = _ORDER_NAMED.search(text)
    if m and any(ch.isdigit() for ch in m["ref"]):
        return m["ref"]
    return None


def raise_to(current: Severity, floor: Severity) -> Severity:
    """The more urgent of the two."""
    return current if SEVERITY_RANK[current] <= SEVERITY_RANK[floor] else floor


def step_up(current: Severity, cap: Severity = Severity.high) -> Severity:
    """One step more urgent, but not past `cap` (critical stays reserved for theft and
    very large amounts)."""
    if SEVERITY_RANK[current] <= SEVERITY_RANK[cap]:
        return current
    return BY_RANK[SEVERITY_RANK[current] - 1]


def classify(
    text: str,
    *,
    high_amount_usd: Decimal,
    critical_amount_usd: Decimal,
    earlier_tickets: int = 0,
    language: str | None = None,
) -> Classification:
    """Category, severity and stated fields of one message, with the reasons for each, by
    the phrase lists alone (the baseline the triage model is measured against). Typos are
    forgiven only in phrases of `language` (None: of any language)."""
    head = text[:MAX_CLASSIFY_CHARS]
    norm = normalise(head)
    padded = " " + norm
    tokens = norm.split()
    reasons: list[str] = []

    category = Category.other
    for key, phrase_list in phrase_tables("category"):
        found = _find(phrase_list, padded, tokens, language)
        if found is not None:
            category = Category(key)
            reasons.append(f"category {key}: matched {found.text!r} ({found.lang})")
            break
    severity = CATEGORY_SEVERITY[category]
    reasons.append(f"severity {severity}: base for category {category}")

    if category == Category.other:
        low = _find(phrase_tables("low")[0][1], padded, tokens, language)
        if low is not None:
            severity = Severity.low
            reasons.append(f"severity low: only a thank-you or a question ({low.text!r})")

    urgent = _find(phrase_tables("urgent")[0][1], padded, tokens, language)
    if urgent is not None:
        raised = step_up(severity)
        if raised != severity:
            reasons.append(f"severity {raised}: urgent wording {urgent.text!r} ({urgent.lang})")
        severity = raised

    amount_currency = extract_amount(head)
    amount, currency = amount_currency if amount_currency else (None, None)
    if amount is not None and currency is not None:
        usd = amount * USD_VALUE.get(currency, Decimal(0))
        if usd >= critical_amount_usd:
            severity = raise_to(severity, Severity.critical)
            reasons.append(
                f"severity critical: amount {amount} {currency} ~ {usd:.0f} USD >= "
                f"{critical_amount_usd} USD"
            )
        elif usd >= high_amount_usd:
            raised = raise_to(severity, Severity.high)
            if raised != severity:
                reasons.append(
                    f"severity high: amount {amount} {currency} ~ {usd:.0f} USD >= "
                    f"{high_amount_usd} USD"
                )
            severity = raised

    if earlier_tickets > 0 and category != Category.other:
        raised = step_up(severity)
        if raised != severity:
            reasons.append(f"severity {raised}: repeat dispute ({earlier_tickets} earlier tickets)")
        severity = raised

    order_ref = extract_order_ref(head)
    if order_ref:
        reasons.append(f"order reference {order_ref}")
    if amount is not None:
        reasons.append(f"amount {amount} {currency}")
    confidence = 1.0 if category != Category.other or severity == Severity.low else 0.5
    return Classification(
        category, severity, order_ref, amount, currency, tuple(reasons), confidence
    )
