"""Finding the entry a question is about.

A question is folded, synonyms are mapped to one word, stop words dropped and the rest
stemmed (Dutch and English Snowball). Words the knowledge base does not know are
rescued in three steps: a Dutch past participle without "ge-", a compound split into two
known words ("pestgedrag" -> "pest" + "gedrag"), and a typo within one or two edits
(rapidfuzz). Each entry is then scored on two things:

- coverage: how much of the question's weight (IDF) the entry's words explain. Unknown
  words keep their weight, which is what keeps "waar kan ik parkeren" from an answer;
- similarity to the closest phrasing (weighted Dice over terms, plus rapidfuzz's
  token-set ratio on the words), which separates entries that share vocabulary.

Not every word weighs the same: everyday words (LIGHT_WORDS) are capped, words the
knowledge base has only in answer texts count half, each further unknown word adds less,
and long messages need a smaller share explained. A question carried by unknown words
beside one or two known ones is never answered outright ("mijn sportschool opzeggen").

An inverted index limits the scoring to entries that share a word with the question, so
the cost grows with the answerable part of the knowledge base, not its size.
"""

from __future__ import annotations

import heapq
import math
import string
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot._kb import Entry, KnowledgeBase
from bot._lookup import OneEdit, best_dice, by_length, posting_arrays, shortlist_of, term_bits
from bot._ranker import FloatArray, Ranker
from bot._text import LIGHT_WORDS, STOPWORDS, fold, stem
from bot._types import LANGS, Lang

_ALL_STOP = STOPWORDS["nl"] | STOPWORDS["en"]
_ALL_LIGHT = LIGHT_WORDS["nl"] | LIGHT_WORDS["en"]
#: Dropped from questions and texts: stop words and lone letters (folded words are only
#: ever a-z and 0-9, so these are all the one-letter non-digits).
_DROP = _ALL_STOP | set(string.ascii_lowercase)
#: Weight of words found only in an entry's answer text (not its title, questions or keywords).
_ANSWER_WEIGHT = 0.35
_KEYWORD_WEIGHT = 1.0
#: The most an everyday word (LIGHT_WORDS) weighs: as much as a word in a sixth of entries.
_LIGHT_IDF = 2.0
#: Longer "words" are no words (pasted data, keyboard mashing): no typo or compound search.
MAX_WORD = 40
#: Content words in a question beyond which coverage is measured more leniently.
_LONG = 7
#: How much a question word counts when the knowledge base has it only in answer texts.
_ANSWER_ONLY_FACTOR = 0.5
#: A question whose unknown words carry at least this share of its weight is scored no
#: higher than _UNSURE_CEILING, just under the engine's answer threshold.
_UNKNOWN_SHARE = 0.45
_UNSURE_CEILING = 0.49
#: How many candidates (by coverage) get the costlier phrasing comparison.
_SHORTLIST = 40
#: A match through the other language's phrasings counts this much.
_OTHER_LANGUAGE = 0.92
#: Function words people run into the next word when typing fast, longest first.
_GLUED: dict[Lang, tuple[str, ...]] = {
    "nl": ("hoe", "wat", "een", "het", "mn", "zn", "te", "ik", "je", "me", "om"),
    "en": ("the", "my", "im", "to"),
}


@dataclass(frozen=True, slots=True)
class Match:
    """One candidate entry with its score (0..1) and the language that matched it."""

    entry: Entry
    score: float
    lang: Lang
    #: The question's unknown words carry most of it: the score was capped (see _score).
    capped: bool = False


@dataclass(frozen=True, slots=True)
class _Phrasing:
    entry: int
    terms: frozenset[str]
    weight: float
    words: str


