"""Language identification with langdetect, made deterministic.

langdetect samples n-grams at random; fixing ``DetectorFactory.seed`` makes the same text
give the same language and probability on every run and machine.
"""

from __future__ import annotations

from functools import lru_cache

from corpus.labels import LANGUAGES

SEED = 0


class LanguageError(ValueError):
    """The language of a text cannot be detected or is not one the corpus covers."""


@lru_cache(maxsize=1)
def _detector_factory():
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = SEED
    init_factory()
    from langdetect import detector_factory

    return detector_factory._factory


def detect_language(text: str) -> tuple[str, float]:
    """``(lang, probability)`` for a supported language, else ``LanguageError``."""
    from langdetect.lang_detect_exception import LangDetectException

    if not any(ch.isalpha() for ch in text):
        raise LanguageError("language undetectable (no letters)")
    detector = _detector_factory().create()
    detector.append(text)
    try:
        best = detector.get_probabilities()[0]
    except (LangDetectException, IndexError):
        raise LanguageError("language undetectable") from None
    if best.lang not in LANGUAGES:
        supported = ", ".join(LANGUAGES)
        raise LanguageError(f"language '{best.lang}' (p={best.prob:.2f}) is not supported ({supported})")
    return best.lang, round(float(best.prob), 4)
