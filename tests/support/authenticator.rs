//! A software authenticator for the tests: it makes real WebAuthn
//! registrations and assertions (ES256, attestation "none") in the JSON forms
//! a browser's `credential.toJSON()` gives, and can be told to get any part
//! wrong (challenge, origin, rp id hash, signature, user verification), so
//! that each of the server's checks is seen to refuse. It encodes what an
//! authenticator sends; the server's side is parsed by webauthn-rs alone.

use base64ct::{Base64UrlUnpadded, Encoding};
use ciborium::value::{Integer, Value as Cbor};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const BS: u8 = 0x10;
const AT: u8 = 0x40;

/// One credential on a software authenticator, with what it will send.
pub struct SoftKey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle stored at registration (base64url), returned at sign-in.
    pub user_handle: String,
    pub counter: u32,
    /// What goes into clientDataJSON's `origin`.
    pub origin: String,
    /// Whose SHA-256 starts the authenticator data.
    pub rp_id: String,
    /// Whether the UV flag is set.
    pub verified: bool,
    /// Backup eligible and backed up (the BE and BS flags).
    pub backup: (bool, bool),
    /// Signs with the challenge replaced by this one (base64url).
    pub challenge: Option<String>,
    /// Flips a bit of the signature.
    pub bad_signature: bool,
}

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(text).expect("base64url")
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("random bytes");
    bytes
}

impl SoftKey {
    /// A new credential for `origin` (rp id: its host).
    pub fn new(origin: &str) -> SoftKey {
        let host = origin
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split([':', '/']).next())
            .expect("an origin");
        SoftKey {
            key: SigningKey::from_slice(&random::<32>()).expect("a P-256 key"),
            credential_id: random::<16>().to_vec(),
            user_handle: String::new(),
            counter: 0,
            origin: origin.to_string(),
            rp_id: host.to_string(),
            verified: true,
            backup: (false, false),
            challenge: None,
            bad_signature: false,
        }
    }

    fn flags(&self) -> u8 {
        let mut flags = UP;
        if self.verified {
            flags |= UV;
        }
        if self.backup.0 {
            flags |= BE;
        }
        if self.backup.1 {
            flags |= BS;
        }
        flags
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        let challenge = self
            .challenge
            .clone()
            .unwrap_or_else(|| options["challenge"].as_str().expect("a challenge").into());
        let data = json!({
            "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false,
        });
        data.to_string().into_bytes()
    }

    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let int = |i: i64| Cbor::Integer(Integer::from(i));
        let key = Cbor::Map(vec![
            (int(1), int(2)),
            (int(3), int(-7)),
            (int(-1), int(1)),
            (int(-2), Cbor::Bytes(point.x().expect("x").to_vec())),
            (int(-3), Cbor::Bytes(point.y().expect("y").to_vec())),
        ]);
        let mut out = Vec::new();
        ciborium::into_writer(&key, &mut out).expect("CBOR");
        out
    }

    fn auth_data(&self, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(self.flags() | if attested { AT } else { 0 });
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0u8; 16]);
            let len = u16::try_from(self.credential_id.len()).expect("a short id");
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_key());
        }
        data
    }

    /// Another handle on the same credential (key, id, user handle, counter),
    /// sending honestly.
    pub fn twin(&self) -> SoftKey {
        SoftKey {
            key: self.key.clone(),
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter,
            origin: self.origin.clone(),
            rp_id: self.rp_id.clone(),
            verified: true,
            backup: self.backup,
            challenge: None,
            bad_signature: false,
        }
    }

    /// `credential.toJSON()` of a registration answering `options` (the
    /// `publicKey` of POST /user/passkeys/register).
    pub fn register(&mut self, options: &Value) -> Value {
        self.user_handle = options["user"]["id"].as_str().expect("a user id").into();
        let client_data = self.client_data("webauthn.create", options);
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text("none".into())),
            (Cbor::Text("attStmt".into()), Cbor::Map(vec![])),
            (
                Cbor::Text("authData".into()),
                Cbor::Bytes(self.auth_data(true)),
            ),
        ]);
        let mut object = Vec::new();
        ciborium::into_writer(&attestation, &mut object).expect("CBOR");
        let id = b64(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&object),
                "transports": ["internal"],
            },
        })
    }

    /// `credential.toJSON()` of an assertion answering `options` (the
    /// `publicKey` of POST /user/passkeys/login); the counter goes up first.
    pub fn assert(&mut self, options: &Value) -> Value {
        self.counter += 1;
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.auth_data(false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: Signature = self.key.sign(&signed);
        let mut signature = signature.to_der().as_bytes().to_vec();
        if self.bad_signature {
            let last = signature.len() - 1;
            signature[last] ^= 1;
        }
        let id = b64(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(&signature),
                "userHandle": self.user_handle,
            },
        })
    }
}
