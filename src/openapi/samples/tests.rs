//! The samples as a reader sees them: exact for the login, and what changes
//! with the path and the bearer.

use super::*;
use crate::openapi::document;

fn samples(doc: &Value, method: &str, path: &str) -> Vec<(String, String, String)> {
    let list = doc["paths"][path][method]["x-codeSamples"].as_array();
    let list = list.unwrap_or_else(|| panic!("{method} {path}: no x-codeSamples"));
    list.iter()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (field("lang"), field("label"), field("source"))
        })
        .collect()
}

fn source(doc: &Value, method: &str, path: &str, lang: &str) -> String {
    let found = samples(doc, method, path).into_iter().find(|s| s.0 == lang);
    found
        .unwrap_or_else(|| panic!("{method} {path}: no {lang}"))
        .2
}

#[test]
fn every_operation_has_curl_fetch_and_requests_and_the_client_where_it_serves() {
    let doc = document();
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let langs: Vec<String> = samples(&doc, method, path)
                .into_iter()
                .map(|s| s.0)
                .collect();
            let has_method = CLIENT_METHODS
                .iter()
                .any(|(m, p, _, _)| m == method && p == path);
            let bearer = operation["security"].to_string().contains("bearer");
            let expected: &[&str] = if has_method || bearer {
                &["Shell", "TypeScript", "JavaScript", "Python"]
            } else {
                &["Shell", "JavaScript", "Python"]
            };
            assert_eq!(langs, expected, "{method} {path}");
        }
    }
    assert!(operations > 30, "{operations}");
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    assert!(description.ends_with(ENVIRONMENT), "{description}");
    assert_eq!(
        samples(&doc, "get", "/healthz")
            .iter()
            .map(|s| s.1.as_str())
            .collect::<Vec<_>>(),
        ["curl", "JavaScript (fetch)", "Python (requests)"]
    );
}

#[test]
fn the_login_samples_send_the_documented_example() {
    let doc = document();
    assert_eq!(
        source(&doc, "post", "/user/login", "Shell"),
        "curl -X POST \"$AUTHLITE_URL/user/login\" \\\n  \
         -H \"Content-Type: application/json\" \\\n  \
         -d '{\"email\":\"ada@acme.test\",\"password\":\"correct horse battery staple\"}'"
    );
    assert_eq!(
        source(&doc, "post", "/user/login", "TypeScript"),
        "import { AuthliteClient } from \"authlite-client\";\n\n\
         const auth = new AuthliteClient({ baseUrl: process.env.AUTHLITE_URL ?? \"http://localhost:8080\" });\n\
         const session = await auth.login(\"ada@acme.test\", \"correct horse battery staple\");\n\
         console.log(session.accessToken, session.user);"
    );
    assert_eq!(
        source(&doc, "post", "/user/login", "Python"),
        "import os\n\nimport requests\n\n\
         AUTHLITE_URL = os.environ.get(\"AUTHLITE_URL\", \"http://localhost:8080\")\n\n\
         res = requests.post(\n    f\"{AUTHLITE_URL}/user/login\",\n    json={\n        \
         \"email\": \"ada@acme.test\",\n        \"password\": \"correct horse battery staple\",\n    },\n)\n\
         print(res.status_code, res.json())"
    );
    assert_eq!(
        source(&doc, "post", "/user/login", "JavaScript"),
        "const AUTHLITE_URL = process.env.AUTHLITE_URL ?? \"http://localhost:8080\";\n\n\
         const res = await fetch(`${AUTHLITE_URL}/user/login`, {\n  method: \"POST\",\n  \
         headers: {\n    \"Content-Type\": \"application/json\",\n  },\n  \
         body: JSON.stringify({\n    \"email\": \"ada@acme.test\",\n    \
         \"password\": \"correct horse battery staple\"\n  }),\n});\n\
         console.log(res.status, await res.json());"
    );
}

#[test]
fn bearer_and_path_parameters_come_from_the_environment() {
    let doc = document();
    assert_eq!(
        source(&doc, "delete", "/user/sessions/{sid}", "Shell"),
        "curl -X DELETE \"$AUTHLITE_URL/user/sessions/${SID}\" \\\n  \
         -H \"Authorization: Bearer $ACCESS_TOKEN\""
    );
    assert_eq!(
        source(&doc, "get", "/admin/users/{id}", "Python"),
        "import os\n\nimport requests\n\n\
         AUTHLITE_URL = os.environ.get(\"AUTHLITE_URL\", \"http://localhost:8080\")\n\n\
         res = requests.get(\n    f\"{AUTHLITE_URL}/admin/users/{os.environ['USER_ID']}\",\n    \
         headers={\"Authorization\": f\"Bearer {os.environ['ADMIN_TOKEN']}\"},\n)\n\
         print(res.status_code, res.json())"
    );
    let ts = source(&doc, "get", "/admin/users/{id}", "TypeScript");
    assert!(
        ts.contains(
            "await auth.fetch(`/admin/users/${process.env.USER_ID}`, {\n  method: \"GET\",\n});"
        ),
        "{ts}"
    );
    assert!(ts.contains("process.env.ADMIN_EMAIL!"), "{ts}");
    // A body-less GET sends no Content-Type; an optional empty body is left out.
    let me = source(&doc, "get", "/user/me", "JavaScript");
    assert!(!me.contains("Content-Type") && !me.contains("body"), "{me}");
    assert_eq!(
        source(&doc, "post", "/user/logout", "Shell"),
        "curl -X POST \"$AUTHLITE_URL/user/logout\" \\\n  -H \"Authorization: Bearer $ACCESS_TOKEN\""
    );
    assert_eq!(
        path_params("/admin/api-keys/{id}"),
        [("id".to_string(), "API_KEY_ID".to_string())]
    );
}

#[test]
fn a_quote_in_a_body_survives_the_shell() {
    let call = Call {
        method: "post",
        path: "/x",
        params: vec![],
        body: Some(json!({ "name": "Bob's" })),
        token: None,
        json_answer: true,
    };
    assert!(
        call.curl().ends_with(r#"-d '{"name":"Bob'\''s"}'"#),
        "{}",
        call.curl()
    );
}
