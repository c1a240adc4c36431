"""Text normalisation, language guessing and stemming, shared by matching and crisis checks."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import snowballstemmer

from bot._types import LANGS, Lang

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
    if text.isascii() and text.isprintable():
        # Nothing to normalise, drop or hide (every invisible character is non-ASCII,
        # every control character unprintable): only the spacing is tidied, as below.
        return " ".join(text.split())
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
    "d'r": "er",  # "ik wil d'r niet meer zijn"; as "haar" it is a stop word either way
    "m'r": "mijn",
    "z'r": "zijn",
    "d'n": "de",
    "can't": "can not",
    "won't": "will not",
    "'m": " am",
    "'re": " are",
    "'ve": " have",
    "'ll": " will",
    "'d": " would",
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
    # Dutch chat shorthand: 'k for ik run together ("kzit"), and common abbreviations.
    "kzit": "ik zit",
    "kheb": "ik heb",
    "kben": "ik ben",
    "kweet": "ik weet",
    "kwil": "ik wil",
    "kmoet": "ik moet",
    "kga": "ik ga",
    "gwn": "gewoon",
    "ff": "even",
    "mss": "misschien",
    "wrm": "waarom",
    "nie": "niet",
    "da": "dat",
    "wa": "wat",
    "mer": "meer",
    "idk": "i do not know",
    "pls": "please",
    "plz": "please",
}


def has_words(text: str) -> bool:
    """True when the text holds at least one letter or digit in any script."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def word_list(name: str) -> frozenset[str]:
    """One word list of `bot/lexicon/` (one folded word a line, `#` comments)."""
    text = (_LEXICON / name).read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if (w := line.split("#", 1)[0].strip()))


# Word lists are data, kept beside the code (bot/lexicon/): the crisis model's features
# and the matcher's weights rely on them from import on, whatever knowledge folder is used.
_LEXICON = Path(__file__).resolve().parent / "lexicon"
#: Stop words: dropped from questions and texts before matching.
STOPWORDS: dict[Lang, frozenset[str]] = {lang: word_list(f"stop.{lang}.txt") for lang in LANGS}
#: Everyday words that say little about the topic ("een eind maken aan", "de hele
#: week"). They still count, but never as much as a topic word, however rare they are
#: in the knowledge base: rarity alone made "eind" outweigh "pesten".
LIGHT_WORDS: dict[Lang, frozenset[str]] = {
    lang: word_list(f"everyday.{lang}.txt") for lang in LANGS
}
_NL_MARKERS = word_list("markers.nl.txt")
_EN_MARKERS = word_list("markers.en.txt")


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


def has_common_words(folded: str) -> bool:
    """Whether folded text holds any of the common Dutch or English words that tell the
    language apart (a code or gibberish holds none)."""
    return any(w in _NL_MARKERS or w in _EN_MARKERS for w in folded.split())


_STEMMERS = {"nl": snowballstemmer.stemmer("dutch"), "en": snowballstemmer.stemmer("english")}


def stem(word: str, lang: Lang) -> str:
    """Snowball stem of one folded word; words joined by '_' (synonym heads) are kept."""
    if "_" in word or word.isdigit() or len(word) <= 3:
        return word
    return str(_STEMMERS[lang].stemWord(word))
