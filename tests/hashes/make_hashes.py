"""Hashes one password in every format authlite imports, made by tools other
than authlite: PyPI's bcrypt and argon2-cffi, and Python's own hashlib.

Usage: python3 make_hashes.py PASSWORD  ->  one JSON object {format: hash}.
Exit 3 when a package is missing (the test then skips, or fails in CI).
Costs are kept low: the test is about formats, not strength.
"""

import base64
import hashlib
import json
import os
import string
import sys

try:
    import bcrypt
    from argon2 import PasswordHasher
    from argon2.low_level import Type
except ImportError as e:
    print(f"missing Python package: {e.name}", file=sys.stderr)
    sys.exit(3)


def b64(raw: bytes) -> str:
    """The PHC string format's base64: standard alphabet, no padding."""
    return base64.b64encode(raw).decode().rstrip("=")


def main(password: str) -> dict:
    pw = password.encode()
    hashes = {}

    made = bcrypt.hashpw(pw, bcrypt.gensalt(rounds=4)).decode()
    hashes["bcrypt-2b"] = made
    hashes["bcrypt-2a"] = bcrypt.hashpw(pw, bcrypt.gensalt(rounds=5, prefix=b"2a")).decode()
    # PHP writes $2y$ for the same algorithm; Python's bcrypt reads it but never writes it.
    made_2y = "$2y$" + bcrypt.hashpw(pw, bcrypt.gensalt(rounds=4)).decode()[4:]
    assert bcrypt.checkpw(pw, made_2y.encode())
    hashes["bcrypt-2y"] = made_2y

    for name, kind in [("argon2id", Type.ID), ("argon2i", Type.I)]:
        hasher = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2, type=kind)
        hashes[name] = hasher.hash(password)

    salt = os.urandom(16)
    key = hashlib.scrypt(pw, salt=salt, n=2**10, r=8, p=1, dklen=32)
    hashes["scrypt"] = f"$scrypt$ln=10,r=8,p=1${b64(salt)}${b64(key)}"

    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", pw, salt, 1000, 32)
    hashes["pbkdf2-sha256"] = f"$pbkdf2-sha256$i=1000,l=32${b64(salt)}${b64(key)}"
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", pw, salt, 1100, 64)
    hashes["pbkdf2-sha512"] = f"$pbkdf2-sha512$i=1100,l=64${b64(salt)}${b64(key)}"

    # Django's PBKDF2PasswordHasher: the salt is text, the key standard base64 with padding.
    alphabet = string.ascii_letters + string.digits
    salt = "".join(alphabet[b % len(alphabet)] for b in os.urandom(22))
    key = hashlib.pbkdf2_hmac("sha256", pw, salt.encode(), 1200)
    hashes["django"] = f"pbkdf2_sha256$1200${salt}${base64.b64encode(key).decode()}"
    return hashes


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
