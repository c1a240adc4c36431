"""Crisis detection: runs before anything else, on every message, in both languages.

A phrase from crisis.yaml matches when a window of the message of about the same number
of words is within a few edits of it, compared with the spaces taken out, so
"ik wil nie meer leven", "kil my self" and "zelfmoordgedachten" still count. Edits are
counted (a swap of two letters is one), not a similarity ratio: a ratio forgives a whole
different word in a long phrase ("ik wil niet meer in dit team" is no crisis), an edit
budget does not.
Phrases cannot list every way of saying it ("zegt dat hij er een eind aan wil maken",
"ik heb pillen gespaard"), so crisis.yaml also has `together` rules: groups of words
that signal danger when each group occurs within a few words of the others, in any
order, with small typos and other word endings (Snowball stems) forgiven.
Exclusions (crisis.yaml `not_crisis`) keep questions *about* danger, such as training on
suicide prevention, from being treated as the person's own crisis.
Some phrases are also everyday talk about work ("ik zie het niet meer zitten met dit
project, mag ik wisselen?", "I don't want to be here anymore, in this team"). The
`work_scope` lists of crisis.yaml say when a match is bound to a work object: the message
asks something, no word in it reaches beyond work (life, death, home), and each match has
a work object inside it, just before it, or just after it behind a binding word ("met",
"in", "when"). Such a message is not a crisis by the rules; the learned model still has
its say, so the reply can still start with 112/113.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot._crisis_model import CrisisModel
from bot._crisis_scope import WorkScope
from bot._lookup import GramFilter, Runs, Substrings, by_length
from bot._text import LIGHT_WORDS, STOPWORDS, fold, has_common_words, stem
from bot._types import LANGS, Lang

#: The words of one `together` rule must all lie within this many words.
TOGETHER_WINDOW = 14
#: Longer words are no words (pasted data): not compared for typos.
_MAX_WORD = 40
#: `together` words shorter than this only match as written or by their stem.
_TYPO_MIN = 8

Rule = Sequence[Sequence[str]]
#: What found a crisis: a phrase or rule ("rules"), or only the learned model ("model").
Signal = Literal["rules", "model"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What the crisis look made of one message, kept for the rest of that message."""

    #: What raised the alarm, or None.
    signal: Signal | None
    #: The crisis model's probability; None when it was not asked (a rule fired, an
    #: exclusion, no model).
    probability: float | None = None
    #: An exclusion phrase (a drill, a first-aid course) rules a crisis out.
    excluded: bool = False
    #: Whether the message reads as language: the crisis model knows one of its words, or
    #: it holds a common Dutch or English word. Where neither (a code, gibberish), the
    #: sentence model's crisis looks are not asked: its reading of such text is noise
    #: ("blablabla 12345" read as a crisis by the probe at 0.998).
    known: bool = True


#: Words of a phrase at least this long must keep their first letter in a typo match.
_INITIAL_MIN = 5
#: Phrases at least this long (letters and spaces) are also found with their spaces gone.
_COMPACT_MIN = 12
#: Extra words allowed between the words of a phrase of three words or more.
_MAX_GAP = 2
#: Words that turn a phrase around when they come in between.
_NEGATIONS = frozenset(["niet", "geen", "nooit", "not", "no", "never"])

#: Everyday words: never a rule word's stand-in through stemming.
_COMMON = frozenset().union(*STOPWORDS.values(), *LIGHT_WORDS.values())
#: Words that only add emphasis (unless a crisis phrase uses one: "seriously injured").
_FILLERS = frozenset(
    [
        "gewoon",
        "echt",
        "eigenlijk",
        "even",
        "gewoonweg",
        "serieus",
        "zo",
        "really",
        "honestly",
        "literally",
        "actually",
        "totally",
        "seriously",
        "kinda",
    ]
)


#: Matches looked at in one message before it simply counts as a crisis.
_MAX_SPANS = 6


def allowed_edits(length: int) -> int:
    """Typos forgiven in a phrase of `length` letters (spaces not counted)."""
    if length < 6:
        return 0
    if length < 12:
        return 1
    if length < 20:
        return 2
    return 3


