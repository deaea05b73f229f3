"""The PHI guard: text that looks like it identifies a patient is held, never stored or posted.

Lifeline carries operational facts (bed counts, extensions, lot numbers, room numbers); what
identifies a patient is a record number, an SSN, a date of birth, a patient's phone, or a named
patient in a room or bed. Each finding names its kind and how to send the message without it;
the held text itself is never repeated, stored or logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from bot.domain.errors import UserError
from bot.domain.facility import PhiPolicy

CONFIRM_WORD = "not-phi"
NEAR = 40  # characters: how close a number must be to the word that makes it a patient's

_DIGIT = re.compile(r"\d")
_MRN_WORD = (
    r"(?:MRN|MR\s?#|MR\s?no\.?|med(?:ical)?\s+rec(?:ord)?s?(?:\s+(?:number|no\.?|#))?"
    r"|(?:patient|pt)\.?\s*(?:id|number|no\.?|#)|record\s*(?:number|no\.?|#)|chart\s*(?:number|no\.?|#)"
    r"|encounter\s*(?:number|no\.?|#)|acct\s*(?:no\.?|#)?|account\s*(?:number|no\.?|#)"
    r"|record|patient|pt|chart|FIN|CSN|MR)"
)
_MRN_AFTER = re.compile(
    rf"\b{_MRN_WORD}\s*[:#=]?\s*(?:is\s+|of\s+)?(?:[A-Z]{{0,2}}-?)?\d{{6,10}}\b", re.IGNORECASE
)
_MRN_BEFORE = re.compile(rf"(?<![\d-])\d{{6,10}}\s*\(?\s*{_MRN_WORD}\b", re.IGNORECASE)
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_SSN_WORD = re.compile(
    r"\b(?:SSN|SS#|social(?:\s+security)?(?:\s+(?:number|no\.?|#))?)\s*[:#]?\s*"
    r"\d{3}[ -]?\d{2}[ -]?\d{4}\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}})"
)
_DOB = re.compile(
    rf"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on)?|b\.)\s*[:#]?\s*{_DATE}",
    re.IGNORECASE,
)
_DATE_WITH_YEAR = re.compile(
    rf"(?<![\d/.-])(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:19|20)\d{{2}}|(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d{{2}}|{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d{{2}})",
    re.IGNORECASE,
)
_HONORIFIC = re.compile(
    r"\b(?:(?:Mr|Mrs|Ms|Miss|Mx)\.?|[Bb]aby\s+(?:girl|boy))\s+[A-Z][A-Za-z'’-]+"
)
_IN_ROOM = re.compile(r"^[,\s]+(?:is\s+)?in\s+\d+[A-Z]?\b")  # "Mr. Jones in 12": a room
_NOT_NAMES = (
    r"(?:Transport|Transportation|Access|Portal|Registration|Tracking|Monitor|Monitoring|Flow"
    r"|Placement|Care|Safety|Experience|Services|Logistics|Relations|Financial|Information"
    r"|Lift|Lifts|Meals|Food|Rooms?|Beds?|Census|Count|Belongings|Education|Advocate)\b"
)
_PATIENT_NAME = re.compile(
    rf"\b(?:patient|pt)\.?\s+(?!{_NOT_NAMES})[A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)?"
)
_ROOM_OR_BED = re.compile(r"\b(?:room|rm|bed|bay|cubicle|stretcher|chair)\.?\s*#?\s*\d+[A-Z]?\b",
                          re.IGNORECASE)  # fmt: skip
_PATIENT_WORD = re.compile(
    r"\b(?:patient|patients|pt|pt's|family|daughter|son|wife|husband|mother|father|guardian"
    r"|next\s+of\s+kin|NOK|spouse|caregiver|parent)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    kind: str  # what it looked like, e.g. "a medical record number"
    advice: str  # how to send the message without it


MRN = Finding("a medical record number", "leave the number out (say which unit or bed instead)")
SSN = Finding("a Social Security number", "leave the number out")
DOB = Finding("a date of birth", "leave the date of birth out")
PHONE = Finding("a patient's or relative's phone number", "leave the number out (a department "
                "extension or hotline is fine)")  # fmt: skip
NAMED = Finding("a patient's name with a room or bed", "give the room or bed without the name")


class PhiHeld(UserError):
    """Held by the PHI guard: nothing was recorded or posted; `message` says why (privately)."""


def findings(text: str, policy: PhiPolicy) -> list[Finding]:
    """What in `text` looks like a patient identifier (empty: nothing does)."""
    if not _DIGIT.search(text):
        return []  # every rule needs a number: the usual operational note stops here
    found: list[Finding] = []
    patterns = _facility_patterns(policy.mrn_patterns)
    if _MRN_AFTER.search(text) or _MRN_BEFORE.search(text) or any(p.search(text) for p in patterns):
        found.append(MRN)
    if _SSN.search(text) or _SSN_WORD.search(text):
        found.append(SSN)
    names = [m.span() for m in (*_HONORIFIC.finditer(text), *_PATIENT_NAME.finditer(text))]
    if _DOB.search(text) or any(_near(m.span(), names) for m in _DATE_WITH_YEAR.finditer(text)):
        found.append(DOB)
    rooms = [m.span() for m in _ROOM_OR_BED.finditer(text)]
    rooms += [name for name in names if _IN_ROOM.match(text[name[1] :])]
    if names and any(_near(room, names, 60) for room in rooms):
        found.append(NAMED)
    if _patient_phone(text, names):
        found.append(PHONE)
    return found


def hold_phi(text: str, policy: PhiPolicy, what: str) -> str:
    """`text`, unless it looks like patient data: then PhiHeld, saying what and how to resend.
    Where the facility allows it, a text starting with `not-phi` is sent as the sender confirms
    (without the marker); the caller logs that confirmation, never the text."""
    if policy.allow_confirm and confirmed(text):
        return text.split(None, 1)[1] if len(text.split(None, 1)) > 1 else ""
    found = findings(text, policy)
    if not found:
        return text
    kinds = _join([finding.kind for finding in found])
    advice = "; ".join(dict.fromkeys(finding.advice for finding in found))
    confirm = (
        f" If it is not patient information, send it again starting with {CONFIRM_WORD}."
        if policy.allow_confirm
        else ""
    )
    raise PhiHeld(
        f"Not sent: this {what} looks like it contains {kinds}. Lifeline is not a place for "
        f"patient information, so nothing was recorded or posted. Send it again without it: "
        f"{advice}.{confirm}"
    )


def confirmed(text: str) -> bool:
    return text[: len(CONFIRM_WORD)].lower() == CONFIRM_WORD and (
        len(text) == len(CONFIRM_WORD) or text[len(CONFIRM_WORD)] in " :\t"
    )


def _near(span: tuple[int, int], others: list[tuple[int, int]], distance: int = NEAR) -> bool:
    start, end = span
    return any(start - distance <= o_end and o_start <= end + distance for o_start, o_end in others)


def _patient_phone(text: str, names: list[tuple[int, int]]) -> bool:
    if len(_DIGIT.findall(text)) < 7:
        return False  # extensions (ext 4412) are not phone numbers
    people = names + [m.span() for m in _PATIENT_WORD.finditer(text)]
    if not people:
        return False
    for match in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.VALID):
        if _near((match.start, match.end), people):
            return True
    return False


@lru_cache(maxsize=16)
def _facility_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern) for pattern in patterns)


def _join(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
