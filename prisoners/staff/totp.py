"""Time-based one-time passwords (RFC 6238, on HOTP of RFC 4226), as authenticator apps make.

SHA-1, 30-second steps, 6 digits: the defaults every authenticator app understands. A code is
accepted for the current step and one step either side (clock drift), and never for a step at
or before the last one accepted (no replay).

Secrets are stored sealed (``seal``/``unseal``: Fernet, AES-128 with an HMAC, from the
``cryptography`` package), under a key derived from ``SECRET_KEY``: a copy of the database
alone does not give anyone the codes of the staff. ``SECRET_KEY_FALLBACKS`` still opens
secrets sealed under an earlier key; each is sealed again under the current key at its next
successful sign-in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

STEP_SECONDS = 30
DIGITS = 6
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
DRIFT_STEPS = 1

Digest = Callable[..., Any]


def new_secret() -> str:
    """A random secret, base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")


# --- Sealing ----------------------------------------------------------------------------------

SEAL_PREFIX = "fernet:"


class UnsealError(Exception):
    """A stored secret that no key of the settings opens (a key lost or changed)."""


def _fernet_key(secret_key: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"prisoner-tracker",
        info=b"staff authenticator secrets",
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)


@functools.lru_cache(maxsize=4)
def _sealer(secret_key: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(key)) for key in (secret_key, *fallbacks)])


def _current() -> MultiFernet:
    return _sealer(settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ())))


def seal(secret: str) -> str:
    """``secret`` as stored: encrypted and authenticated under the current key."""
    return SEAL_PREFIX + _current().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret of a stored value (any key of the settings). ``UnsealError`` if none."""
    if not sealed.startswith(SEAL_PREFIX):
        raise UnsealError("not a sealed secret")
    try:
        return _current().decrypt(sealed[len(SEAL_PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise UnsealError("no key of the settings opens this secret") from error


def secret_bytes(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: Digest = hashlib.sha1) -> str:
    """RFC 4226: the code for ``counter``."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def time_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def totp(
    key: bytes, at: float | None = None, *, digits: int = DIGITS, digest: Digest = hashlib.sha1
) -> str:
    """RFC 6238: the code at time ``at`` (Unix seconds; now if not given)."""
    return hotp(key, time_step(at), digits=digits, digest=digest)


def matching_step(secret: str, code: str, *, last_step: int, at: float | None = None) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side), else ``None``.

    Steps at or before ``last_step`` (already used) never match.
    """
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = secret_bytes(secret)
    now = time_step(at)
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if step > last_step and hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read (from a QR code or pasted)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(data: str) -> str:
    """An inline SVG QR code of ``data``, made here: no request leaves the server."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m").save(
        buffer, kind="svg", scale=4, border=4, xmldecl=False, svgns=True, title="QR code"
    )
    return buffer.getvalue().decode()
