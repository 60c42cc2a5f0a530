// Verify an authlite ES256 access token (`serve --algorithm ES256`) with
// jsonwebtoken and jwks-rsa, which know no EdDSA.
// Usage: node verify-jsonwebtoken.mjs <jwks-url> <issuer> <access-token> [<audience>]
import jwt from 'jsonwebtoken';
import jwksRsa from 'jwks-rsa';

const [jwksUri, issuer, token, audience] = process.argv.slice(2);
if (!jwksUri || !issuer || !token) {
  console.error('usage: node verify-jsonwebtoken.mjs <jwks-url> <issuer> <access-token> [<audience>]');
  process.exit(2);
}

// In a real service, create this once and reuse it: it caches the keys and
// fetches again for a kid it has not seen (after `authlite keys rotate`).
const client = jwksRsa({ jwksUri, cache: true, rateLimit: true });
const getKey = (header, callback) => {
  client.getSigningKey(header.kid, (err, key) => callback(err, key?.getPublicKey()));
};

jwt.verify(token, getKey, { algorithms: ['ES256'], issuer, audience }, (err, payload) => {
  if (!err && payload.typ !== 'access') {
    // A refresh token is signed with the same keys: only accept access tokens.
    err = new Error(`not an access token (typ=${JSON.stringify(payload.typ)})`);
  }
  if (err) {
    console.error(`token refused: ${err.name}: ${err.message}`);
    process.exit(1);
  }
  console.log(JSON.stringify(payload));
});