class _LangIndex:
    """Everything needed to score questions in one language."""

    def __init__(self, lang: Lang, entries: Sequence[Entry], analyser: Analyser) -> None:
        self.lang = lang
        self.analyser = analyser
        # Stems of the knowledge base's own words only. Question words are stemmed
        # afresh every time and never remembered: no cache holds what people wrote.
        stems: dict[str, str] = {}

        def terms_of(words: Iterable[str]) -> list[str]:
            # Most words were seen before: look them all up in one go, stem only the new.
            words = list(words)
            for word in [w for w in words if w not in stems]:
                stems[word] = stem(word, lang)
            return list(map(stems.__getitem__, words))

        strong: list[dict[str, float]] = []
        phrasings: list[tuple[int, frozenset[str], str]] = []
        own_words: set[str] = set()
        for i, entry in enumerate(entries):
            t = entry.text(lang)
            terms: dict[str, float] = {}
            for text in (t.title, *t.questions):
                split = fold(text).split()
                own_words.update(split)
                words = analyser.split_words(split)
                ts = frozenset(terms_of(words))
                terms.update(dict.fromkeys(ts, 1.0))
                if ts:
                    phrasings.append((i, ts, " ".join(words)))
            for kw in t.keywords:
                terms.update(dict.fromkeys(terms_of(analyser.words(kw, lang)), _KEYWORD_WEIGHT))
            # Words only in the answer weigh less; the stronger weights above win.
            answer = dict.fromkeys(terms_of(dict.fromkeys(analyser.words(t.answer, lang))))
            strong.append(dict.fromkeys(answer, _ANSWER_WEIGHT) | terms)
        own_words -= _ALL_STOP
        df = Counter(chain.from_iterable(strong))
        n = max(len(entries), 1)
        self.idf = {term: math.log(1.0 + n / count) for term, count in df.items()}
        for term in {stem(w, lang) for w in LIGHT_WORDS[lang]} & self.idf.keys():
            self.idf[term] = min(self.idf[term], _LIGHT_IDF)
        self.unknown_idf = math.log(1.0 + n) + 0.5
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, terms in enumerate(strong):
            for term, weight in terms.items():
                self.postings[term].append((i, weight))
        self.arrays = posting_arrays(self.postings)
        #: Terms only ever seen in answer texts: in a question they are more likely part
        #: of the story around it than its topic, so they weigh less there.
        self.answer_only = {
            t for t, ps in self.postings.items() if max(w for _, w in ps) <= _ANSWER_WEIGHT
        }
        self.phrasings_of: dict[int, list[_Phrasing]] = defaultdict(list)
        idf = self.idf
        # fsum: sums over sets come out the same in every process, whatever the hash seed.
        for i, ts, joined in phrasings:
            weight = math.fsum(map(idf.__getitem__, ts))
            self.phrasings_of[i].append(_Phrasing(i, ts, weight, joined))
        #: Each phrasing's words, to its entry (found however common its words are).
        self.exact = {joined: i for i, _, joined in reversed(phrasings)}
        self.phrasing_bits = {  # per entry and term, the phrasings holding it
            i: term_bits(p.terms for p in ps) for i, ps in self.phrasings_of.items()
        }
        self._stems = stems
        # Every word of the knowledge base is a typo target, and so is every spelling of
        # a synonym, so "manger" finds "manager" though the index only holds the head word.
        surface = dict(stems)
        for variant, head in analyser.single.items():
            head_term = stem(head, lang)
            if head_term in idf:
                surface.setdefault(variant, head_term)
        self.surface = surface
        #: The question words of this language as written (before synonyms): a vote for
        #: which language a question is in.
        self.own_words = frozenset(own_words)
        self.surface_words = list(surface)
        # Typo candidates by length (edits as in correct_typo): the same closest ones.
        self._typo_targets = by_length(self.surface_words, (9, 1, 2), range(9, MAX_WORD + 1))
        self._one_edit = OneEdit(self.surface_words, range(4, 10))
        self.vocab = set(idf)
        self.light_words = LIGHT_WORDS[lang]

    def stem(self, word: str) -> str:
        """The stem of a folded word (looked up for the knowledge base's own words)."""
        term = self._stems.get(word)
        return stem(word, self.lang) if term is None else term

    def resolve(self, word: str, *, typos: bool = True) -> tuple[str, float] | None:
        """Map one folded word to an indexed term and a confidence factor, or None.

        Args:
            word: A folded question word.
            typos: Whether to look for a typo; off when the question is in the other
                language ("buren" is no typo of "burden").
        """
        if len(word) > MAX_WORD:
            return None
        term = self.stem(word)
        if term in self.vocab:
            return term, 1.0
        # Another ending of a synonym ("reorganised" beside "reorganisation").
        head = self.analyser.stem_heads.get((self.lang, term))
        if head is not None:
            head_term = stem(head, self.lang)
            if head_term in self.vocab:
                return head_term, 0.95
        if self.lang == "nl" and word.startswith("ge") and len(word) > 5:
            term = self.stem(word[2:])
            if term in self.vocab:
                return term, 0.9
        # A short function word run into the next one ("temelden", "hoelang", "myboss"):
        # tried before typos, which would otherwise bend the whole into another word.
        for glue in _GLUED.get(self.lang, ()):
            rest = word[len(glue) :]
            if word.startswith(glue) and len(rest) >= 4:
                term = self.stem(self.analyser.single.get(rest, rest))
                if term in self.vocab:
                    return term, 0.9
        # An everyday word is a word, not a typo ("during" is not "dure").
        typo = None if word in _ALL_LIGHT or not typos else self.correct_typo(word)
        if typo is not None:
            return typo, 0.85
        # An inflection the stemmer does not know ("fraudeerd", "discrimineerde"): the
        # longest known term the word starts with, if only a short ending is left over.
        # Not in the other language's index: "eventueel" is no form of "event".
        for cut in range(len(word) - 1, 4, -1) if typos else ():
            if len(word) - cut > 4:
                break
            term = self.stem(word[:cut])
            if term in self.vocab and len(term) >= 5:
                return term, 0.8
        return None

    def correct_typo(self, word: str) -> str | None:
        """The term of the closest known word within one or two edits, if there is one.

        Words under five letters are not corrected: one edit turns "geld" into "meld".
        A candidate must start with the same letter (people rarely mistype the first),
        except for long words, where a wrong first letter still leaves little doubt.
        """
        if len(word) < 5:
            return None
        if len(word) < 9:  # one edit: through deletions, the same hits as `extract`
            hits = self._one_edit.extract(word, 8)
        else:
            targets = self._typo_targets.get(len(word), self.surface_words)
            hits = process.extract(
                word, targets, scorer=Levenshtein.distance, score_cutoff=2, limit=8
            )
        if not hits:
            return None
        same_start = [h for h in hits if h[0][:1] == word[:1]]
        if not same_start and len(word) < 8:
            return None  # "morgen" is not "zorgen"
        best = min(same_start or hits, key=lambda h: h[1])
        return self.surface[best[0]]

    def split_compound(self, word: str) -> list[str]:
        """Split an unknown Dutch-style compound into two known terms, if it is one."""
        if len(word) < 7 or len(word) > MAX_WORD:
            return []
        for cut in range(len(word) - 3, 2, -1):
            left, right = word[:cut], word[cut:]
            rterm = self.stem(right)
            if rterm not in self.vocab:
                continue
            for head in (
                left,
                left[:-1] if left.endswith("s") else "",
                left[:-2] if left.endswith("en") else "",
            ):
                if len(head) >= 4:  # "ver" + "huizing" is no compound
                    lterm = self.stem(head)
                    if lterm in self.vocab:
                        return [lterm, rterm]
        return []

    def query_terms(
        self, words: Iterable[str], *, typos: bool = True
    ) -> list[tuple[str, float, bool]]:
        """(term, weight, known) for each question word."""
        out: list[tuple[str, float, bool]] = []
        for word in words:
            hit = self.resolve(word, typos=typos)
            if hit is not None:
                term, factor = hit
                if term in self.answer_only:
                    factor *= _ANSWER_ONLY_FACTOR
                out.append((term, self.idf[term] * factor, True))
                continue
            parts = self.split_compound(word)
            if parts:
                for term in parts:
                    out.append((term, self.idf[term] * 0.9 / len(parts) * 1.5, True))
                continue
            # An everyday word the knowledge base happens not to hold is no sign of
            # another topic: it weighs as little as when it is known.
            weight = _LIGHT_IDF if word in self.light_words else self.unknown_idf
            out.append((word, weight, False))
        return out