class CrisisDetector:
    """Finds acute-danger language in a message."""

    def __init__(
        self,
        phrases: Mapping[Lang, Iterable[str]],
        exclusions: Mapping[Lang, Iterable[str]] | None = None,
        together: Mapping[Lang, Iterable[Rule]] | None = None,
        model: CrisisModel | None = None,
        scope: Mapping[Lang, Mapping[str, Sequence[str]]] | None = None,
        known: frozenset[str] = frozenset(),
    ) -> None:
        self.model = model
        # Words that are words, not typos: "I don't want to lose my job" is one letter
        # pair from "... to live", but "lose" is a word the knowledge base uses.
        self.known = known
        self.scope = WorkScope.from_lists(scope) if scope else None
        self.phrases = sorted(
            {f for ps in phrases.values() for p in ps if (f := fold(p))}, key=len, reverse=True
        )
        self.exclusions = sorted(
            {f for ps in (exclusions or {}).values() for p in ps if (f := fold(p))}
        )
        self.together = _Together([(lang, r) for lang, rs in (together or {}).items() for r in rs])
        self.words = frozenset(w for p in self.phrases for w in p.split()) | self.together.words
        self._fillers = _FILLERS - self.words  # a filler in a phrase is no filler
        # Long alarm words also count inside compounds ("zelfmoordgedachten").
        self._long_words = [w for w in self.words if len(w) >= 7]
        # Every message goes through here: exact hits by dictionary look-ups (a regular
        # expression of all phrases cost a tenth of a turn), then a bigram count that
        # leaves only the phrases worth a closer look for typos.
        self._exact = Runs(self.phrases)
        self._inside = [p for p in self.phrases if " " not in p and len(p) >= 7]
        self._fuzzy = [
            p
            for p in self.phrases
            if allowed_edits(len(p.replace(" ", ""))) and (" " in p or len(p) >= 5)
        ]
        targets = [p.replace(" ", "") for p in self._fuzzy]
        self._grams = GramFilter(targets, [allowed_edits(len(t)) for t in targets])
        # What `_near_phrase` requires of the words before it compares any: its short
        # words as written, and a word with the first letter of its last word.
        self._needs = [
            (frozenset(w for w in p.split() if len(w) <= 2), p.split()[-1][0]) for p in self._fuzzy
        ]
        # Words run together ("ikwilnietmeerleven"): long phrases without their spaces.
        self._compact = Substrings(
            {p.replace(" ", "") for p in self.phrases if len(p) >= _COMPACT_MIN}
        )
        self._excluded = Runs(self.exclusions)
        # Longer phrases with a word or two in between ("ze wil niet meer [wil] leven").
        self._gapped: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for p in self.phrases:
            if p.count(" ") >= 2:
                self._gapped[p.split()[0]].append(tuple(p.split()))

    def is_crisis(self, text: str, *, folded: str | None = None) -> bool:
        """True when `text` holds a crisis phrase or `together` rule (with small typos),
        or the learned model finds it likely, and no exclusion."""
        return self.signal(text, folded=folded) is not None

    def signal(self, text: str, *, folded: str | None = None) -> Signal | None:
        """What says `text` is a crisis: "rules" (a phrase or `together` rule, with small
        typos), "model" (only the learned model), or None (nothing, or an exclusion).
        `folded` is `fold(text)` when the message's analysis has it already."""
        return self.read(text, folded=folded).signal

    def read(self, text: str, *, folded: str | None = None) -> Reading:
        """`signal`, with the model's probability and the exclusion it found on the way
        (the engine's later crisis look needs both)."""
        if folded is None:
            folded = fold(text)
        if not folded:
            return Reading(None)
        words = folded.split()
        if self._excluded.any_in(words):
            return Reading(None, excluded=True)
        if self._rules_match(words, folded) and not self._scoped(text, words):
            return Reading("rules")
        if self.model is None:
            return Reading(None)
        # What no phrase or rule foresaw: the learned model's second opinion.
        probability, known = self.model.weigh(text, folded=folded)
        signal: Signal | None = "model" if probability >= self.model.threshold else None
        return Reading(signal, probability, known=known or has_common_words(folded))

    def excluded(self, folded: str) -> bool:
        """Whether an exclusion phrase (a drill, a first-aid course) rules out a crisis."""
        return self._excluded.any_in(folded.split())

    def _scoped(self, text: str, words: list[str]) -> bool:
        """Whether every phrase or rule that matches is bound to a work object (see the
        module text). Each match is found by the shortest start of the message that
        matches and then the shortest end of that start; it is masked and the rest
        looked at again, so the matching itself stays the one `_rules_match` does."""
        scope = self.scope
        if scope is None or not scope.applies(text, words):
            return False
        words = list(words)
        for _ in range(_MAX_SPANS):
            if not self._matches(words):
                return True
            start, end = self._first_span(words)
            if not scope.bound(words, start, end):
                return False
            words[start : end + 1] = ["_"] * (end + 1 - start)
        return False

    def _first_span(self, words: list[str]) -> tuple[int, int]:
        """First and last word of the match that ends first, in a matching message."""
        end = _first_true(len(words), lambda k: self._matches(words[: k + 1]))
        head = words[: end + 1]
        return _last_true(end + 1, lambda s: self._matches(head[s:])), end

    def _matches(self, words: list[str]) -> bool:
        return self._rules_match(words, " ".join(words))

    def _rules_match(self, words: list[str], folded: str) -> bool:
        # Fillers people type between the words of a phrase ("ik wil er gewoon niet meer
        # zijn") are left out of the comparison with the phrases.
        plain = [w for w in words if w not in self._fillers]
        if len(plain) < len(words):
            words, folded = plain, " ".join(plain)
        if (
            self._exact.any_in(words)
            or any(p in folded for p in self._inside)
            or self._compact.any_in("".join(words))
        ):
            return True
        present = set(words)
        for first in present & self._gapped.keys():
            if any(set(p) <= present and _in_order(words, p) for p in self._gapped[first]):
                return True
        # A phrase counts when it is close to the message as a whole (partial ratio) and
        # a window of words is within its edit budget. Comparing all ~450 phrases took
        # most of a turn; the bigram count filter leaves out, exactly, only phrases that
        # no window can be within budget of, so the outcome is the same.
        fuzzy, needs = self._fuzzy, self._needs
        initials = {w[0] for w in words}
        for k in self._grams.possible("".join(words)):
            short, initial = needs[k]
            if initial not in initials or not short <= present:
                continue
            p = fuzzy[k]
            if fuzz.partial_ratio(folded, p, score_cutoff=75) and _near_phrase(
                words, p, self.known
            ):
                return True
        return self.together.match(words)

    def remainder(self, text: str) -> str:
        """The folded text without any word of a crisis phrase or rule: what is left
        when the alarm words are taken out, to see whether a question remains. Words
        within one typo of an alarm word go too ("zelfmoort")."""
        kept = []
        for w in fold(text).split():
            if w in self.words or any(c in w for c in self._long_words):
                continue
            if len(w) >= 6 and process.extractOne(
                w, self._long_words, scorer=OSA.distance, score_cutoff=1
            ):
                continue
            kept.append(w)
        return " ".join(kept)


