"""Why a question found the entries it found: a read-only recomputation for the workbench.

`bot._match.Match` carries only an entry, a score and a language. The coordinator wants
to see which of the question's words counted for each entry and how each was recognised
(synonym, stem, typo, compound). This module asks the same matcher pieces the engine
uses (`Analyser`, and per language the index's `resolve`, `split_compound`,
`correct_typo`, `idf` and `postings`), so it cannot disagree with them; it never changes
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


def words_of(matcher: Matcher, text: str, lang: Lang) -> list[Word]:
    """The question's content words and how `lang`'s index recognises each."""
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
        synonym = written != head
        hit = index.resolve(head)
        if hit is not None:
            term, factor = hit
            how: How
            if synonym:
                how = "synonym"
            elif index.stem(head) == term:
                how = "word" if head == term else "stem"
            elif index.correct_typo(head) == term:
                how = "typo"
            else:
                how = "ending"
            weight = index.idf.get(term, 0.0) * factor
            out.append(Word(written, head, how, ((term, weight),), weight))
            continue
        parts = index.split_compound(head)
        if parts:
            # As the matcher weighs the two halves of a compound.
            each = tuple((p, index.idf.get(p, 0.0) * 0.9 / len(parts) * 1.5) for p in parts)
            out.append(Word(written, head, "compound", each, sum(w for _, w in each)))
            continue
        out.append(Word(written, head, "unknown", (), index.unknown_idf))
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
