"""Metadata a reader would accept: titles as the page shows them, authors who are people, dates
in ISO 8601 (or none).

Pages state their metadata carelessly: titles carry the site's name and section (``| Sport``,
``- Golem.de``), entities encoded twice (``&amp;#8211;``) or UTF-8 read as Latin-1
(``sanciÃ³n``); author fields hold e-mail addresses, user ids, the publisher, "By" prefixes and
several people in one string; dates come in every format. These functions fold all that into
what the page means. Pure functions of strings.
"""

from __future__ import annotations

import html
import re
import warnings
from datetime import datetime

from archiver.extract.normalize import normalize_text
from archiver.extract.profiles.text import dedupe

_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{2,7}|#[xX][0-9a-fA-F]{2,6});")
_MOJIBAKE = re.compile(
    "[ÃÂÅÐÑâ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2013-\u203a\u20ac\u2122]"
)
# the second byte on of a UTF-8 sequence, as windows-1252 shows it
_CONT = (
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013-\u203a\u20ac\u2122]"
)
_MOJIBAKE_RUN = re.compile(
    f"(?:[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}})+"
)
_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|::|•|·|»|/|:)\s+")
_WORD = re.compile(r"\w+")
_NON_WORD = re.compile(r"\W+")


def fix_text(text: str | None) -> str:
    """Entities left in decoded text decoded (once more: they were encoded twice), UTF-8 read
    as a single-byte charset repaired; anything else as it is."""
    if not text:
        return ""
    for _ in range(2):  # "&amp;#8211;" is two encodings deep
        if "&" in text and _ENTITY.search(text):
            text = html.unescape(text)
    if _MOJIBAKE.search(text):
        text = _MOJIBAKE_RUN.sub(_repair, text)
    return " ".join(text.split())


def _repair(match: re.Match[str]) -> str:
    """One run of UTF-8 bytes shown as windows-1252 / Latin-1 characters, read as UTF-8."""
    run = match.group(0)
    for codec in ("cp1252", "latin-1"):
        try:
            return run.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return run


def _fold(text: str) -> str:
    return _NON_WORD.sub("", normalize_text(text).casefold())


def _words(text: str) -> set[str]:
    return set(_WORD.findall(normalize_text(text).casefold()))


def site_labels(host: str | None, *names: str | None) -> set[str]:
    """Folded forms of the site's own names: its host's main label, og:site_name, publisher."""
    out = {_fold(n) for n in names if n and len(_fold(n)) >= 3}
    labels = (host or "").lower().removeprefix("www.").split(".")
    for label in labels[:-1]:
        if len(label) >= 3 and label not in ("com", "org", "net", "gov", "edu", "www"):
            out.add(_fold(label))
    return out


def _is_site(segment: str, sites: set[str]) -> bool:
    folded = _fold(segment)
    if not folded:
        return True
    return any(
        folded == s or (len(s) >= 4 and s in folded) or (len(folded) >= 5 and folded in s)
        for s in sites
    )


def clean_title(title: str | None, headings: list[str], sites: set[str]) -> str | None:
    """The article's title as the page shows it.

    A heading of the page (``h1``) that the stated title begins with, or shares most words with,
    is the title; otherwise the stated title without the trailing segments that name the site or
    a section (``Headline | News | The Moscow Times``).
    """
    stated = fix_text(title)
    heads = [h for h in (fix_text(x) for x in headings) if h and len(h) <= 300]
    if stated:
        words = _words(stated)
        best, overlap = None, 0.0
        for head in heads:
            hw = _words(head)
            if not hw or not words:
                continue
            if _fold(stated).startswith(_fold(head)) and len(hw) >= 2:
                return head
            share = len(hw & words) / len(hw | words)
            if share > overlap:
                best, overlap = head, share
        if best is not None and overlap >= 0.6:
            return best
        return _strip_suffix(stated, sites) or None
    return heads[0] if len(heads) == 1 else None


def _strip_suffix(title: str, sites: set[str]) -> str:
    parts = _SEPARATORS.split(title)
    if len(parts) == 1:
        return title
    seps = _SEPARATORS.findall(title)
    # drop trailing segments that name the site, or short ones after a "|" (a section's name)
    while len(parts) > 1:
        last, sep = parts[-1], seps[-1].strip()
        if _is_site(last, sites) or (sep in ("|", "::", "•", "·", "»") and len(last.split()) <= 3):
            parts.pop()
            seps.pop()
            continue
        break
    head = parts[0]
    for sep, part in zip(seps, parts[1:], strict=True):
        head += sep + part
    return head.strip()