class _Together:
    """`together` rules, indexed by each word as written and by its stem in the rule's
    language; a message word is looked up as written and by both stems, so a message
    costs a few dictionary look-ups per word."""

    def __init__(self, rules: Sequence[tuple[Lang, Rule]]) -> None:
        self.rules: list[list[list[tuple[str, ...]]]] = []
        self.single: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.multi: dict[str, list[tuple[tuple[str, ...], int, int]]] = defaultdict(list)
        for lang, rule in rules:
            groups = [[tuple(fold(alt).split()) for alt in group] for group in rule]
            groups = [[alt for alt in group if alt] for group in groups]
            if len(groups) < 2 or not all(groups):
                continue
            self.rules.append(groups)
            r = len(self.rules) - 1
            for g, group in enumerate(groups):
                for alt in group:
                    if len(alt) == 1:
                        # Its own language's stem only: the English stemmer makes
                        # "slik" of "geslikt", and "ik slik paracetamol" is no crisis.
                        # A stem that is an everyday word is left out: the Dutch
                        # stemmer makes "weer" of "geweer" and "zin" of "gezin".
                        word, term = alt[0], stem(alt[0], lang)
                        self.single[word].append((r, g))
                        stripped = not term.startswith(word[:2])  # "gezin" -> "zin"
                        if (
                            term != word
                            and term not in _COMMON
                            and not (stripped and len(term) <= 3)
                        ):
                            self.single[term].append((r, g))
                    else:
                        self.multi[alt[0]].append((alt, r, g))
        self.words = frozenset(
            w for rule in self.rules for group in rule for alt in group for w in alt
        )
        # Typos are forgiven in long words only: one edit turns "dood" into "door" and
        # "bloemen" into "bloeden".
        self.typo_targets = [w for w in self.single if len(w) >= _TYPO_MIN and "_" not in w]
        # Within one edit means within one letter of the length: by length, the targets
        # that can be (in the same order, so the closest four are the same four).
        self._typo_by_length = by_length(
            self.typo_targets, (0, 1, 1), range(_TYPO_MIN, _MAX_WORD + 1)
        )

    def match(self, words: list[str]) -> bool:
        if not self.rules:
            return False
        hits: dict[int, list[tuple[int, int]]] = defaultdict(list)  # rule -> (position, group)
        known: dict[str, set[tuple[int, int]]] = {}  # per message only: words repeat
        for i, word in enumerate(words):
            if len(word) > _MAX_WORD:
                continue
            single = known.get(word)
            if single is None:
                single = known[word] = self._single_hits(word)
            found = set(single)
            for phrase, r, g in self.multi.get(word, ()):
                if tuple(words[i : i + len(phrase)]) == phrase:
                    found.add((r, g))
            for r, g in found:
                hits[r].append((i, g))
        return any(self._near(hits[r], len(self.rules[r])) for r in hits)

    def _single_hits(self, word: str) -> set[tuple[int, int]]:
        found: set[tuple[int, int]] = set()
        for form in _forms(word):
            found.update(self.single.get(form, ()))
        if not found and len(word) >= _TYPO_MIN:
            targets = self._typo_by_length.get(len(word), ())
            for target, _, _ in process.extract(
                word, targets, scorer=OSA.distance, score_cutoff=1, limit=4
            ):
                if target[0] == word[0]:
                    found.update(self.single[target])
        return found

    @staticmethod
    def _near(hits: list[tuple[int, int]], groups: int) -> bool:
        """Whether every group has a hit within one window of words."""
        if len({g for _, g in hits}) < groups:
            return False
        hits.sort()
        for start, _ in hits:
            inside = {g for pos, g in hits if start <= pos < start + TOGETHER_WINDOW}
            if len(inside) == groups:
                return True
        return False


