"""Verify an authlite access token from another service, with PyJWT.

Usage: python3 verify.py <jwks-url> <issuer> <access-token>
"""

import json
import sys

import jwt


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: python3 verify.py <jwks-url> <issuer> <access-token>",
              file=sys.stderr)
        return 2
    jwks_url, issuer, token = sys.argv[1:]

    # Fetches the public keys and picks one by the token's `kid`.
    # In a real service, create this once and reuse it: it caches the keys.
    jwks = jwt.PyJWKClient(jwks_url)

    try:
        key = jwks.get_signing_key_from_jwt(token)
        payload = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],  # authlite signs with Ed25519 only
            issuer=issuer,
            options={"require": ["iss", "sub", "exp", "sid"]},
        )
        # A refresh token is signed with the same keys: only accept access tokens.
        if payload.get("typ") != "access":
            raise jwt.InvalidTokenError(f"not an access token (typ={payload.get('typ')!r})")
    except jwt.PyJWTError as err:
        print(f"token refused: {type(err).__name__}: {err}", file=sys.stderr)
        return 1

    print(json.dumps(payload, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
