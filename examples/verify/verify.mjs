// Verify an authlite access token from another service, with jose.
// Usage: node verify.mjs <jwks-url> <issuer> <access-token> [<audience>]
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [jwksUrl, issuer, token, audience] = process.argv.slice(2);
if (!jwksUrl || !issuer || !token) {
  console.error('usage: node verify.mjs <jwks-url> <issuer> <access-token> [<audience>]');
  process.exit(2);
}

// Fetches the public keys once and picks one by the token's `kid`.
// In a real service, create this once and reuse it: it caches the keys.
const jwks = createRemoteJWKSet(new URL(jwksUrl));

try {
  const { payload } = await jwtVerify(token, jwks, {
    // authlite's keys: Ed25519, or P-256 with --algorithm ES256. jose uses each
    // key only for the algorithm its JWK names, whatever the token's header says.
    algorithms: ['EdDSA', 'ES256'],
    issuer,
    audience, // the server's --audience; when given, `aud` must name it
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