_AUTHOR_PREFIX = re.compile(
    r"^(?:(?:read\s+)?more\s+(?:about|from)\s+|all\s+(?:posts|articles|stories)\s+by\s+|"
    r"(?:(?:written|posted|published|reviewed|edited|story|text|words|article|recipe|post)\s+)?"
    r"(?:by|von|par|por|di|door|autor(?:in)?|author|verfasser|av)\b\s*:?\s*)",
    re.IGNORECASE,
)
_NOT_PEOPLE = {
    "written by",
    "the author",
    "author",
    "author name",
    "name",
    "undefined",
    "null",
    "none",
    "admin",
    "administrator",
    "webmaster",
    "staff",
    "editor",
    "editorial",
    "guest",
    "anonymous",
    "unknown",
    "redaktion",
}
_SPLIT = re.compile(
    r"\s*(?:;|,|\s&\s|\s+and\s+|\s+und\s+|\s+et\s+|\s+y\s+|\s+e\s+|\s+и\s+|\||\s[•·⋅–—-]\s)\s*"
)
_CREDENTIAL = re.compile(r"^(?:[A-Z]{2,6}(?:-[A-Z]+)?(?:\s+\d+)?|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?)$")
_INITIALS = re.compile(r"\s*\((?:[a-zäöü]{2,5}|[A-Z]{2,5}|[a-z]{1,3}/[a-z]{1,3})\)\s*")
_WRITTEN_BY = re.compile(r"^.{0,40}?\b(?:written|posted|authored|reported)\s+by\s+", re.I)
_TRAILER = re.compile(
    r"\s*[|·•-]?\s*\b(?:last\s+)?(?:updated|published|posted)(?:\s+on)?\b.*$", re.IGNORECASE
)
_LEADING_AND = re.compile(r"^(?:(?i:and|und)|et|y|e|&)\s+")  # "y"/"e" only in lower case
_SURNAME = re.compile(r"^[A-Z][\w'’-]+$")
_GIVEN = re.compile(r"^[A-Z][\w'’-]+(?:\s+[A-Z]\.?)*$")
_GIVEN_INITIAL = re.compile(r"^[A-Z][\w'’-]+(?:\s+[A-Z]\.?)+$")
# a word that says what someone does, not who they are: the end of a name where it follows one
_JOB = re.compile(
    r"\b(?:expert|director|head|editor|writer|manager|officer|founder|co-founder|ceo|cto|"
    r"president|correspondent|reporter|columnist|contributor|specialist|consultant|analyst|"
    r"dietitian|nutritionist|coach|professor|lead|senior|chief|vp|owner|contributing|former|"
    r"reviewer|winemaker|attorney|lawyer|journalist|photographer|producer|strategist|"
    r"engineer|developer|designer|author)\b",
    re.IGNORECASE,
)
_MONTH = re.compile(
    r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec|january|february|march|april|"
    r"june|july|august|september|october|november|december)\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?$",
    re.IGNORECASE,
)
_ORG = re.compile(
    r"\b(?:team|staff|editors?|editorial|redaktion|newsroom|media|group|inc|llc|ltd|gmbh|corp|"
    r"company|bank|security|marketing|news|online|official|agency|press|magazine|studio|"
    r"solutions|services|foundation|institute|university|clinic|dental|care|data|software|"
    r"systems|labs|technologies|consulting|strategies|financial|dentistry|pc|llp|plc|hotels|"
    r"admin|desk|coalition|association|society|council|committee|alliance|federation|department|"
    r"ministry|center|centre)\b\.?",
    re.IGNORECASE,
)
# a person's name as written, in title case: a personal site's owner ("Rick Steves")
_PERSON = re.compile(r"^(?:[A-Z](?:[a-zà-ÿ][\w'’-]*|\.)\s+){1,3}[A-Z][a-zà-ÿ][\w'’-]*$")
# a word in lower case inside a name of several, other than a particle ("van der", "de la")
# or a joining word of a body's name ("Center for Drug Evaluation", "Ask the Doctors")
_LOWER_WORD = re.compile(
    r"(?<=\S)\s+(?!(?:van|von|der|den|de|da|das|dos|del|della|di|du|la|le|bin|al|y|e|ter|zu|"
    r"for|of|the|and|by|at|on|in|to)\b)[a-zß-ÿ]"
)
_BAD = re.compile(r"@|https?://|www\.|\.(?:com|org|net|de|ru|co\.uk|io)\b|©|\d{3,}", re.IGNORECASE)
# A credit that names a collective as the author: a team, staff, desk or newsroom, a news agency
_COLLECTIVE = re.compile(
    r"\b(?:team|staff|editors|editorial|desk|newsroom|redaktion|bureau|center|centre|office|"
    r"department|ministry|council|committee|commission|coalition|association|society)\b",
    re.IGNORECASE,
)
_AGENCY = re.compile(
    r"^(?:reuters|associated press|the associated press|ap|afp|agence france-presse|dpa|upi|"
    r"efe|ansa|apa|sda|ats|epd|kna|interfax|tass|ria novosti|xinhua|kyodo|yonhap|pa media|"
    r"press association|bloomberg|bloomberg news|anp|belga|ctk|pap|ap news)$",
    re.IGNORECASE,
)


