"""Reading a message once: what crisis detection, matching and routing all work from.

`Reader.read` cleans the raw text, folds it, guesses its language, splits it into
sentences and picks out the ones that ask something, and makes a `topic` version
without names of people, organisations and places, and without dates. Those say who
or where, never what the question is about: a name the knowledge base does not know
would count as a word of another topic and lower the confidence ("gepest door een
collega van Rijkswaterstaat"). What is taken out is never kept or repeated back.

Names are found two ways: the list in `knowledge/lexicon/names.yaml` (Rijk
organisations, places), and capitalised words right after a word for a person
("mijn collega Anouk", "manager Jan de Vries", "mevrouw Bakker") that the knowledge base
does not know. A capitalised word alone is kept: unknown to the knowledge base, it may
be the very topic of a question Wegwijzer does not cover ("het Tijdspaarfonds",
"a holiday in Portugal"), and taking it out would turn that into a confident answer.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot._text import STOPWORDS, clean_input, fold, guess_language, stem, word_list
from bot._types import Lang
from bot._yaml import YamlProblem, load_yaml_file

#: Where the name lists live, relative to the knowledge folder.
NAMES_FILE = Path("lexicon") / "names.yaml"
#: A sentence ends at . ! ? or a line break; a question at a question mark.
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
#: Words for a person that a name follows; then a name of one to three capitalised
#: words, with Dutch surname particles between them.
_PERSON = (
    "collega|collegas|manager|leidinggevende|baas|chef|directeur|teamleider|afdelingshoofd|"
    "mevrouw|mevr|meneer|mr|mrs|ms|dhr|heer|colleague|boss|supervisor|director|"
    "vertrouwenspersoon|medewerker|employee|partner|vriend|vriendin|man|vrouw|husband|wife"
)
_NAMED = re.compile(
    rf"(?i:\b(?:{_PERSON})\b)\s+((?:[A-ZÀ-Þ][\w'’-]*)(?:\s+(?:(?:van|de|der|den|het|ter|ten|te|el|al|le|la|da|di|von)\s+)*[A-ZÀ-Þ][\w'’-]*){{0,2}})"
)
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    "december|january|february|march|june|july|august|october|"
    "jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec"
)
#: Dates as people write them: 12-3-2025, 12/03, 3 maart (2025), maart 2025, 2025.
_DATES = re.compile(
    rf"\b(?:\d{{1,2}}[-/.]\d{{1,2}}(?:[-/.]\d{{2,4}})?|\d{{1,2}}(?:e|ste|de|th|st|nd|rd)?\s+"
    rf"(?:{_MONTHS})\b(?:\s+\d{{4}})?|(?:{_MONTHS})\s+\d{{4}}|(?:19|20)\d{{2}})\b",
    re.IGNORECASE,
)
#: Words that start a question: a sentence starting with one asks something.
_QUESTION_WORDS = frozenset(
    [
        "wat",
        "wie",
        "waar",
        "wanneer",
        "waarom",
        "hoe",
        "hoeveel",
        "hoelang",
        "welke",
        "welk",
        "kan",
        "kun",
        "kunt",
        "mag",
        "moet",
        "heb",
        "heeft",
        "ben",
        "is",
        "zijn",
        "wordt",
        "word",
        "zou",
        "klopt",
        "what",
        "who",
        "where",
        "when",
        "why",
        "how",
        "which",
        "can",
        "could",
        "may",
        "must",
        "should",
        "do",
        "does",
        "did",
        "is",
        "are",
        "am",
        "will",
        "would",
        "have",
        "has",
    ]
)


@dataclass(frozen=True, slots=True)
class Analysis:
    """One message, read once."""

    #: The cleaned text (NFC, no control or invisible characters).
    text: str
    #: `text` folded: lower-case ASCII words.
    folded: str
    #: The language the words point to, and how sure (0..1).
    lang: Lang | None
    certainty: float
    #: The sentences, cleaned, in order.
    sentences: tuple[str, ...]
    #: The sentences that ask something (a question mark, or a question word first).
    questions: tuple[str, ...]
    #: `text` without names of people, organisations and places, and without dates.
    topic: str


class Reader:
    """Reads messages for one knowledge base (its name list and its vocabulary)."""

    def __init__(
        self,
        names: Iterable[str] = (),
        vocabulary: Collection[str] = (),
        kinds: Iterable[str] = (),
        days: Iterable[str] = (),
    ) -> None:
        """Args:
        names: Names of organisations and places, taken out unless the knowledge base's
            questions use every word of them (then the name is what a question is about:
            "wat doet P-Direkt").
        vocabulary: The folded words of the knowledge base's questions.
        kinds: Words for a kind of organisation ("ministerie"), always taken out.
        days: Dates that name a day off ("5 mei"), kept where other dates are taken out.
        """
        self.vocabulary = vocabulary
        self._days = tuple(sorted({d for day in days if (d := fold(day))}, key=len, reverse=True))
        phrases = [
            p for n in names if (p := fold(n)) and not all(w in vocabulary for w in p.split())
        ]
        phrases += [p for k in kinds if (p := fold(k))]
        phrases = sorted(set(phrases), key=len, reverse=True)
        self._names = (
            re.compile(r"(?<!\S)(?:" + "|".join(map(re.escape, phrases)) + r")(?!\S)")
            if phrases
            else None
        )

        # Dutch separable verbs: the stems of the knowledge base's words, to recognise
        # "meld ... ziek" as ziekmelden whatever the stemmer makes of either.
        self._stems = frozenset(stem(w, "nl") for w in vocabulary)

    def read(self, raw: str) -> Analysis:
        text = clean_input(raw)
        folded = fold(text)
        lang, certainty = guess_language(folded)
        sentences = tuple(s for m in _SENTENCE.finditer(text) if (s := m[0].strip()))
        questions = tuple(s for s in sentences if _asks(s))
        return Analysis(text, folded, lang, certainty, sentences, questions, self.topic(text))

    def topic(self, text: str) -> str:
        """`text` folded, without names and dates; the whole folded text when nothing
        else would be left."""
        kept = _NAMED.sub(self._without_name, _DATES.sub(self._without_date, text))
        out = fold(kept)
        if self._names is not None:
            out = " ".join(self._names.sub(" ", out).split())
        return out if out.strip() else fold(text)

    def _without_date(self, match: re.Match[str]) -> str:
        # "Ben ik vrij op 5 mei 2025?" is about the day, not the date: keep "5 mei".
        date = fold(match[0])
        day = next((d for d in self._days if date == d or date.startswith(d + " ")), "")
        return f" {day} "

    def separable(self, text: str) -> list[str]:
        """Dutch separable verbs put back together ("ik meld me morgen ziek" ->
        "ziekmelden"): a particle that ends a clause, joined with the nearest verb before
        it in that clause, when the knowledge base's questions use the joined verb."""
        out: list[str] = []
        for clause in _CLAUSE.split(text):
            words = fold(clause).split()
            # Written apart before a participle or "te" + infinitive: "ziek gemeld",
            # "aan te geven".
            for i, w in enumerate(words[:-1]):
                if w not in _PARTICLES:
                    continue
                rest = words[i + 1 :]
                verb = rest[1] if rest[0] == "te" and len(rest) > 1 else rest[0]
                if (verb.startswith("ge") or rest[0] == "te") and (found := self._known(w + verb)):
                    out.append(found)
            ends = [
                i
                for i, w in enumerate(words)
                if w in _PARTICLES and (i == len(words) - 1 or words[i + 1] in _CLAUSE_WORDS)
            ]
            for end in ends:
                start = max(0, end - _SEPARABLE_SPAN)
                # The finite verb of a main clause or question stands first or second,
                # however far the particle that ends it.
                lead = words[: min(2, start)][::-1]
                for verb in [*reversed(words[start:end]), *lead]:
                    if (found := self._join(words[end], verb)) is not None:
                        out.append(found)
                        break
        return out

    def _join(self, particle: str, verb: str) -> str | None:
        if len(verb) < 2 or verb in _PARTICLES or verb in _CLAUSE_WORDS:
            return None
        candidates = [particle + infinitive for infinitive in _infinitives(verb)]
        if exact := next((c for c in candidates if c in self.vocabulary), None):
            return exact
        # A stem is a looser match: "op" + "een" stems like "opeens". Words such as
        # "een" and "het" are never the verb then.
        if verb in STOPWORDS["nl"]:
            return None
        return next((c for c in candidates if stem(c, "nl") in self._stems), None)

    def _known(self, word: str) -> str | None:
        return word if word in self.vocabulary or stem(word, "nl") in self._stems else None

    def _without_name(self, m: re.Match[str]) -> str:
        # The person word stays ("collega" says something); a name the knowledge base
        # knows as a word (a title such as "HR") is no name.
        name = m[1]
        if any(fold(w) in self.vocabulary for w in name.split()):
            return m[0]
        return m[0][: m.start(1) - m.start(0)]


