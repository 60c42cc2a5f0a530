//! The OpenID Connect provider across instances (SPEC §13): an authorization
//! started on one instance is finished by the page on another and redeemed
//! on a third; a code redeemed on one is refused on the other, and that
//! second use revokes the first's session everywhere.

use serde_json::json;

use crate::harness::*;

const CALLBACK: &str = "https://tool.acme.test/cb";

fn no_redirects() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

/// `client add`'s printed value of `name`.
fn printed(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .to_string()
}

fn authorize(on: &Instance, client_id: &str) -> String {
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={CALLBACK}&scope=openid+email&state=st"
    );
    let resp = no_redirects()
        .get(on.url(&format!("/oauth/authorize?{query}")))
        .call()
        .expect("an answer");
    assert_eq!(resp.status().as_u16(), 303);
    let to = resp.headers().get("location").unwrap().to_str().unwrap();
    to.split_once("#authorize=")
        .expect("to the page")
        .1
        .to_string()
}

fn redeem(on: &Instance, client: (&str, &str), code: &str) -> (u16, serde_json::Value) {
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={CALLBACK}&client_id={}&client_secret={}",
        client.0, client.1
    );
    let mut resp = no_redirects()
        .post(on.url("/oauth/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(form)
        .expect("an answer");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_json().unwrap_or_default())
}

#[test]
fn authorize_continue_and_token_may_each_land_on_another_instance() {
    let Some(db) = Database::seeded() else { return };
    let out = cli_ok(
        &db.url,
        &[
            "client",
            "add",
            "--name",
            "Tool",
            "--redirect-uri",
            CALLBACK,
        ],
    );
    let (id, secret) = (printed(&out, "client_id"), printed(&out, "client_secret"));
    let instances = serve_many(&db.url, 3, &[]);
    let access = instances[1].login_ok(ADA, ADA_PASSWORD).access;

    let request = authorize(&instances[0], &id);
    let body = json!({ "requestId": request });
    let went = instances[1].send("POST", "/oauth/continue", Some(&access), Some(&body), &[]);
    went.assert_ok();
    let to = went.body["redirectUrl"].as_str().unwrap().to_string();
    assert!(to.starts_with(&format!("{CALLBACK}?code=")), "{to}");
    assert!(to.ends_with("&state=st"), "{to}");
    let code = to
        .split_once("code=")
        .unwrap()
        .1
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let again = instances[0].send("POST", "/oauth/continue", Some(&access), Some(&body), &[]);
    assert_eq!(
        (again.status, again.code()),
        (404, Some("AUTHORIZATION_NOT_FOUND")),
        "{again}"
    );

    let (status, tokens) = redeem(&instances[2], (&id, &secret), &code);
    assert_eq!(status, 200, "{tokens}");
    let client_access = tokens["access_token"].as_str().unwrap().to_string();
    let info = instances[0].send("GET", "/oauth/userinfo", Some(&client_access), None, &[]);
    assert_eq!(
        (info.status, &info.body["email"]),
        (200, &json!(ADA)),
        "{info}"
    );

    let (status, refused) = redeem(&instances[0], (&id, &secret), &code);
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    for instance in &instances {
        let me = instance.send("GET", "/user/me", Some(&client_access), None, &[]);
        assert_eq!((me.status, me.code()), (401, Some("TOKEN_REVOKED")), "{me}");
    }
}