def _pieces(raw: list[str]) -> list[str]:
    """The strings of a byline split into one candidate name each, prefixes and trailers gone.

    Several strings may be one byline that an earlier reader split ("Kaufman", "Jeff T"; "Paul
    Frew", "Home", "Digital Security Expert"): a surname and a given name with an initial are
    put together, and a one-word piece just before a job title is part of that title.
    """
    if len(raw) == 2 and _SURNAME.match(raw[0].strip()) and _GIVEN_INITIAL.match(raw[1].strip()):
        raw = [f"{raw[0].strip()}, {raw[1].strip()}"]
    out: list[str] = []
    for value in raw:
        text = _INITIALS.sub(" ", fix_text(value)).strip()
        text = _WRITTEN_BY.sub("", text)  # "This post was written by A" -> "A"
        text = _TRAILER.sub("", text)  # "A Last Updated August 1" -> "A"
        parts = [p.strip() for p in text.split(",")]
        if len(parts) == 2 and _SURNAME.match(parts[0]) and _GIVEN.match(parts[1]):
            text = f"{parts[1]} {parts[0]}"  # "Kaufman, Jeff T." -> "Jeff T. Kaufman"
        elif len(parts) > 1:  # "Paul Frew, Home and Digital Security Expert": a job title
            text = ", ".join(p for i, p in enumerate(parts) if i == 0 or not _JOB.search(p))
        for piece in _SPLIT.split(text):
            piece = _LEADING_AND.sub("", piece.strip(" -–—:·|"))  # ", and C"
            out.append(_AUTHOR_PREFIX.sub("", piece).strip(" -–—:,.•·⋅"))
    keep = []
    for i, piece in enumerate(out):
        follows = out[i + 1] if i + 1 < len(out) else ""
        if i > 0 and " " not in piece and follows and _JOB.search(follows.split()[-1]):
            continue  # "Home" of "Home and Digital Security Expert"
        if i > 0 and " " not in piece and _ORG.search(out[i - 1]):
            continue  # "Research" of "Center for Drug Evaluation and Research"
        if i > 0 and " " in piece and _JOB.fullmatch(piece.split()[-1]):
            continue  # "Certified Pediatric Sleep Consultant": a job title after a name
        keep.append(_without_role(piece))
    return keep


def _without_role(name: str) -> str:
    """A name without the job title or date run on after it ("Matt Check Head Winemaker",
    "Jordana Cepelewicz December"); avatar initials before it ("CM Craig McCarthy") dropped."""
    words = name.split()
    if len(words) >= 3 and words[0].isupper() and len(words[0]) <= 3:
        if words[0] == "".join(w[0] for w in words[1 : 1 + len(words[0])]).upper():
            words = words[1:]
    for i in range(2, len(words)):
        rest = " ".join(words[i:])
        if _JOB.match(words[i]) or _MONTH.match(rest) or words[i] in ("RN", "BSN", "DVM"):
            return " ".join(words[:i])
    return " ".join(words)


def _person(name: str, sites: set[str], first: bool = True) -> bool:
    if not name or name.lower() in _NOT_PEOPLE or _BAD.search(name):
        return False
    if _CREDENTIAL.match(name) or _MONTH.match(name):
        return False  # "MD", "RD", "FAND": credentials after a name; "December"
    if " " not in name and (name.islower() or any(c in name for c in "._-")):
        return False  # a user id ("andrew.keaveney", "kffnirmitap")
    if name.lower().startswith("the ") or _ORG.search(name) or _JOB.match(name):
        return False  # a team, a company; "Lead Reviewer", a job title
    if any(c.isdigit() for c in name) or _LOWER_WORD.search(name):
        return False  # "On December 9", "Personal finance": not how a name is written
    if _is_site(name, sites) and not (first and _PERSON.match(name)):
        return False  # the site's own name; a personal site's owner, named first, is a person
    return len(name) <= 60 and len(name.split()) <= 5


