"""Text normalisation for matching: cleaning, transliteration, tokens, legal forms, name variants.

Every step is a pure function of its input and the data tables under ``clearance/data/text``; each is
idempotent and never raises on any string (tests/text checks both with Hypothesis).
"""

from clearance.text.normalise import clean, fold, normalise_name, tokenize
from clearance.text.tokens import NameTokens, Token, analyse_name

__all__ = ["NameTokens", "Token", "analyse_name", "clean", "fold", "normalise_name", "tokenize"]
