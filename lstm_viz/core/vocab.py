"""Character vocabulary: the alphabet, newline normalisation and the unknown slot."""

from __future__ import annotations

from collections import Counter

import numpy as np

UNKNOWN = 0  # index of the reserved slot for characters outside the alphabet
UNKNOWN_SYMBOL = "\ufffd"  # how the unknown slot is shown when decoding


def normalise(text: str) -> str:
    """Turn Windows (\\r\\n) and old Mac (\\r) line endings into \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def codepoints(text: str) -> np.ndarray:
    """Code points of `text` as uint32 (T,); lone surrogates are kept, never an error."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


class Vocab:
    """An alphabet of characters; index 0 is the unknown slot, characters start at 1."""

    def __init__(self, chars: list[str]):
        if len(set(chars)) != len(chars) or any(len(c) != 1 for c in chars):
            raise ValueError("alphabet must be distinct single characters")
        self.chars = list(chars)
        self.index = {c: i + 1 for i, c in enumerate(self.chars)}
        cps = codepoints("".join(self.chars)).astype(np.int64)
        self._table = np.full(int(cps.max(initial=0)) + 1, UNKNOWN, dtype=np.int64)
        self._table[cps] = np.arange(1, len(self.chars) + 1)

    @classmethod
    def from_text(cls, text: str, min_count: int = 5) -> Vocab:
        """Alphabet of the characters seen at least `min_count` times in `text`."""
        counts = Counter(normalise(text))
        return cls(sorted(c for c, n in counts.items() if n >= min_count))

    def __len__(self) -> int:
        return len(self.chars) + 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars

    def encode(self, text: str) -> np.ndarray:
        """Ids (T,) int64 of an already normalised text; characters outside the alphabet -> 0."""
        cps = codepoints(text).astype(np.int64)
        ids = np.full(len(cps), UNKNOWN, dtype=np.int64)
        known = cps < len(self._table)
        ids[known] = self._table[cps[known]]
        return ids

    def decode(self, ids) -> str:
        """Text of `ids`; the unknown slot becomes U+FFFD."""
        return "".join(self.chars[i - 1] if i != UNKNOWN else UNKNOWN_SYMBOL for i in ids)

    def symbol(self, i: int) -> str:
        """The character of one id (U+FFFD for the unknown slot)."""
        return self.chars[i - 1] if i != UNKNOWN else UNKNOWN_SYMBOL
