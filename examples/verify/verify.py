"""Verify an authlite access token from another service, with PyJWT.

Usage: python3 verify.py <jwks-url | discovery-url> <issuer> <access-token> [<audience>]

Given the discovery document's URL (.../.well-known/openid-configuration), it
finds the JWKS through its jwks_uri.
"""

import json
import sys
import urllib.request

import jwt


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print("usage: python3 verify.py <jwks-url | discovery-url> <issuer> <access-token> [<audience>]",
              file=sys.stderr)
        return 2
    jwks_url, issuer, token = sys.argv[1:4]
    audience = sys.argv[4] if len(sys.argv) == 5 else None
    if jwks_url.endswith("/.well-known/openid-configuration"):
        with urllib.request.urlopen(jwks_url, timeout=10) as answer:
            jwks_url = json.load(answer)["jwks_uri"]

    # Fetches the public keys and picks one by the token's `kid`.
    # In a real service, create this once and reuse it: it caches the keys.
    jwks = jwt.PyJWKClient(jwks_url)

    try:
        key = jwks.get_signing_key_from_jwt(token)
        payload = jwt.decode(
            token,
            key,
            # Ed25519, or P-256 with --algorithm ES256; PyJWT checks the
            # header's alg against the key's own.
            algorithms=["EdDSA", "ES256"],
            issuer=issuer,
            audience=audience,  # the server's --audience, when it has one
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
