"""User text as user text: invisible and control characters out, lines folded into one."""

from __future__ import annotations

import unicodedata

LINE_BREAK = " ⏎ "  # what a newline in a note becomes: visible, and never a line of its own
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
_KEEP_CONTROLS = frozenset("\n\t")
_LINE_BREAKS = frozenset("\r\n\u2028\u2029\x85\x0b\x0c")
_TAG_FLAG = "\U0001f3f4"  # 🏴 starts the tag sequences of subdivision flags (🏴󠁧󠁢󠁳󠁣󠁴󠁿)
_TAGS = range(0xE0020, 0xE0080)
_EMOJI_MODIFIERS = frozenset("\ufe0f\ufe0e") | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def clean(text: str) -> str:
    """Removes what can hide or reorder text: C0/C1 controls (newline and tab kept; CR and the
    Unicode line separators become newlines), bidi overrides/isolates/marks, zero-width and
    other format characters. Kept: spaces of every width, accents, non-Latin scripts, emoji —
    with the zero-width joiner inside an emoji sequence (👩‍⚕️), the non-joiner between letters
    (Persian, Indic) and the tags of a subdivision flag."""
    if text.isprintable() or text.replace("\n", "").replace("\t", "").isprintable():
        return text  # the usual case, decided at C speed: nothing to remove
    text = text.replace("\r\n", "\n")
    out: list[str] = []
    for index, char in enumerate(text):
        if char in _LINE_BREAKS:
            out.append("\n")
        elif char in _KEEP_CONTROLS or char.isprintable() or _kept_format(text, index, out):
            out.append(char)
    return "".join(out)


def _kept_format(text: str, index: int, out: list[str]) -> bool:
    char = text[index]
    category = unicodedata.category(char)
    if category == "Zs":
        return True  # no-break and other visible spaces (isprintable counts only " ")
    if category != "Cf":
        return False  # controls, unassigned, private use never pass (isprintable said no)
    before = out[-1] if out else ""
    after = text[index + 1] if index + 1 < len(text) else ""
    if char == _ZWJ:
        return _is_emoji(before) and _is_emoji(after)
    if char == _ZWNJ:
        return _is_letter(before) and _is_letter(after)
    if ord(char) in _TAGS:
        return before == _TAG_FLAG or (before != "" and ord(before) in _TAGS)
    return False


def _is_emoji(char: str) -> bool:
    return bool(char) and (
        char in _EMOJI_MODIFIERS or (ord(char) > 0x2000 and unicodedata.category(char) == "So")
    )


def _is_letter(char: str) -> bool:
    return bool(char) and not char.isascii() and unicodedata.category(char)[0] in "LM"


def one_line(text: str) -> str:
    """Cleaned, with each line break shown as ⏎: a note can never start a line of its own."""
    cleaned = clean(text)
    if "\n" not in cleaned:
        return cleaned
    lines = [line.strip() for line in cleaned.split("\n")]
    return LINE_BREAK.join(line for line in lines if line)
