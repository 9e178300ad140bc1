"""Restricted-party-list screening (R-RPL-4): the list as data, name normalisation and fuzzy matching.

Pure: no database and no files. The CSV is handed in as text; persistence uses `RplEntry.to_doc`/`from_doc`.

Matching compares *normalised* names (see `normalise`): case folded, accents removed, punctuation removed, legal-form
suffixes dropped from the end, tokens sorted. Two normalised names are compared with rapidfuzz's `fuzz.ratio` (on the
sorted tokens this is `fuzz.token_sort_ratio`), and a score at or above the threshold (default 88 of 100) is a
potential match.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rapidfuzz import fuzz, process

DEFAULT_THRESHOLD = 88.0
MAX_MATCHES = 10
ALIAS_SEPARATOR = ";"

# Legal-form designations, as tokens after punctuation removal. Multi-token forms ("sp zoo") are tuples.
# They are only removed from the end of a name, repeatedly ("Foo Holdings Co. Ltd" -> "foo holdings").
_LEGAL_FORMS: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split())
    for form in (
        "ltd", "limited", "llc", "inc", "incorporated", "corp", "corporation", "co", "company", "gmbh", "ag",
        "sa", "sarl", "srl", "spa", "bv", "nv", "plc", "oy", "ab", "as", "kk", "pte", "pty", "jsc", "ooo", "oao",
        "pjsc", "llp", "lp", "spzoo", "sp zoo", "sp z oo",
    )
)
_LONGEST_FORM = max(len(form) for form in _LEGAL_FORMS)

# Letters that NFKD does not decompose into a base letter plus a combining mark (\u0131 is the dotless i).
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"})
# Apostrophes join the letters around them ("O'Neil" -> "oneil"); all other punctuation separates words.
_JOINING = re.compile("['`\u2019\u00b4]")  # apostrophe, backtick, right single quote, acute accent
_SEPARATING = re.compile(r"[^\w]|_")
_COUNTRY = re.compile(r"[A-Za-z]{2}")


class RplFormatError(ValueError):
    """A restricted-party CSV that cannot be loaded; the message names the problem and the 1-based line."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line


def _tokens(name: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_FOLD)
    text = text.replace("&", " and ")
    text = _JOINING.sub("", text)
    return _join_initials(_SEPARATING.sub(" ", text).split())


def _join_initials(tokens: list[str]) -> list[str]:
    """Glue runs of single characters back together, so "S.A." and "SA", or "L.L.C." and "LLC", agree."""
    joined: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1:
            run.append(token)
            continue
        if len(run) > 1:
            joined.append("".join(run))
        else:
            joined.extend(run)
        run = []
        if token:
            joined.append(token)
    return joined


def _strip_legal_forms(tokens: list[str]) -> list[str]:
    # The first token is never removed, so a name made only of legal words ("Company Ltd") keeps its first word.
    end = len(tokens)
    while end > 1:
        for size in range(min(_LONGEST_FORM, end - 1), 0, -1):
            if tuple(tokens[end - size:end]) in _LEGAL_FORMS:
                end -= size
                break
        else:
            break
    return tokens[:end]


def normalise(name: str) -> str:
    """The comparable form of a name: folded, unaccented, unpunctuated, without legal suffixes, tokens sorted.

    >>> normalise("Acme Trading Co., Ltd.")
    'acme trading'
    """
    return " ".join(sorted(_strip_legal_forms(_tokens(name))))


def _clean_country(country: str | None) -> str | None:
    code = (country or "").strip().upper()
    return code or None


def _entry_id(source: str, name: str, country: str | None) -> str:
    digest = hashlib.sha1(f"{source}|{name}|{country or ''}".encode()).hexdigest()
    return f"rpl_{digest[:24]}"


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class RplEntry:
    """One restricted party: a name with its aliases, the list (source) it is on, and optionally a country."""

    id: str
    source: str
    name: str
    alt_names: tuple[str, ...] = ()
    country: str | None = None

    @classmethod
    def create(
        cls, source: str, name: str, alt_names: Sequence[str] = (), country: str | None = None
    ) -> RplEntry:
        """Clean the fields and derive the stable id. Raises ValueError for a blank source/name or a bad country."""
        source, name = source.strip(), name.strip()
        if not source:
            raise ValueError("source is blank")
        if not name:
            raise ValueError("name is blank")
        code = _clean_country(country)
        if code is not None and not _COUNTRY.fullmatch(code):
            raise ValueError(f"country {country!r} is not an ISO-3166 alpha-2 code")
        aliases = _unique(a.strip() for a in alt_names if a.strip() != name)
        return cls(_entry_id(source, name, code), source, name, aliases, code)

    def normalised_names(self) -> tuple[str, ...]:
        """The normalised primary name and aliases, without duplicates or empties."""
        return _unique(normalise(n) for n in (self.name, *self.alt_names))

    def to_doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "source": self.source,
            "name": self.name,
            "altNames": list(self.alt_names),
            "country": self.country,
            "normalised": list(self.normalised_names()),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> RplEntry:
        return cls(
            id=str(doc["_id"]),
            source=str(doc["source"]),
            name=str(doc["name"]),
            alt_names=tuple(str(a) for a in doc.get("altNames") or ()),
            country=_clean_country(doc.get("country")),
        )


