// A small API protected by express-oauth2-jwt-bearer, which finds authlite's
// keys through its discovery document. Start authlite with --issuer set to its
// public URL and an --audience, then:
// Usage: node express-api.mjs <authlite-public-url> <audience>
// It prints {"port": N} once listening on 127.0.0.1.
import express from 'express';
import { auth } from 'express-oauth2-jwt-bearer';

const [issuerBaseURL, audience] = process.argv.slice(2);
if (!issuerBaseURL || !audience) {
  console.error('usage: node express-api.mjs <authlite-public-url> <audience>');
  process.exit(2);
}

const app = express();
// Reads issuer, jwks_uri and id_token_signing_alg_values_supported from
// <issuerBaseURL>/.well-known/openid-configuration; requires `aud` to be the
// audience.
app.use(auth({ issuerBaseURL, audience }));
// A refresh token is signed with the same keys: only accept access tokens.
// (The library's own `typ` validator reads the header's typ, not this claim.)
app.use((req, res, next) => {
  if (req.auth.payload.typ !== 'access') {
    return res.status(401).json({ error: 'invalid_token', message: 'not an access token' });
  }
  next();
});

app.get('/api/whoami', (req, res) => {
  const { sub, email, orgId } = req.auth.payload;
  res.json({ sub, email, orgId });
});

// Errors from auth() carry their status (401 for a missing or bad token).
app.use((err, req, res, next) => {
  res.status(err.status ?? 500).json({ error: err.code ?? 'error', message: err.message });
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
