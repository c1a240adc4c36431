"""Text normalisation, language guessing and stemming, shared by matching and crisis checks."""

from __future__ import annotations

import re
import unicodedata

import snowballstemmer

from bot._types import Lang

# Characters that change how text looks or reads without being words: zero-width,
# bidirectional overrides and isolates, BOM, soft hyphen, variation selectors.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_WORD = re.compile(r"[0-9a-z]+")


def clean_input(text: str) -> str:
    """Make raw input safe to process: NFC, no control or invisible characters.

    Keeps the visible text (for display nothing is echoed anyway) but drops NUL, other
    control characters (line breaks become spaces), lone surrogates and invisible
    formatting that could hide or reorder words.
    """
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn"):
            out.append(" " if ch in "\n\r\t\v\f" else "")
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def fold(text: str) -> str:
    """Lower-case ASCII words: NFKC, case-folded, accents removed, punctuation to spaces."""
    text = text.casefold()
    if not text.isascii():  # most text is plain ASCII: skip the per-character passes
        text = unicodedata.normalize("NFKD", _INVISIBLE.sub("", text))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    # Dutch and English contractions people type: m'n, z'n, d'r, I'm, don't.
    text = text.replace("\u2019", "'").replace("`", "'")
    if "'" in text:
        text = _APOSTROPHE.sub(lambda m: _APOSTROPHE_FORMS.get(m[0], ""), text)
        text = text.replace("n't", " not")
    words = _WORD.findall(text)
    if not _SPOKEN.keys().isdisjoint(words):
        words = [_SPOKEN.get(w, w) for w in words]
    return " ".join(words)


_APOSTROPHE = re.compile(r"\b(?:[mzd]'[nr]|can't|won't)\b|'(?:m|re|ve|s|ll|d)\b")
_APOSTROPHE_FORMS = {
    "m'n": "mijn",
    "z'n": "zijn",
    "d'r": "haar",
    "m'r": "mijn",
    "z'r": "zijn",
    "d'n": "de",
    "can't": "can not",
    "won't": "will not",
    "'m": " am",
    "'re": " are",
    "'ve": " have",
}


#: Contractions typed without an apostrophe, and spoken forms, written out: "i dont want
#: to live" must read like "I don't want to live" (crisis phrases rely on it).
_SPOKEN = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "cannot": "can not",
    "wont": "will not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "im": "i am",
    "ive": "i have",
    "youre": "you are",
    "wanna": "want to",
    "gonna": "going to",
    "mn": "mijn",
    "zn": "zijn",
}


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit in any script."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


