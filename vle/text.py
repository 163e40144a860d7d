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


# The letters each language's alphabet puts after a base letter (CLDR's
# tailorings of the Unicode collation): Lithuanian č after c; Polish ł after l,
# ż after ź after z; Norwegian æ, ø, å after z. Every other diacritic sorts with
# its base letter, and English has no letters of its own.
_OWN_LETTERS: dict[str, dict[str, tuple[str, int]]] = {
    "lt": {"č": ("c", 1), "š": ("s", 1), "ž": ("z", 1)},
    "pl": {
        "ą": ("a", 1),
        "ć": ("c", 1),
        "ę": ("e", 1),
        "ł": ("l", 1),
        "ń": ("n", 1),
        "ó": ("o", 1),
        "ś": ("s", 1),
        "ź": ("z", 1),
        "ż": ("z", 2),
    },
    "nb": {"æ": ("z", 1), "ø": ("z", 2), "å": ("z", 3)},
}


def collation_key(text: str, language: str) -> tuple[tuple[tuple[str, int], ...], str]:
    """A sort key that puts `text` where `language`'s alphabet does: "Česko"
    after "Cypras" in Lithuanian, "Åland" after "Zimbabwe" in Norwegian,
    "Åland" before "Albania" in English. Case and other diacritics decide only
    between otherwise equal texts."""
    own = _OWN_LETTERS.get(language.split("-")[0].split("_")[0].lower(), {})
    letters: list[tuple[str, int]] = []
    for char in unicodedata.normalize("NFC", text.casefold()):
        if char in own:
            letters.append(own[char])
        else:
            letters.extend((base, 0) for base in fold(char) or char)
    return tuple(letters), text
