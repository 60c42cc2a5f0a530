//! Reading and forging JWTs without the server's help.

use serde_json::Value;

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub fn b64url_encode(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn segment(token: &str, i: usize) -> Value {
    let part = token
        .split('.')
        .nth(i)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = b64url_decode(part).unwrap_or_else(|| panic!("not base64url: {part}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("segment {i} not JSON: {e}"))
}

/// The payload of a JWT, decoded without any verification.
pub fn claims(token: &str) -> Value {
    segment(token, 1)
}

pub fn jwt_header(token: &str) -> Value {
    segment(token, 0)
}

/// Re-signs the given header and claims with a fresh Ed25519 key that this
/// server has never seen.
pub fn sign_with_foreign_key(header: &Value, claims: &Value) -> String {
    // PKCS#8 v1 wrapping of a 32-byte Ed25519 seed.
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[7u8; 32]);
    let key = jsonwebtoken::EncodingKey::from_ed_der(&der);
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    h.kid = header["kid"].as_str().map(str::to_string);
    jsonwebtoken::encode(&h, claims, &key).expect("sign with the foreign key")
}

/// Builds header.payload.signature from raw JSON parts and a raw signature.
pub fn forge(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(claims.to_string().as_bytes()),
        b64url_encode(signature)
    )
}

/// Signs `claims` under a header naming `kid` and `alg` with a key this server
/// never made: a fresh P-256 key for ES256, an Ed25519 one for EdDSA (or its
/// alias Ed25519), and for HS256 the public key `secret` taken as an HMAC secret
/// (the classic confusion attack).
pub fn sign_as(alg: &str, kid: &str, claims: &Value, secret: &[u8]) -> String {
    use jwt_simple::prelude::*;
    let custom: JWTClaims<Value> = JWTClaims {
        issued_at: None,
        expires_at: None,
        invalid_before: None,
        issuer: None,
        subject: None,
        audiences: None,
        jwt_id: None,
        nonce: None,
        custom: claims.clone(),
    };
    let token = match alg {
        "ES256" => ES256KeyPair::generate().with_key_id(kid).sign(custom),
        "HS256" => HS256Key::from_bytes(secret)
            .with_key_id(kid)
            .authenticate(custom),
        _ => Ed25519KeyPair::generate().with_key_id(kid).sign(custom),
    }
    .expect("sign the forged token");
    if alg == "EdDSA" || alg == "ES256" || alg == "HS256" {
        return token;
    }
    // Another header over the same payload and signature.
    let (_, rest) = token.split_once('.').expect("a JWT");
    let header = serde_json::json!({ "alg": alg, "kid": kid, "typ": "JWT" });
    format!("{}.{rest}", b64url_encode(header.to_string().as_bytes()))
}
