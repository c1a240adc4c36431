"""Why a question found the entries it found: a read-only recomputation for the workbench.

`bot._match.Match` carries only an entry, a score and a language. The coordinator wants
to see which of the question's words counted for each entry and how each was recognised
(synonym, stem, typo, compound). This module asks the same matcher pieces the engine
uses (`Analyser`, and per language the index's `query_terms`, `stem`,
`correct_typo` and `postings`), so it cannot disagree with them; it never changes
them and keeps nothing of the question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot._match import Matcher
from bot._text import fold
from bot._types import Lang

How = Literal["word", "synonym", "stem", "typo", "compound", "ending", "unknown"]


@dataclass(frozen=True, slots=True)
class Word:
    """One content word of the question, as one language's index sees it."""

    written: str
    #: After synonyms: the head word of its synonym group, else the word itself.
    head: str
    how: How
    #: Indexed terms it counts as, each with its weight in the question (IDF times the
    #: confidence of the recognition): two for a compound, none when unknown.
    terms: tuple[tuple[str, float], ...]
    #: Its whole weight in the question.
    weight: float


@dataclass(frozen=True, slots=True)
class Hit:
    """A question word that an entry holds."""

    word: Word
    term: str
    #: Where the entry has it: "title, questions or keywords", or only its answer text.
    strong: bool
    points: float


def words_of(matcher: Matcher, text: str, lang: Lang, *, typos: bool = True) -> list[Word]:
    """The question's content words and how `lang`'s index recognises each.

    Args:
        typos: Whether typos are corrected, as the matcher does for the question's own
            language (not for the other: "buren" is no typo of "burden").
    """
    index = matcher.indexes[lang]
    analyser = matcher.analyser
    folded = fold(text).split()
    heads = analyser.split_words(folded)
    # Which written words each head came from: single words map one to one; a multi-word
    # synonym joins several into one head written with underscores.
    written_of: dict[str, str] = {}
    for w in folded:
        written_of.setdefault(analyser.single.get(w, w), w)
    out: list[Word] = []
    for head in heads:
        written = written_of.get(head, head.replace("_", " "))
        # The weights exactly as the matcher computes them for this word.
        found = index.query_terms([head], typos=typos)
        terms = tuple((term, weight) for term, weight, known in found if known)
        total = sum(weight for _, weight, _ in found)
        how: How
        if not terms:
            how = "unknown"
        elif written != head:
            how = "synonym"
        elif len(terms) > 1:
            how = "compound"
        elif index.stem(head) == terms[0][0]:
            how = "word" if head == terms[0][0] else "stem"
        elif typos and index.correct_typo(head) == terms[0][0]:
            how = "typo"
        else:
            how = "ending"
        out.append(Word(written, head, how, terms, total))
    return out


def hits_for(matcher: Matcher, words: list[Word], entry_id: str, lang: Lang) -> list[Hit]:
    """The question words an entry holds in `lang`, with where and how much they count."""
    index = matcher.indexes[lang]
    position = next((i for i, e in enumerate(matcher.entries) if e.id == entry_id), None)
    if position is None:
        return []
    out: list[Hit] = []
    for word in words:
        for term, weight in word.terms:
            for i, w in index.postings.get(term, ()):
                if i == position:
                    out.append(Hit(word, term, w >= 1.0, weight * w))
    return out