def clean_authors(raw: list[str], sites: set[str]) -> list[str]:
    """People's names, one each: prefixes, e-mails, ids, the site's own name dropped; several
    people in one string ("A and B", "A und B", "A, B") split."""
    return dedupe(n for i, n in enumerate(_pieces(raw)) if _person(n, sites, first=i == 0))


def collective_authors(raw: list[str]) -> list[str]:
    """The collectives a byline credits as the author — a team, staff, desk or newsroom
    ("The Investopedia Team", "Resy Staff"), a news agency ("Reuters") — for a page that names
    no person. Never an address, a number or a bare brand."""
    out: list[str] = []
    for value in raw:
        text = _TRAILER.sub("", _INITIALS.sub(" ", fix_text(value)).strip())
        whole = _AUTHOR_PREFIX.sub("", text)  # "Center for Drug Evaluation and Research"
        pieces = [whole] if _COLLECTIVE.search(whole) and "," not in whole else _SPLIT.split(text)
        for piece in pieces:
            name = _AUTHOR_PREFIX.sub("", _LEADING_AND.sub("", piece.strip(" -–—:·|")))
            name = name.strip(" -–—:,.•·⋅")
            if not name or _BAD.search(name) or len(name) > 60 or len(name.split()) > 6:
                continue
            if (_COLLECTIVE.search(name) or _AGENCY.match(name)) and name not in out:
                out.append(name)
    return out


def choose_authors(sources: list[list[str]], sites: set[str]) -> list[str]:
    """The authors from the first source, in order of trust, that names people; if none does,
    the collective the first credits (a staff or team byline, a news agency); else none."""
    for raw in sources:
        found = clean_authors(raw, sites) or collective_authors(raw)
        if found:
            return found
    return []


_DAYFIRST_HINT = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{2,4})")
_ISO_FULL = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def iso_date(value: str | None) -> str | None:
    """The date in ISO 8601 (``YYYY-MM-DD``, with the time and offset when given), or None.

    ISO input is returned as written; other forms ("Jan 17, 2025", "Fri Apr 28 19:20:36 CEST
    2023", "13/11/2025 09:21") are parsed; what is not a date is None.
    """
    text = (value or "").strip().strip("\"'")
    if not text:
        return None
    if _ISO_FULL.match(text):
        try:
            day = datetime.strptime(text[:10], "%Y-%m-%d")
        except ValueError:
            return None  # "0000-00-00": a placeholder, not a date
        if not 1900 <= day.year <= 2100:
            return None
        if len(text) > 10 and "T" not in text:
            text = text.replace(" ", "T", 1).replace(" ", "")
        return _OFFSET.sub(r"\1:\2", text)
    from dateutil import parser as date_parser  # htmldate's (trafilatura's) own dependency

    hint = _DAYFIRST_HINT.match(text)
    dayfirst = bool(hint and int(hint.group(1)) > 12) or bool(hint and "." in text[:6])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an unknown zone name: the date stays right
            parsed = date_parser.parse(
                text, dayfirst=dayfirst, fuzzy=False, default=_NO_DAY, tzinfos=_ZONES
            )
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if parsed.year < 1990 or parsed.year > 2100:
        return None
    if not re.search(r"\d{1,2}:\d{2}", text):
        return parsed.date().isoformat()
    return parsed.isoformat()


_NO_DAY = datetime(2000, 1, 1)
_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")
_H = 3600
_ZONES = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "BST": _H,
    "CET": _H,
    "CEST": 2 * _H,
    "MEZ": _H,
    "MESZ": 2 * _H,
    "EET": 2 * _H,
    "EEST": 3 * _H,
    "MSK": 3 * _H,
    "EST": -5 * _H,
    "EDT": -4 * _H,
    "CST": -6 * _H,
    "CDT": -5 * _H,
    "MST": -7 * _H,
    "MDT": -6 * _H,
    "PST": -8 * _H,
    "PDT": -7 * _H,
    "IST": 19800,
    "JST": 9 * _H,
    "AEST": 10 * _H,
    "AEDT": 11 * _H,
}
