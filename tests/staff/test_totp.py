"""The one-time codes follow RFC 4226 and RFC 6238 (their published test vectors)."""

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from prisoners.staff import totp

RFC_KEY = b"12345678901234567890"


def test_hotp_matches_rfc_4226_appendix_d():
    expected = [
        "755224",
        "287082",
        "359152",
        "969429",
        "338314",
        "254676",
        "287922",
        "162583",
        "399871",
        "520489",
    ]
    assert [totp.hotp(RFC_KEY, counter) for counter in range(10)] == expected


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_matches_rfc_6238_appendix_b_sha1(at, code):
    assert totp.totp(RFC_KEY, at, digits=8, digest=hashlib.sha1) == code


def test_secret_round_trips_through_base32():
    secret = totp.new_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(totp.secret_bytes(secret)) == totp.SECRET_BYTES
    assert totp.secret_bytes(totp.grouped(secret).lower()) == totp.secret_bytes(secret)


def test_a_code_is_accepted_one_step_either_side_and_never_twice():
    secret = totp.new_secret()
    key = totp.secret_bytes(secret)
    at = 1_700_000_000
    step = totp.time_step(at)
    assert totp.matching_step(secret, totp.hotp(key, step), last_step=0, at=at) == step
    assert totp.matching_step(secret, totp.hotp(key, step - 1), last_step=0, at=at) == step - 1
    assert totp.matching_step(secret, totp.hotp(key, step + 1), last_step=0, at=at) == step + 1
    assert totp.matching_step(secret, totp.hotp(key, step - 2), last_step=0, at=at) is None
    assert totp.matching_step(secret, totp.hotp(key, step + 2), last_step=0, at=at) is None
    # Replay: a step at or before the last one used never matches again.
    assert totp.matching_step(secret, totp.hotp(key, step), last_step=step, at=at) is None
    # Spaces are ignored; anything but six digits is refused.
    code = totp.hotp(key, step)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", last_step=0, at=at) == step
    assert totp.matching_step(secret, "12345", last_step=0, at=at) is None
    assert totp.matching_step(secret, "abcdef", last_step=0, at=at) is None


def test_provisioning_uri_and_qr_code_are_made_here():
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account="ada@example", issuer="Prisoner tracker")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/Prisoner%20tracker:ada@example"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
    svg = totp.qr_svg(uri)
    assert svg.startswith("<svg")
    # No reference to anything outside the page (only the SVG namespace name).
    assert re.findall(r"https?://[^\"' ]+", svg) == ["http://www.w3.org/2000/svg"]