def _first_true(n: int, test: Callable[[int], bool]) -> int:
    """The smallest k in [0, n) with test(k), for a test that stays true once true
    (test(n - 1) must hold)."""
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _last_true(n: int, test: Callable[[int], bool]) -> int:
    """The largest s in [0, n) with test(s), for a test that stays true for smaller s
    (test(0) must hold)."""
    lo, hi = 0, n - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if test(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _forms(word: str) -> set[str]:
    """A folded word as written and as its Dutch and English stem."""
    return {word, *(stem(word, lang) for lang in LANGS)}


def _in_order(words: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether the phrase's words occur in order with at most _MAX_GAP words between
    them in all, none of them a negation ("ik wil niet dood" is no "ik wil dood")."""
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        pos, gap = start, 0
        for part in phrase[1:]:
            nxt = pos + 1
            while nxt < len(words) and words[nxt] != part and gap < _MAX_GAP:
                if words[nxt] in _NEGATIONS:
                    break
                nxt, gap = nxt + 1, gap + 1
            if nxt >= len(words) or words[nxt] != part:
                break
            pos = nxt
        else:
            return True
    return False


def _near_phrase(words: list[str], phrase: str, known: frozenset[str] = frozenset()) -> bool:
    """Whether a window of words is within the phrase's edit budget; a window that
    ends in a `known` word other than the phrase's last word is another sentence, and so
    is a window of as many words as the phrase where any word is another `known` word
    ("dit staat mij tegen" is one letter from "slaat mij").

    Exact hits, and single words inside a Dutch compound ("zelfmoordgedachten"), are
    found before this; short single words only ever match exactly (too many near misses).
    """
    n = phrase.count(" ") + 1
    target = phrase.replace(" ", "")
    budget = allowed_edits(len(target))
    # Short words carry the meaning of a phrase ("is nu in gevaar" is not "is in gevaar"),
    # and deleting one costs only two edits: they must be there as they are.
    short = [w for w in phrase.split() if len(w) <= 2]
    # The last word usually carries a phrase's meaning ("live", "leven", "dood"), and
    # people rarely mistype a first letter: "dont want to file" is no "don't want to
    # live", one edit apart. Other words may differ more ("zijn leven" for "mijn leven").
    # The same holds for every longer word: "slaat me" is one edit from "laat me", and
    # "mijn teamleider laat me nooit uitpraten" is a question about work.
    parts = phrase.split()
    initials = {parts[-1][0]} | {w[0] for w in parts if len(w) >= _INITIAL_MIN}
    for size in {max(1, n - 1), n, n + 1}:
        for start in range(0, max(1, len(words) - size + 1)):
            window_words = words[start : start + size]
            if any(w not in window_words for w in short):
                continue
            if not initials <= {w[0] for w in window_words}:
                continue
            if window_words[-1] != parts[-1] and window_words[-1] in known:
                continue
            if len(window_words) == n and any(
                w != p and w in known for w, p in zip(window_words, parts, strict=True)
            ):
                continue
            window = "".join(window_words)
            if abs(len(window) - len(target)) > budget:
                continue
            if OSA.distance(window, target, score_cutoff=budget) <= budget:
                return True
    return False