class Analyser:
    """Folding, synonyms and stop words: the same for the index and for questions."""

    def __init__(self, synonyms: Iterable[Sequence[str]]) -> None:
        single: dict[str, str] = {}
        multi: dict[str, str] = {}
        for group in synonyms:
            head = "_".join(fold(group[0]).split())
            for word in group:
                folded = fold(word)
                if not folded:
                    continue
                if " " in folded:
                    multi.setdefault(folded, head)
                else:
                    single.setdefault(folded, head)
        self.single = single
        #: Synonyms by their stem per language, for endings the list does not spell out.
        self.stem_heads: dict[tuple[Lang, str], str] = {}
        for variant, head in single.items():
            if len(variant) >= 5:
                for lang in LANGS:
                    self.stem_heads.setdefault((lang, stem(variant, lang)), head)
        # Multi-word synonyms by their first word, longest first: a scan over the words
        # costs a dictionary look-up per word, however many phrases there are.
        by_first: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for phrase, head in multi.items():
            words = tuple(phrase.split())
            by_first[words[0]].append((words, head))
        for options in by_first.values():
            options.sort(key=lambda o: len(o[0]), reverse=True)
        self.multi = dict(by_first)

    def words(self, text: str, lang: Lang) -> list[str]:
        """Folded content words of `text`, synonyms mapped to their head word."""
        return self.folded_words(fold(text))

    def folded_words(self, folded: str) -> list[str]:
        """`words` for text that is folded already."""
        return self.split_words(folded.split())

    def split_words(self, words: list[str]) -> list[str]:
        """`words` for the words of folded text."""
        multi = self.multi
        # Only where a multi-word synonym could start is there a Python-level look;
        # the rest is mapped in one comprehension (this runs for every answer text).
        starts = [i for i, w in enumerate(words) if w in multi]
        if starts:
            joined: list[str] = []
            pos = 0
            for i in starts:
                if i < pos:
                    continue
                for phrase, head in multi[words[i]]:
                    if tuple(words[i : i + len(phrase)]) == phrase:
                        joined += words[pos:i]
                        joined.append(head)
                        pos = i + len(phrase)
                        break
            words = joined + words[pos:] if pos else words
        return [w for w in map(self.single.get, words, words) if w not in _DROP]