#: Clauses end at punctuation; a particle also ends one before a clause word.
_CLAUSE = re.compile(r"[.!?,;:\n()]+")
_PARTICLES = word_list("particles.nl.txt")
_CLAUSE_WORDS = word_list("clause.nl.txt")
#: How many words before a particle its verb may stand ("zegt mijn vaste contract op").
_SEPARABLE_SPAN = 6
_VOWELS = "aeiou"


def _infinitives(verb: str) -> list[str]:
    """Dutch infinitives a present or past form may belong to ("zegt" -> "zeggen",
    "raakte" -> "raken", "meldde" -> "melden"); spelling rules, not a dictionary."""
    # A list, not a set: the first candidate the knowledge base knows is taken, and that
    # must not depend on string hashing from one run to the next.
    stems = [verb]
    for ending in ("t", "de", "te", "den", "ten"):
        if verb.endswith(ending) and len(verb) - len(ending) >= 2:
            stems.append(verb[: -len(ending)])
    out: list[str] = []
    for s in dict.fromkeys(stems):
        out.append(s + "en")
        last = s[-1]
        if len(s) >= 3 and s[-2] == s[-3] and s[-2] in _VOWELS and last not in _VOWELS:
            out.append(s[:-2] + {"f": "v", "s": "z"}.get(last, last) + "en")  # raak -> raken
        if (
            len(s) >= 2
            and s[-2] in _VOWELS
            and last not in _VOWELS
            and (len(s) < 3 or s[-3] not in _VOWELS)
        ):
            out.append(s + last + "en")  # zeg -> zeggen
        if last in "fs":
            out.append(s[:-1] + {"f": "v", "s": "z"}[last] + "en")  # leef -> leven
    return out


def _asks(sentence: str) -> bool:
    if sentence.rstrip().endswith("?"):
        return True
    first = fold(sentence).split()[:1]
    return bool(first) and first[0] in _QUESTION_WORDS


def load_reader(root: Path, vocabulary: Collection[str], own: Iterable[str] = ()) -> Reader:
    """A reader with the name lists of a knowledge folder; without them when the file is
    missing or unreadable (names only help matching: a broken list must not stop the bot).
    `own` adds the names and aliases of the organisations the knowledge base has."""
    path = root / NAMES_FILE
    data: object = {}
    if path.is_file():
        try:
            data = load_yaml_file(path)
        except YamlProblem:
            data = {}
    groups = data if isinstance(data, dict) else {}

    def group(*keys: str) -> list[str]:
        return [str(n) for k in keys if isinstance(groups.get(k), list) for n in groups[k]]

    return Reader(
        [*group("organisations", "places"), *own], vocabulary, group(*_ALWAYS), group("days_off")
    )


#: The groups of names.yaml taken out even where the knowledge base uses them: words for
#: a kind of organisation, and phrases that only say "in the Netherlands".
_ALWAYS = ("organisation_words", "this_country")
