"""Text as a search compares it: one rule, used by every search in vle."""

from __future__ import annotations

import unicodedata

# Letters that Unicode does not decompose into a base letter and a mark, so
# NFKD alone leaves them: Polish ł, Norwegian and Danish ø and æ, and their kin.
_OWN_FOLDS = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ħ": "h",
        "ı": "i",
        "ŧ": "t",
        "þ": "th",
        "Þ": "th",
    }
)


def fold(text: str) -> str:
    """`text` without case or diacritics: "ĮSTAIGŲ" → "istaigu", "Łódź" → "lodz",
    "Tromsø" → "tromso", "Ærø" → "aero". Whitespace runs become one space."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_OWN_FOLDS))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())