STOPWORDS: dict[Lang, frozenset[str]] = {
    "nl": frozenset(
        [
            "aan",
            "al",
            "alle",
            "alleen",
            "als",
            "altijd",
            "ben",
            "bij",
            "daar",
            "dan",
            "dat",
            "de",
            "deze",
            "die",
            "dit",
            "doe",
            "doen",
            "door",
            "dus",
            "een",
            "eens",
            "en",
            "er",
            "ga",
            "gaat",
            "gaan",
            "geen",
            "had",
            "heb",
            "hebben",
            "heeft",
            "het",
            "hier",
            "hij",
            "hoe",
            "hun",
            "ik",
            "in",
            "is",
            "ja",
            "je",
            "jij",
            "jou",
            "jouw",
            "jullie",
            "kan",
            "kun",
            "kunnen",
            "maar",
            "me",
            "meer",
            "men",
            "met",
            "mij",
            "mijn",
            "mn",
            "m",
            "n",
            "mag",
            "moet",
            "moeten",
            "na",
            "naar",
            "niet",
            "niets",
            "nog",
            "nu",
            "of",
            "om",
            "omdat",
            "ons",
            "onze",
            "ook",
            "op",
            "over",
            "te",
            "tegen",
            "toch",
            "toe",
            "tot",
            "u",
            "uw",
            "van",
            "veel",
            "voor",
            "want",
            "waar",
            "wanneer",
            "wat",
            "waarvoor",
            "waarom",
            "waarmee",
            "waarover",
            "waardoor",
            "waarin",
            "daarmee",
            "daarover",
            "daarvoor",
            "ermee",
            "erover",
            "hiermee",
            "hierover",
            "weer",
            "we",
            "wel",
            "welk",
            "welke",
            "wie",
            "wij",
            "wil",
            "wordt",
            "word",
            "worden",
            "zal",
            "ze",
            "zelf",
            "zich",
            "zij",
            "zijn",
            "zo",
            "zou",
            "zouden",
            "iets",
            "iemand",
            "hem",
            "haar",
            "ben",
            "was",
            "waren",
            "mee",
            "wil",
            "wilt",
            "zit",
            "zitten",
            "even",
            "echt",
            "gewoon",
            "eigenlijk",
            "graag",
            "precies",
            "please",
            "moet",
            "mogen",
            "kunt",
            "weet",
            "weten",
            "vraag",
            "vraagje",
            "hallo",
            "hoi",
            "hey",
            "dag",
            "goedemorgen",
            "beste",
            "help",
            "helpen",
            "vind",
            "vinden",
            "steeds",
            "soms",
            "erg",
            "heel",
        ]
    ),
    "en": frozenset(
        [
            "a",
            "about",
            "after",
            "all",
            "also",
            "am",
            "an",
            "and",
            "any",
            "are",
            "as",
            "at",
            "be",
            "been",
            "being",
            "but",
            "by",
            "can",
            "could",
            "did",
            "do",
            "does",
            "doing",
            "for",
            "from",
            "get",
            "got",
            "had",
            "has",
            "have",
            "having",
            "he",
            "her",
            "him",
            "his",
            "how",
            "i",
            "if",
            "in",
            "into",
            "is",
            "it",
            "its",
            "me",
            "my",
            "myself",
            "no",
            "not",
            "of",
            "on",
            "or",
            "our",
            "out",
            "own",
            "please",
            "she",
            "should",
            "so",
            "some",
            "such",
            "than",
            "that",
            "the",
            "their",
            "them",
            "then",
            "there",
            "these",
            "they",
            "this",
            "those",
            "to",
            "too",
            "us",
            "very",
            "was",
            "we",
            "were",
            "what",
            "when",
            "where",
            "which",
            "who",
            "whom",
            "why",
            "will",
            "with",
            "would",
            "you",
            "your",
            "yours",
            "hi",
            "hello",
            "hey",
            "just",
            "really",
            "maybe",
            "any",
            "anyone",
            "someone",
            "something",
            "thing",
            "things",
            "still",
            "want",
            "wants",
            "know",
            "tell",
            "question",
            "help",
        ]
    ),
}

_NL_MARKERS = frozenset(
    [
        "de",
        "het",
        "een",
        "ik",
        "je",
        "jij",
        "mijn",
        "mn",
        "niet",
        "wat",
        "hoe",
        "wie",
        "waar",
        "waarom",
        "kan",
        "mag",
        "moet",
        "wil",
        "is",
        "zijn",
        "van",
        "voor",
        "met",
        "op",
        "en",
        "of",
        "er",
        "dat",
        "die",
        "dit",
        "als",
        "maar",
        "ook",
        "bij",
        "naar",
        "heb",
        "heeft",
        "word",
        "wordt",
        "ben",
        "geen",
        "iets",
        "collega",
        "leidinggevende",
        "baas",
        "werk",
    ]
)
_EN_MARKERS = frozenset(
    [
        "the",
        "a",
        "an",
        "i",
        "you",
        "my",
        "not",
        "what",
        "how",
        "who",
        "where",
        "why",
        "can",
        "may",
        "must",
        "want",
        "is",
        "are",
        "of",
        "for",
        "with",
        "on",
        "and",
        "or",
        "that",
        "this",
        "if",
        "but",
        "also",
        "at",
        "to",
        "have",
        "has",
        "am",
        "been",
        "no",
        "something",
        "colleague",
        "manager",
        "work",
        "do",
        "does",
    ]
)


def guess_language(folded: str) -> tuple[Lang | None, float]:
    """Guess Dutch or English from folded text; returns (lang or None, certainty 0..1)."""
    words = folded.split()
    if not words:
        return None, 0.0
    nl = sum(w in _NL_MARKERS for w in words)
    en = sum(w in _EN_MARKERS for w in words)
    if nl == en:
        return None, 0.0
    lang: Lang = "nl" if nl > en else "en"
    return lang, abs(nl - en) / max(nl + en, 1)


_STEMMERS = {"nl": snowballstemmer.stemmer("dutch"), "en": snowballstemmer.stemmer("english")}


def stem(word: str, lang: Lang) -> str:
    """Snowball stem of one folded word; words joined by '_' (synonym heads) are kept."""
    if "_" in word or word.isdigit() or len(word) <= 3:
        return word
    return str(_STEMMERS[lang].stemWord(word))
