// Verify an authlite access token from another service, with jose.
// Usage: node verify.mjs <jwks-url> <issuer> <access-token>
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, issuer, token] = process.argv.slice(2);
if (!jwksUrl || !issuer || !token) {
  console.error('usage: node verify.mjs <jwks-url> <issuer> <access-token>');
  process.exit(2);
}

// Fetches the public keys once and picks one by the token's `kid`.
// In a real service, create this once and reuse it: it caches the keys.
const jwks = createRemoteJWKSet(new URL(jwksUrl));

try {
  const { payload } = await jwtVerify(token, jwks, {
    algorithms: ['EdDSA'], // authlite signs with Ed25519 only
    issuer,
    requiredClaims: ['sub', 'exp', 'sid'],
  });
  // A refresh token is signed with the same keys: only accept access tokens.
  if (payload.typ !== 'access') {
    throw new Error(`not an access token (typ=${JSON.stringify(payload.typ)})`);
  }
  console.log(JSON.stringify(payload));
} catch (err) {
  console.error(`token refused: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
