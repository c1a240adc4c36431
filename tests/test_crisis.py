"""Crisis recall on the bundled phrases, with typos, and no false alarms on ordinary questions."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot._crisis import CrisisDetector
from bot._yaml import load_yaml_file

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
PHRASES = load_yaml_file(KNOWLEDGE / "crisis.yaml")["crisis"]
ALL = [(lang, p) for lang in ("nl", "en") for p in PHRASES[lang]]


@pytest.fixture(scope="module")
def detector() -> CrisisDetector:
    data = load_yaml_file(KNOWLEDGE / "crisis.yaml")
    return CrisisDetector(data["crisis"], data["not_crisis"])


def typo(phrase: str) -> str:
    """Swap two letters in the middle of the longest word: a typical typing slip."""
    words = phrase.split()
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) >= 5:
        m = len(w) // 2
        words[i] = w[: m - 1] + w[m] + w[m - 1] + w[m + 1 :]
    return " ".join(words)


@pytest.mark.parametrize(("lang", "phrase"), ALL)
def test_every_phrase_in_a_sentence(detector: CrisisDetector, lang: str, phrase: str) -> None:
    before, after = ("Hallo, ik denk", "echt waar") if lang == "nl" else ("Hi, I think", "honestly")
    assert detector.is_crisis(f"{before} {phrase.upper()} {after}")


@pytest.mark.parametrize(("lang", "phrase"), [(lang, p) for lang, p in ALL if len(p) >= 12])
def test_every_longer_phrase_with_a_typo(detector: CrisisDetector, lang: str, phrase: str) -> None:
    assert detector.is_crisis(typo(phrase)), typo(phrase)


@pytest.mark.parametrize(
    "text",
    [
        "ik wil nie meer leven",
        "ik wil niet meer lven",
        "ik wil dood",
        "ik wil er een eind aan maken",
        "zelfmoordgedachten",
        "ik denk aan zelfdoding",
        "I want to kil myself",
        "i want to dye",
        "Someone is threatening to hurt me at the office right now",
        "he has a knive",
    ],
)
def test_misspelt_and_real_world_forms(detector: CrisisDetector, text: str) -> None:
    assert detector.is_crisis(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wat is een misstand?",
        "ik word gepest",
        "Mag ik een etentje van een adviesbureau accepteren?",
        "how do I report a data leak",
        "ik heb een vraag over men contract",
        "mijn baas is streng",
        "Ik slaap slecht door de werkdruk",
        "What does reintegration mean after long-term sickness?",
        "Het probleem is mijn eigen directeur",
        "Kan mijn identiteit geheim blijven?",
        "Wat moet ik als vertrouwenspersoon doen als de melder in gevaar is?",
        "qwerty",
        "",
    ],
)
def test_no_false_alarm(detector: CrisisDetector, text: str) -> None:
    assert not detector.is_crisis(text)
