"""Text cleaning shared by the loaders, and the normalisation used to match texts across corpora.

Hand-written (short regexes) because no maintained library does exactly these corpus-specific undo-steps;
HTML entities are decoded with the standard library's :func:`html.unescape`.
"""

from __future__ import annotations

import html
import re

_WS = re.compile(r"\s+")
_HANDLE = re.compile(r"(?<![\w@])(?:@+\w+)+:?")  # @user, @@user, @a@b (glued), @user: (in "RT @user:")
_RT = re.compile(r"(?<!\w)(?:RT|rt)(?=\s*@)|(?<!\w)RT(?!\w)")  # "RT", or "rt" before a handle
_URL = re.compile(r"(?<!\w)(?:https?\b|www\.)\S*", re.IGNORECASE)  # also retweets' cut-off "http…"
_LONE_PUNCT = re.compile(r"[.,!?;:]+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def collapse_whitespace(text: str) -> str:
    """All runs of whitespace (incl. newlines, tabs, CR) become one space; outer whitespace stripped."""
    return _WS.sub(" ", text).strip()


def strip_twitter_markup(text: str) -> str:
    """Davidson-style raw tweets: decode HTML entities (``&amp;`` ``&#128514;``), drop ``RT``, ``@handles``
    and URLs.

    Entities are decoded twice because the corpus holds double-escaped ones (``&amp;#8220;``).
    """
    text = html.unescape(html.unescape(text))
    text = _URL.sub(" ", text)
    text = _RT.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    return collapse_whitespace(text)


def clean_implicit_hate(text: str) -> str:
    """The implicit-hate corpus's quoting artefacts undone, exactly as ``prefix_probability/README.md`` did
    it: every ``"`` removed, whitespace collapsed, a lone punctuation token (``.`` ``,`` ``!`` ``?`` ``;``
    ``:`` runs) glued to the word before it. Matching this rule means the phase-2 sentences equal their
    stage-1 posts."""
    words: list[str] = []
    for word in text.replace('"', " ").split():
        if words and _LONE_PUNCT.fullmatch(word):
            words[-1] += word
        else:
            words.append(word)
    return " ".join(words)


def normalise_for_matching(text: str) -> str:
    """A key for "the same sentence" across corpora and cleanings: lower-case, every run of non-alphanumeric
    characters (punctuation, quotes, whitespace) becomes one space. ``"modi ; was"`` and ``"Modi; was"``
    match."""
    return _NON_ALNUM.sub(" ", str(text).lower()).strip()


def n_words(text: str) -> int:
    """Words = whitespace tokens (the definition used by the prefixes and by prefix_probability)."""
    return len(str(text).split())
