"""Cue phrases and stop words in Bengali, Hindi and English, as data.

These are general to Indic news pages (the phrases site templates print around articles),
never text taken from a particular article.
"""

from __future__ import annotations

import re
from functools import cache, cached_property


class LazyPattern:
    """``re.compile(pattern, flags)``, compiled the first time it is used.

    Most patterns serve the reference path and the few lines the kernels leave to Python:
    compiling them all at import was ~3 ms of every command's start-up. Each attribute of the
    compiled pattern (``search``, ``sub``, ...) is looked up once, then held here.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.source = (pattern, flags)

    @property
    def pattern(self) -> str:
        """The pattern string (``re.Pattern.pattern``), without compiling it."""
        return self.source[0]

    @cached_property
    def compiled(self) -> re.Pattern:
        return re.compile(*self.source)

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("source", "compiled"):  # (copy, pickle: not here)
            raise AttributeError(name)
        value = getattr(self.compiled, name)
        setattr(self, name, value)
        return value


# Phrases that open (or make up) a boilerplate piece, per category.
# News agencies, as they are tagged in datelines (bn, hi, en).
AGENCY_NAMES: tuple[str, ...] = (
    "বাসস", "ইউএনবি", "এএফপি", "এপি", "রয়টার্স", "পিটিআই", "আইএএনএস", "এজেন্সি",
    "एजेंसी", "भाषा", "वार्ता", "यूएनआई", "पीटीआई", "आईएएनएस", "एएनआई", "एपी", "एएफपी", "रॉयटर्स",
    "PTI", "IANS", "ANI", "UNI", "AFP", "AP", "Reuters", "BSS", "UNB",
)  # fmt: skip

CUES: dict[str, tuple[str, ...]] = {
    "advertisement": (
        "Advertisement",
        "ADVERTISEMENT",
        "Advertise",
        "Sponsored",
        "Promoted",
        "বিজ্ঞাপন",
        "স্পনসর্ড",
        "विज्ञापन",
        "प्रायोजित",
        r"\[বিজ্ঞাপন_?[০-৯0-9]*\]",
        r"\[विज्ञापन_?[0-9]*\]",
        "Download (?:the )?App",
        "অ্যাপ ডাউনলোড",
        "ऐप डाउनलोड",
        "डाउनलोड करें",
        "সব খবর পড়ুন",
        "सभी खबरें पढ़ें",
    ),
    "related_links": (
        "আরও পড়ুন",
        "আরো পড়ুন",
        "এছাড়াও পড়ুন",
        "এছাড়া পড়ুন",
        "আরও দেখুন",
        "আরো দেখুন",
        "সম্পর্কিত নিবন্ধ",
        "সম্পর্কিত খবর",
        "সংশ্লিষ্ট খবর",
        "পড়ুন:",
        "और पढ़ें",
        "ये भी पढ़ें",
        "यह भी पढ़ें",
        "इसे भी पढ़ें",
        "इन्हें भी पढ़ें",
        "संबंधित खबरें",
        "संबंधित ख़बरें",
        "Also Read",
        "Also read",
        "Read More",
        "Read more",
        "Related",
        "RELATED",
        "See also",
    ),
    "listing": (
        "সেরা শিরোনাম",
        "সর্বশেষ",
        "সর্বাধিক পঠিত",
        "সর্বাধিক পড়া",
        "সেরা প্রতিবেদন",
        "সেরা রিল",
        "শীর্ষ সংবাদ",
        "আজ টিভিতে",
        "টিভিতে আজ",
        "ताज़ा खबरें",
        "ताजा खबरें",
        "टॉप स्टोरी",
        "टॉप न्यूज़",
        "ट्रेंडिंग",
        "सबसे ज्यादा पढ़ी",
        "Top Stories",
        "Top News",
        "Latest News",
        "Latest",
        "Trending",
        "Most Read",
        "Most Popular",
        "Editor's Pick",
    ),
    "navigation": (
        "হোম",
        "প্রচ্ছদ",
        "Home",
        "होम",
        "মূলপাতা",
        "BREAKING NEWS",
        "Breaking News",
        "BREAKING",
        "ব্রেকিং নিউজ",
        "ব্রেকিং",
        "ब्रेकिंग न्यूज़",
        "ब्रेकिंग न्यूज",
        "ब्रेकिंग",
        "এক্সপ্লোর",
        "Explore",
        "Menu",
        "মেনু",
        "मेन्यू",
        "Login",
        "Log in",
        "Sign in",
        "লগইন",
        "लॉगिन",
        "साइन इन",
        "ফটো গ্যালারি",
        "ফটোগ্যালারি",
        "ভিডিও গ্যালারি",
        "फोटो गैलरी",
        "वीडियो गैलरी",
        "পরবর্তী",
        "পূর্ববর্তী",
        "अगला",
        "पिछला",
        "Next",
        "Previous",
        "English",
        "বাংলা",
        "हिन्दी",
        "E-paper",
        "ই-পেপার",
        "ई-पेपर",
        "LIVE TV",
        "লাইভ টিভি",
        "लाइव टीवी",
    ),
    "attribution": (
        "সূত্র ?:",
        "উৎস ?:",
        "সূত্র -",
        "Source ?:",
        "SOURCE ?:",
        "सूत्र ?:",
        "स्रोत ?:",
        "ছবি ?:",
        "ছবি -",
        "फोटो ?:",
        "फ़ोटो ?:",
        "– फोटो",
        "- फोटो",
        "Photo ?:",
        "Photo credit",
        "Image credit",
        "নিজস্ব প্রতিবেদক",
        "নিজস্ব সংবাদদাতা",
        "ডেস্ক রিপোর্ট",
        "অনলাইন ডেস্ক",
        "স্টাফ রিপোর্টার",
        "প্রতিবেদক",
        "संवाददाता",
        "न्यूज़ डेस्क",
        "न्यूज डेस्क",
        "डेस्क",
        "ब्यूरो रिपोर्ट",
        "By ",
        "Written by",
        "Edited by",
        "Reported by",
        "লেখক ?:",
        "लेखक ?:",
        "খবর [^\\s।]+(?:র|এর)।",
        "(?:এজেন্সি|एजेंसी|PTI|IANS|ANI|AFP|Reuters|রয়টার্স|বাসস)$",
        f"\\((?:{'|'.join(AGENCY_NAMES)})\\)$",
        "\\((?:इनपुट|इनपुट्स|[Ww]ith inputs? from|[Ii]nputs?)\\b[^)]*\\)$",
    ),
    "tags": (
        "কীওয়ার্ড ?:",
        "কিওয়ার্ড ?:",
        "ট্যাগ ?:",
        "ট্যাগস ?:",
        "বিষয় ?:",
        "Tags ?:",
        "TAGS ?:",
        "Tag ?:",
        "Keywords ?:",
        "Topics ?:",
        "टैग ?:",
        "टैग्स ?:",
        "विषय ?:",
        "कीवर्ड ?:",
        "#",
        r"\([A-Za-z][A-Za-z &-]{2,60}\)$",
    ),
    "widget": (
        "মন্তব্য ?\\(",
        "মন্তব্য করুন",
        "Comments? ?\\(",
        "टिप्पणी",
        "কমেন্ট",
        "Embed widget",
        "Embed",
        "Share",
        "SHARE",
        "শেয়ার",
        "শেয়ার করুন",
        "शेयर",
        "Print",
        "প্রিন্ট",
        "প্রিন্ট করুন",
        "ফন্ট",
        "Font",
        "Image caption",
        "Image$",
        "Follow us",
        "Follow Us",
        "ফলো করুন",
        "फॉलो करें",
        "Subscribe",
        "সাবস্ক্রাইব",
        "सब्सक्राइब",
        "Newsletter",
        "নিউজলেটার",
        "Search",
        "খুঁজুন",
        "Click here",
        "এখানে ক্লিক",
        "यहां क्लिक",
        "X$",
        "Close$",
        "বন্ধ করুন",
        "Loading",
        "লোড হচ্ছে",
        "Whatsapp",
        "WhatsApp",
        "Facebook",
        "Twitter",
        "Copy link",
    ),
    "timestamp": (
        "প্রকাশ ?:",
        "প্রকাশিত ?:",
        "প্রকাশের সময় ?:",
        "আপডেট ?:",
        "আপডেট:",
        "সর্বশেষ আপডেট",
        "হালনাগাদ ?:",
        "Published ?:",
        "Updated ?:",
        "Last updated",
        "Posted ?:",
        "प्रकाशित ?:",
        "अपडेटेड",
        "अपडेट ?:",
        "पब्लिश्ड",
        "Published on",
        "Updated on",
    ),
}

# Cues that may appear mid-line after a sentence end and start a glued boilerplate piece.
INLINE_CUE_PHRASES: tuple[str, ...] = (
    "আরও পড়ুন",
    "আরো পড়ুন",
    "এছাড়াও পড়ুন",
    "और पढ़ें",
    "ये भी पढ़ें",
    "यह भी पढ़ें",
    "Also Read",
    "Advertisement",
    "বিজ্ঞাপন",
    "विज्ञापन",
)
INLINE_CUE = LazyPattern(r"[।.!?]\s*(" + "|".join(map(re.escape, INLINE_CUE_PHRASES)) + ")")

# An agency tag in parentheses inside a dateline that opens a paragraph ("ঢাকা, ১০ নভেম্বর (বাসস) :
# …", "नई दिल्ली (एजेंसी)। …"): the tag is attribution, the dateline and the rest are body.
DATELINE_AGENCY = LazyPattern(
    rf"^[^\S\n]*[^\s()।.!?][^\n()।.!?]{{0,38}}?[^\S\n]*(\((?:{'|'.join(AGENCY_NAMES)})\))", re.MULTILINE
)

# A byline/agency prefix at the start of a line, followed by the body ("নিজস্ব প্রতিবেদক: …").
BYLINE_PREFIX = LazyPattern(
    r"^\s*(?:নিজস্ব প্রতিবেদক|নিজস্ব সংবাদদাতা|ডেস্ক রিপোর্ট|অনলাইন ডেস্ক|স্টাফ রিপোর্টার|"
    r"বিশেষ প্রতিনিধি|জেলা প্রতিনিধি|প্রতিনিধি|সংবাদদাতা|"
    r"न्यूज़ डेस्क|न्यूज डेस्क|डिजिटल डेस्क|ब्यूरो रिपोर्ट|संवाददाता|"
    r"Desk Report|Staff Reporter|Staff Correspondent)"
    r"(?:\s*,\s*[^\s,:|।]+(?: [^\s,:|।]+)?)?\s*[:|।]"  # optional ", <place>" before the colon
)


def cue_source(phrases: tuple[str, ...]) -> str:
    """The regex of a line that starts with one of ``phrases``."""
    return r"^\s*(?:" + "|".join(f"(?:{p})" for p in phrases) + ")"


CUE_SOURCES: dict[str, str] = {cat: cue_source(p) for cat, p in CUES.items()}


@cache
def cue_pattern(category: str) -> re.Pattern[str]:
    """``CUE_SOURCES[category]`` compiled, the first time it is needed (the fast path reads only
    the sources: compiling all eight took ~10 ms of every start)."""
    return re.compile(CUE_SOURCES[category])


_REGEX_SYNTAX = frozenset("\\.^$*+?{}[]|()#")


def literal_starts(phrase: str) -> list[str]:
    """Texts one of which starts every match of the regex ``phrase`` (its leading literal
    characters, per alternative of a leading group; "" where it starts otherwise)."""
    if not _REGEX_SYNTAX.intersection(phrase):  # plain text (most phrases): no need to parse
        return [phrase]
    return list(_parsed_starts(phrase))


def _sre_parse():
    try:
        from re import _parser as sre_parse  # Python >= 3.11
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_parse  # type: ignore[no-redef]
    return sre_parse


@cache
def _parsed(phrase: str) -> tuple[int, tuple]:
    """The regex ``phrase`` parsed: its flags and its items (``literal_starts`` and
    ``finite_forms`` read the same phrases: parsed once)."""
    parsed = _sre_parse().parse(phrase)
    return parsed.state.flags, tuple(parsed)


@cache
def _parsed_starts(phrase: str) -> tuple[str, ...]:
    sre_parse = _sre_parse()

    def starts(items) -> list[str]:
        prefix = ""
        for op, value in items:
            if op is sre_parse.LITERAL:
                prefix += chr(value)
                continue
            if op is sre_parse.BRANCH:
                return [prefix + start for alternative in value[1] for start in starts(alternative)]
            if op is sre_parse.SUBPATTERN and not value[1] and not value[2]:  # a group without flags
                return [prefix + start for start in starts(value[3])]
            break
        return [prefix]

    flags, items = _parsed(phrase)
    return ("",) if flags & re.IGNORECASE else tuple(starts(items))


def finite_forms(phrase: str, most: int = 64) -> tuple[list[str], bool] | None:
    """Every text ``re.match(phrase, t)`` can match, when there are at most ``most`` of them
    (literals, groups of alternatives, optional parts, classes of single characters), and
    whether the match must end the text (a final ``$``); None for any other regex.

    ``re.match(phrase, t)`` succeeds exactly when ``t`` starts with one of the texts (or, ending
    in ``$``, is one of them, or one followed by a final newline), so a compiled scan can
    decide such a cue phrase without the regex."""
    if not _REGEX_SYNTAX.intersection(phrase):  # plain text (most phrases): no need to parse
        return [phrase], False
    sre_parse = _sre_parse()

    def forms(items) -> list[str] | None:
        out = [""]
        for op, value in items:
            if op is sre_parse.LITERAL:
                options = [chr(value)]
            elif op is sre_parse.IN and all(kind is sre_parse.LITERAL for kind, _ in value):
                options = [chr(c) for _, c in value]
            elif op is sre_parse.SUBPATTERN and not value[1] and not value[2]:
                options = forms(value[3])
            elif op is sre_parse.BRANCH:
                branches = [forms(alternative) for alternative in value[1]]
                options = None if None in branches else [f for b in branches for f in b]  # type: ignore[union-attr]
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT) and value[:2] == (0, 1):
                inner = forms(value[2])
                options = None if inner is None else ["", *inner]
            else:
                return None
            if options is None or len(out) * len(options) > most:
                return None
            out = [a + b for a in out for b in options]
        return out

    flags, parsed = _parsed(phrase)
    if flags & (re.IGNORECASE | re.MULTILINE):
        return None
    items = list(parsed)
    end = bool(items) and items[-1] == (sre_parse.AT, sre_parse.AT_END)
    found = forms(items[:-1] if end else items)
    return None if found is None else (list(dict.fromkeys(found)), end)


# Function words: dense in running prose, sparse in menus, lists and headlines.
STOP_WORDS: dict[str, frozenset[str]] = {
    "bn": frozenset(
        "এবং ও আর কিন্তু তবে যে যা এই সেই এ সে তিনি তারা তাদের তার এর করে করা করেন করেছে করেছেন "
        "হয় হয়েছে হবে হচ্ছে ছিল ছিলেন জন্য থেকে পর পরে মধ্যে সঙ্গে সাথে দিয়ে নিয়ে না নয় কোনো "
        "একটি এক বলে বলেন জানান জানিয়েছেন যায় যাবে গেছে হলে হলেও কি কী এখন এখনো আরও আরো উপর "
        "ওপর মতো মত বা যদি তাই তাহলে কারণে প্রায় অনেক সব".split()
    ),
    "hi": frozenset(
        "और के की का में है हैं था थे थी को से पर ने भी कि यह वह इस उस एक लिए तो ही नहीं "
        "कर करने किया किए गया गई गए हो होगा होगी रहा रही रहे जो जब तक साथ बाद अब या अपने "
        "उनके उनकी इसके इसकी द्वारा बताया कहा".split()
    ),
}

# Section names of news sites: a line made mostly of these is a menu, not a headline.
SECTION_WORDS: frozenset[str] = frozenset(
    """
    হোম প্রচ্ছদ জাতীয় রাজনীতি অর্থনীতি আন্তর্জাতিক বিশ্ব দেশ সারাদেশ খেলা খেলাধুলা বিনোদন প্রযুক্তি
    বিজ্ঞান স্বাস্থ্য শিক্ষা লাইফস্টাইল জীবনযাপন মতামত সম্পাদকীয় ভিডিও ছবি ফটো আইন আদালত বাণিজ্য
    ব্যবসা চাকরি ধর্ম রাশিফল আবহাওয়া কলকাতা রাজ্য জেলা শহর ক্রিকেট ফুটবল অপরাধ পরিবেশ কৃষি প্রবাস
    সাহিত্য সংস্কৃতি ভ্রমণ বাংলাদেশ ভারত অন্যান্য আরও লাইভ ই-পেপার
    होम देश दुनिया विदेश राज्य राजनीति खेल क्रिकेट फुटबॉल कबड्डी मनोरंजन बॉलीवुड बिजनेस बिज़नेस व्यापार
    कारोबार टेक टेक्नोलॉजी तकनीक गैजेट्स लाइफस्टाइल स्वास्थ्य हेल्थ शिक्षा नौकरी करियर धर्म ज्योतिष राशिफल
    मौसम वीडियो फोटो ऑटो अपराध क्राइम शहर उत्तर प्रदेश बिहार मध्य राजस्थान दिल्ली मुंबई लखनऊ भोपाल
    पटना ओपिनियन विचार संपादकीय लाइव ई-पेपर अन्य
    home news india world politics business sports sport cricket football entertainment tech technology
    lifestyle health education opinion video videos photos gallery science auto jobs astrology weather
    """.split()
)