class Matcher:
    """Scores every entry of a knowledge base against a question."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries: tuple[Entry, ...] = (*kb.entries, *kb.elsewhere)
        self.analyser = Analyser(kb.synonyms)
        self.indexes = {lang: _LangIndex(lang, self.entries, self.analyser) for lang in LANGS}
        self.ranker = Ranker(len(self.entries), self._phrasing_words(self.entries))

    def _phrasing_words(self, entries: Sequence[Entry]) -> list[tuple[int, list[str]]]:
        out: list[tuple[int, list[str]]] = []
        for i, entry in enumerate(entries):
            for lang in LANGS:
                t = entry.texts.get(lang)
                if t is None:
                    continue
                for text in (t.title, *t.questions, *t.keywords):
                    out.append((i, self.analyser.folded_words(fold(text))))
        return out

    @property
    def vocabulary(self) -> frozenset[str]:
        """The folded words people's questions use in the knowledge base (titles and
        questions, any language) and every spelling in the synonym lists; words found
        only in answer texts are not in it ("Defensie" named in an answer is no topic)."""
        words: set[str] = set(self.analyser.single)
        for index in self.indexes.values():
            words.update(index.own_words)
        return frozenset(words)

    def learned_scores(self, text: str) -> FloatArray:
        """The learned ranker's score (cosine 0..1) for every entry, by entry index."""
        return self.ranker.scores(self.analyser.folded_words(fold(text)))

    def match(self, text: str, *, limit: int = 5, lang: Lang | None = None) -> list[Match]:
        """The best entries for `text`, best first, across both languages.

        Args:
            text: The question.
            limit: How many matches at most.
            lang: The language the question is written in, if known: a match through the
                other language's phrasings then counts a little less, so a Dutch
                question is answered from the Dutch phrasings when both fit.
        """
        best: dict[int, tuple[float, Lang, bool]] = {}  # Match fields: made for the few kept
        folded = fold(text)
        own = self.indexes[lang].own_words if lang in self.indexes else frozenset()
        for index_lang, index in self.indexes.items():
            factor = _OTHER_LANGUAGE if lang is not None and index_lang != lang else 1.0
            query = folded
            if factor != 1.0:
                # Only the words the question's own language does not know are looked up
                # in the other language: "werk" in a Dutch question must not match the
                # Dutch name quoted in an English phrasing ("van werk naar werk").
                query = " ".join(w for w in folded.split() if w not in own)
                if not query:
                    continue
            scored, capped = self._score(index, query, limit, typos=factor == 1.0)
            for i, raw in scored:
                score = raw * factor
                if i not in best or score > best[i][0]:
                    best[i] = (score, index_lang, capped)
        top = sorted(best.items(), key=lambda b: b[1][0], reverse=True)[:limit]
        return [Match(self.entries[i], *fields) for i, fields in top]

    def language_of(self, text: str) -> Lang | None:
        """The language whose phrasings know more of the question's words, if one does.

        A fallback for when the words themselves carry no language signal
        ("seksuele intimidatie melden" has no Dutch function word).
        """
        votes = dict.fromkeys(self.indexes, 0)
        for word in fold(text).split():
            known = [lang for lang, index in self.indexes.items() if word in index.own_words]
            if len(known) == 1:
                votes[known[0]] += 1
        nl, en = votes.get("nl", 0), votes.get("en", 0)
        if nl == en:
            return None
        return "nl" if nl > en else "en"

    def _score(
        self, index: _LangIndex, folded: str, limit: int, *, typos: bool = True
    ) -> tuple[list[tuple[int, float]], bool]:
        """(entry index, score) for the shortlist, and whether the scores were capped.
        Entries that cannot be among the best `limit` may be left out."""
        words = self.analyser.folded_words(folded)
        if not words:
            return [], False
        terms = index.query_terms(words, typos=typos)
        # The same word twice should not count twice.
        seen: dict[str, tuple[float, bool]] = {}
        for term, weight, known in terms:
            if term not in seen or weight > seen[term][0]:
                seen[term] = (weight, known)
        # Each further unknown word adds less: in a long message most words tell the
        # story around the question ("al maanden", "uitgenodigd", "overleggen"), and one
        # unknown word still weighs fully, which keeps short off-topic questions out.
        unknown = sum(1 for _, known in seen.values() if not known)
        if unknown > 1:
            damp = 1.0 / math.sqrt(unknown)
            seen = {t: (w if k else w * damp, k) for t, (w, k) in seen.items()}
        total = sum(w for w, _ in seen.values())
        if total <= 0:
            return [], False
        weighted = [(t, w) for t, (w, k) in seen.items() if k]
        qwords = " ".join(words)
        shortlist, coverage = shortlist_of(index, weighted, len(self.entries), _SHORTLIST, qwords)
        if not shortlist:
            return [], False
        qweight = sum(w for w, _ in seen.values())
        # When one or two known words stand beside words the knowledge base does not
        # know, and those carry most of the question ("mijn sportschool opzeggen", "een
        # klacht over mijn energieleverancier"), it is probably about something else:
        # ask, never answer.
        qterms = {t for t, (_, known) in seen.items() if known}
        unknown_share = math.fsum(w for w, known in seen.values() if not known) / total
        unsure = len(qterms) <= 2 and unknown_share >= _UNKNOWN_SHARE
        ceiling = _UNSURE_CEILING if unsure else 1.0
        # A long message spreads its weight over the story around the question; past
        # _LONG content words, the share an entry must explain shrinks slowly.
        length_factor = min(1.0, math.sqrt(_LONG / len(seen)))
        scored: list[tuple[int, float]] = []
        # The most similarity can be (a phrasing holding exactly the question's terms),
        # a little over to be safe from rounding: once even that cannot lift an entry
        # over the `limit`-th best so far, no entry after it (less coverage) can either.
        known_weight = math.fsum(index.idf[t] for t in qterms)
        top_sim = 2.0 * known_weight / (qweight + known_weight) * 1.000001 + 1e-9
        best: list[float] = []
        for i in shortlist:
            cov = min(1.0, coverage[i] / (total * length_factor))
            bound = 0.55 * cov + 0.35 * top_sim + 0.10 * min(1.0, cov * 1.5)
            if best and len(best) == limit and min(bound, ceiling) < best[0]:
                break
            phrasings = index.phrasings_of.get(i, [])
            bits = index.phrasing_bits.get(i, {})
            sim, k = best_dice(qterms, qweight, phrasings, bits, index.idf)
            surface = fuzz.token_set_ratio(qwords, phrasings[k].words) / 100.0 if k >= 0 else 0.0
            score = min(0.55 * cov + 0.35 * sim + 0.10 * surface * min(1.0, cov * 1.5), ceiling)
            scored.append((i, score))
            (heapq.heappush if len(best) < limit else heapq.heappushpop)(best, score)
        return scored, unsure