@dataclass(frozen=True)
class RplMatch:
    """A potential match of a screened name against one entry (the best of its name and aliases)."""

    entry_id: str
    list_name: str
    entry_name: str
    country: str | None
    score: float


def _columns(header: Sequence[str], line: int) -> dict[str, int]:
    wanted = ("source", "name", "alt_names", "country")
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = raw.strip().casefold()
        if column in wanted:
            if column in found:
                raise RplFormatError(f"column {column!r} appears more than once in the header", line)
            found[column] = index
    missing = [c for c in ("source", "name") if c not in found]
    if missing:
        raise RplFormatError(f"header lacks required column(s) {', '.join(missing)}", line)
    return found


def _cell(row: Sequence[str], columns: Mapping[str, int], column: str) -> str:
    index = columns.get(column)
    return row[index] if index is not None and index < len(row) else ""


def parse_csv(text: str) -> list[RplEntry]:
    """Load a restricted-party list from CSV text with a header row (R-RPL-4).

    Required columns `source` and `name`; optional `alt_names` (";"-separated) and `country` (alpha-2, blank = any);
    other columns are ignored. Blank lines are skipped. Rows that give the same id (source, name, country) are kept
    once, with their aliases merged.
    """
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    columns: dict[str, int] | None = None
    entries: dict[str, RplEntry] = {}
    line = 1
    try:
        for row in reader:
            start, line = line, reader.line_num + 1  # a quoted field may span lines: report where the row starts
            if not any(cell.strip() for cell in row):
                continue
            if columns is None:
                columns = _columns(row, start)
                continue

            source, name, aliases, country = (
                _cell(row, columns, c) for c in ("source", "name", "alt_names", "country")
            )
            for column, value in (("source", source), ("name", name)):
                if not value.strip():
                    raise RplFormatError(f"{column} is blank", start)
            try:
                entry = RplEntry.create(source, name, aliases.split(ALIAS_SEPARATOR), country)
            except ValueError as exc:
                raise RplFormatError(str(exc), start) from exc
            known = entries.get(entry.id)
            if known is not None:
                entry = replace(known, alt_names=_unique((*known.alt_names, *entry.alt_names)))
            entries[entry.id] = entry
    except csv.Error as exc:
        raise RplFormatError(f"unreadable CSV ({exc})", reader.line_num) from exc
    if columns is None:
        raise RplFormatError("no header row (the text is empty or only blank lines)", 1)
    return list(entries.values())


class Screener:
    """Built once from a list of entries (pre-normalises every name and alias); screens many names."""

    def __init__(self, entries: Iterable[RplEntry], threshold: float = DEFAULT_THRESHOLD) -> None:
        if not 0.0 <= threshold <= 100.0:
            raise ValueError(f"threshold {threshold} is outside 0..100")
        self.threshold = threshold
        unique: dict[str, RplEntry] = {}
        for entry in entries:
            unique.setdefault(entry.id, entry)
        self._entries: list[RplEntry] = list(unique.values())
        # One flat list of choices for rapidfuzz; _owner[i] is the index of the entry choice i belongs to.
        self._choices: list[str] = []
        self._owner: list[int] = []
        for index, entry in enumerate(self._entries):
            for normalised in entry.normalised_names():
                self._choices.append(normalised)
                self._owner.append(index)

    def __len__(self) -> int:
        return len(self._entries)

    def screen(self, name: str, country: str | None) -> list[RplMatch]:
        """Potential matches for a customer name: best score per entry, highest first, at most 10.

        An entry with a country only matches a customer in that country. A customer whose country is unknown
        (None) is screened against every entry, so that a missing country never hides a match.
        """
        query = normalise(name)
        if not query or not self._choices:
            return []
        customer_country = _clean_country(country)
        best: dict[int, float] = {}
        hits = process.extract(
            query, self._choices, scorer=fuzz.ratio, processor=None, score_cutoff=self.threshold, limit=None
        )
        for _choice, score, choice_index in hits:
            owner = self._owner[choice_index]
            entry_country = self._entries[owner].country
            if entry_country is not None and customer_country is not None and entry_country != customer_country:
                continue
            if score > best.get(owner, -1.0):
                best[owner] = score
        scored = [(self._entries[index], score) for index, score in best.items()]
        scored.sort(key=lambda pair: (-pair[1], pair[0].name, pair[0].id))
        return [
            RplMatch(entry.id, entry.source, entry.name, entry.country, round(score, 1))
            for entry, score in scored[:MAX_MATCHES]
        ]
