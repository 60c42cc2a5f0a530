//! A passkey ceremony begun on one instance finishes on another (SPEC §11:
//! ceremonies live in the database), and of the same assertion sent to two
//! instances at once, one signs in. Credentials come from the software
//! authenticator of tests/support/authenticator.rs.

use serde_json::{json, Value};

use crate::harness::*;
use crate::support::authenticator::SoftKey;

const ORIGIN: &str = "http://localhost:8080";

fn begin(instance: &Instance, path: &str, access: Option<&str>) -> (Value, Value) {
    let begun = instance.send("POST", path, access, None, &[]);
    begun.assert_ok();
    (
        begun.body["ceremonyId"].clone(),
        begun.body["publicKey"].clone(),
    )
}

fn finish(instance: &Instance, path: &str, access: Option<&str>, body: &Value) -> Resp {
    instance.send("POST", path, access, Some(body), &[])
}

#[test]
fn a_ceremony_begun_on_one_instance_finishes_on_another_once() {
    let Some(db) = Database::seeded() else { return };
    let instances = serve_many(&db.url, 2, &["--public-url", ORIGIN]);
    let access = instances[0].login_ok(ADA, ADA_PASSWORD).access;

    // Registered: begun on the first, finished on the second.
    let mut key = SoftKey::new(ORIGIN);
    let (ceremony, options) = begin(&instances[0], "/user/passkeys/register", Some(&access));
    let body = json!({"ceremonyId": ceremony, "credential": key.register(&options)});
    let added = finish(
        &instances[1],
        "/user/passkeys/register/finish",
        Some(&access),
        &body,
    );
    assert_eq!(added.status, 201, "{added:?}");
    // And spent there for both.
    finish(
        &instances[0],
        "/user/passkeys/register/finish",
        Some(&access),
        &body,
    )
    .assert_error(400, "INVALID_CREDENTIAL");

    // Signed in: begun on the second, finished on the first.
    let (ceremony, options) = begin(&instances[1], "/user/passkeys/login", None);
    let body = json!({"ceremonyId": ceremony, "credential": key.assert(&options)});
    let signed = finish(&instances[0], "/user/passkeys/login/finish", None, &body);
    assert_eq!(signed.status, 200, "{signed:?}");
    assert_eq!(signed.body["user"]["email"], ADA);
    finish(&instances[1], "/user/passkeys/login/finish", None, &body)
        .assert_error(401, "INVALID_CREDENTIAL");

    // One assertion sent to both instances at the same moment: one wins.
    let (ceremony, options) = begin(&instances[0], "/user/passkeys/login", None);
    let body = json!({"ceremonyId": ceremony, "credential": key.assert(&options)});
    let answers = all_at_once(instances.iter().collect(), |instance, _| {
        finish(instance, "/user/passkeys/login/finish", None, &body)
    });
    let won = answers.iter().filter(|r| r.status == 200).count();
    assert_eq!(won, 1, "{answers:?}");
    let lost = answers.iter().find(|r| r.status != 200).expect("a loser");
    lost.assert_error(401, "INVALID_CREDENTIAL");
}
