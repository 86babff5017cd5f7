"""Text statistics: word and sentence counts and the most common words."""

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")


def stats(text, top=5):
    """Returns {"words": n, "sentences": n, "top": [[word, count], ...]}."""
    words = [w.lower() for w in _WORD.findall(text)]
    sentences = len(_SENTENCE_END.findall(text.strip() + " "))
    if words and sentences == 0:
        sentences = 1
    common = Counter(words).most_common(top)
    return {"words": len(words), "sentences": sentences, "top": [[w, c] for w, c in common]}
