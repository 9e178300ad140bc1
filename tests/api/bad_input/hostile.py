"""Hostile values shared by the tables: what a careless or malicious client sends."""

from __future__ import annotations

import base64
import json

LONG = "x" * 10_000
NUL = "Acme\x00Dental"
CONTROL = "Acme\x1b[2J\x07Dental"  # a terminal escape and a bell: poison for logs and CSV exports
INVISIBLE = "\u200b\u200c\u200d\u2060\u200e\u200f"  # zero-width characters and direction marks, nothing else
WHITESPACE = " \t\n\u3000 "
RTL_OVERRIDE = "\u202eliart.exe"
EMOJI = "🚀🦄"
OPERATOR = '{"$gt": ""}'  # a Mongo operator, as the JSON string a naive server would parse
WHERE = "$where"
SCRIPT = "'; db.dropDatabase(); //"
DOTTED = "a.b.$c"
REGEX = ".*"
REDOS = "(a+)+$" + "a" * 40 + "!"
JUNK_ID = base64.b64encode(bytes(range(200, 248))).decode()  # base64 junk, not an id of ours
FORGED_CUSTOMER = "cus_" + "f" * 24  # the shape of a customer id, of nothing
FORGED_PARTNER = "ptn_" + "0" * 24
HOMOGLYPH_EMAIL = "it@\u0435\u0445ample.com"  # Cyrillic ie and ha in the domain
HOMOGLYPH_COUNTRY = "U\u0405"  # Cyrillic dze for the S
FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14"  # "1234" in fullwidth digits
ARABIC_DIGITS = "\u0661\u0662\u0663"  # "123" in Arabic-Indic digits


def cursor(*payload: object) -> str:
    """A cursor forged in the gateway's own encoding (urlsafe base64 of a JSON array)."""
    raw = json.dumps(list(payload)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED_CURSORS: dict[str, str] = {
    "not base64": "!!!not-a-cursor!!!",
    "base64 of text": base64.urlsafe_b64encode(b"hello, world").decode(),
    "JSON object": base64.urlsafe_b64encode(b'{"order": "CREATED_DESC"}').decode(),
    "wrong order name": cursor("NAME_DESC", "x", "y"),
    "operator values": cursor("CREATED_DESC", {"$gt": ""}, {"$gt": ""}),
    "$where value": cursor("CREATED_DESC", {"$where": "sleep(100)"}, "x"),
    "integer beyond 64 bits": cursor("CREATED_DESC", 10**30, "x"),
    "nested arrays": base64.urlsafe_b64encode(b"[" * 50_000).decode(),
    "bad timestamp": cursor("CREATED_DESC", {"t": "yesterday"}, "x"),
}
