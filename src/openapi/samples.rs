//! `x-codeSamples` on every operation (SPEC §9): curl, TypeScript with
//! `authlite-client`, JavaScript `fetch` and Python `requests`, written from
//! the operation itself (method, path, the request schema's examples, bearer
//! or not), so that a new endpoint gets its samples without a line here.
//!
//! Every sample reads what differs between servers from the environment:
//! `AUTHLITE_URL`, `ACCESS_TOKEN` (`ADMIN_TOKEN` under `/admin/`: an admin's
//! access token or an API key) and each path parameter (`{sid}` is `SID`,
//! `/admin/users/{id}` is `USER_ID`).

use serde_json::{json, Value};

use super::example::{example, python, screaming};

/// Where the samples send their requests when `AUTHLITE_URL` is not set.
const DEFAULT_URL: &str = "http://localhost:8080";

/// The operations `authlite-client` has a method for: (method, path, whether
/// it signs in first, the call). `{field}` is the body example's field, as JSON.
const CLIENT_METHODS: &[(&str, &str, bool, &str)] = &[
    (
        "post",
        "/user/login",
        false,
        "const session = await auth.login({email}, {password});\nconsole.log(session.accessToken, session.user);",
    ),
    (
        "post",
        "/user/refresh",
        true,
        "// Sends the stored session's refresh token.\nconst session = await auth.refresh();\nconsole.log(session.accessToken);",
    ),
    (
        "post",
        "/user/logout",
        true,
        "await auth.logout(); // or auth.logout({ all: true }): every session of the user",
    ),
    ("get", "/user/me", true, "console.log(await auth.me());"),
    ("get", "/user/sessions", true, "console.log(await auth.sessions());"),
    (
        "delete",
        "/user/sessions/{sid}",
        true,
        "await auth.revokeSession(process.env.SID!);",
    ),
    (
        "post",
        "/user/password",
        true,
        "await auth.changePassword({currentPassword}, {newPassword});",
    ),
    (
        "post",
        "/user/password/reset",
        false,
        "const user = await auth.resetPassword({token}, {newPassword});\nconsole.log(user);",
    ),
    (
        "post",
        "/user/password/forgot",
        false,
        "// Resolves alike whether or not an account has the address.\nawait auth.forgotPassword({email});",
    ),
    (
        "post",
        "/user/register",
        false,
        "// A confirmation link (#confirm=TOKEN) is emailed; then auth.confirmRegistration(token).\nawait auth.register({email}, {password}, {name});",
    ),
    (
        "post",
        "/user/register/confirm",
        false,
        "const session = await auth.confirmRegistration({token});\nconsole.log(session.user);",
    ),
    ("get", "/features", false, "console.log(await auth.features());"),
    (
        "post",
        "/user/login/mfa",
        false,
        "// mfaToken: from the AuthliteError of code MFA_REQUIRED that auth.login rejected with.\nconst session = await auth.loginMfa({mfaToken}, {code});\nconsole.log(session.accessToken);",
    ),
    ("get", "/user/mfa", true, "console.log(await auth.mfa());"),
    (
        "post",
        "/user/mfa/totp",
        true,
        "const { secret, otpauthUrl, qrSvg } = await auth.enableTotp();\nconsole.log(otpauthUrl);",
    ),
    (
        "post",
        "/user/mfa/totp/confirm",
        true,
        "const recoveryCodes = await auth.confirmTotp({code});\nconsole.log(recoveryCodes);",
    ),
    ("delete", "/user/mfa/totp", true, "await auth.disableTotp({code});"),
    (
        "post",
        "/user/mfa/recovery-codes",
        true,
        "const recoveryCodes = await auth.newRecoveryCodes({code});\nconsole.log(recoveryCodes);",
    ),
    (
        "post",
        "/user/passkeys/register",
        true,
        "// In a browser: it creates the passkey, then the server registers it.\nconst passkey = await auth.addPasskey(\"Laptop\");\nconsole.log(passkey);",
    ),
    ("get", "/user/passkeys", true, "console.log(await auth.passkeys());"),
    (
        "delete",
        "/user/passkeys/{id}",
        true,
        "await auth.removePasskey(process.env.PASSKEY_ID!);",
    ),
    (
        "post",
        "/user/passkeys/login",
        false,
        "// In a browser: the user picks one of their passkeys for this site.\nconst session = await auth.loginWithPasskey();\nconsole.log(session.user);",
    ),
];

/// Said once in the document's description, for the samples' readers.
const ENVIRONMENT: &str = "The code samples read the server's address from `AUTHLITE_URL`, \
    the bearer token from `ACCESS_TOKEN` (`ADMIN_TOKEN` for the admin API: an admin's access token \
    or an API key) and each path parameter from a variable of its own (`SID`, `USER_ID`, …).";

/// Gives every operation of `doc` its `x-codeSamples`.
pub fn add(doc: &mut Value) {
    if let Some(description) = doc.pointer_mut("/info/description") {
        let text = description.as_str().unwrap_or_default();
        *description = Value::String(format!("{text}\n\n{ENVIRONMENT}"));
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or(Value::Null);
    let login = example(
        &json!({ "$ref": "#/components/schemas/LoginRequest" }),
        &schemas,
    )
    .unwrap_or_else(|| json!({}));
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let call = Call::new(method, path, operation, &schemas);
            let mut samples = vec![sample("Shell", "curl", call.curl())];
            if let Some(source) = call.typescript(&login) {
                samples.push(sample("TypeScript", "TypeScript (authlite-client)", source));
            }
            samples.push(sample("JavaScript", "JavaScript (fetch)", call.fetch()));
            samples.push(sample("Python", "Python (requests)", call.python()));
            if let Some(operation) = operation.as_object_mut() {
                operation.insert("x-codeSamples".into(), Value::Array(samples));
            }
        }
    }
}

fn sample(lang: &str, label: &str, source: String) -> Value {
    json!({ "lang": lang, "label": label, "source": source })
}

/// One operation, as the samples need it.
struct Call<'a> {
    method: &'a str,
    path: &'a str,
    /// The path's parameters and the environment variables they are read from.
    params: Vec<(String, String)>,
    body: Option<Value>,
    /// The environment variable of the bearer token, when the operation takes one.
    token: Option<&'static str>,
    json_answer: bool,
}

impl<'a> Call<'a> {
    fn new(method: &'a str, path: &'a str, operation: &Value, schemas: &Value) -> Call<'a> {
        let bearer = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let admin = path.starts_with("/admin/");
        let request = operation.get("requestBody");
        let required = request.and_then(|r| r.get("required")) == Some(&Value::Bool(true));
        let body = request
            .and_then(|r| r.pointer("/content/application~1json/schema"))
            .and_then(|s| example(s, schemas))
            // An optional body that would be empty is left out.
            .filter(|b| required || b.as_object().is_none_or(|o| !o.is_empty()));
        let json_answer = operation
            .get("responses")
            .and_then(Value::as_object)
            .and_then(|r| r.iter().find(|(status, _)| status.starts_with('2')))
            .and_then(|(_, answer)| answer.pointer("/content/application~1json"))
            .is_some();
        Call {
            method,
            path,
            params: path_params(path),
            body,
            token: bearer.then_some(if admin { "ADMIN_TOKEN" } else { "ACCESS_TOKEN" }),
            json_answer,
        }
    }

    /// The path with each `{param}` written by `var` from its environment variable.
    fn path_with(&self, var: impl Fn(&str) -> String) -> String {
        let mut path = self.path.to_string();
        for (param, env) in &self.params {
            path = path.replace(&format!("{{{param}}}"), &var(env));
        }
        path
    }

    fn curl(&self) -> String {
        let url = format!(
            "\"$AUTHLITE_URL{}\"",
            self.path_with(|v| format!("${{{v}}}"))
        );
        let mut lines = vec![match self.method {
            "get" => format!("curl {url}"),
            m => format!("curl -X {} {url}", m.to_uppercase()),
        }];
        if let Some(token) = self.token {
            lines.push(format!("-H \"Authorization: Bearer ${token}\""));
        }
        if let Some(body) = &self.body {
            lines.push("-H \"Content-Type: application/json\"".into());
            // Inside single quotes the shell changes nothing but a quote.
            lines.push(format!("-d '{}'", body.to_string().replace('\'', r"'\''")));
        }
        lines.join(" \\\n  ")
    }

    fn fetch(&self) -> String {
        let url = format!(
            "`${{AUTHLITE_URL}}{}`",
            self.path_with(|v| format!("${{process.env.{v}}}"))
        );
        let mut options = vec![format!("  method: \"{}\",", self.method.to_uppercase())];
        let mut headers = Vec::new();
        if let Some(token) = self.token {
            headers.push(format!(
                "    Authorization: `Bearer ${{process.env.{token}}}`,"
            ));
        }
        if self.body.is_some() {
            headers.push("    \"Content-Type\": \"application/json\",".into());
        }
        if !headers.is_empty() {
            options.push(format!("  headers: {{\n{}\n  }},", headers.join("\n")));
        }
        if let Some(body) = &self.body {
            options.push(format!("  body: JSON.stringify({}),", js_literal(body, 1)));
        }
        format!(
            "const AUTHLITE_URL = process.env.AUTHLITE_URL ?? \"{DEFAULT_URL}\";\n\n\
             const res = await fetch({url}, {{\n{}\n}});\n\
             console.log(res.status, await res.{}());",
            options.join("\n"),
            if self.json_answer { "json" } else { "text" }
        )
    }

    fn python(&self) -> String {
        let url = format!(
            "f\"{{AUTHLITE_URL}}{}\"",
            self.path_with(|v| format!("{{os.environ['{v}']}}"))
        );
        let mut args = vec![format!("    {url},")];
        if let Some(token) = self.token {
            args.push(format!(
                "    headers={{\"Authorization\": f\"Bearer {{os.environ['{token}']}}\"}},"
            ));
        }
        if let Some(body) = &self.body {
            args.push(format!("    json={},", python(body, 1)));
        }
        format!(
            "import os\n\nimport requests\n\n\
             AUTHLITE_URL = os.environ.get(\"AUTHLITE_URL\", \"{DEFAULT_URL}\")\n\n\
             res = requests.{}(\n{}\n)\nprint(res.status_code, res.{})",
            self.method,
            args.join("\n"),
            if self.json_answer { "json()" } else { "text" }
        )
    }

    /// With the client's own method where it has one, else with its `fetch`
    /// (which adds the bearer token) for an endpoint that takes one; None for
    /// the other endpoints, which need no client.
    fn typescript(&self, login: &Value) -> Option<String> {
        let known = CLIENT_METHODS
            .iter()
            .find(|(m, p, _, _)| *m == self.method && *p == self.path);
        let (signs_in, call) = match known {
            Some((_, _, signs_in, template)) => (*signs_in, fill(template, self.body.as_ref())),
            None => (true, self.client_fetch()?),
        };
        let mut lines = vec![
            "import { AuthliteClient } from \"authlite-client\";".to_string(),
            String::new(),
            format!(
                "const auth = new AuthliteClient({{ baseUrl: process.env.AUTHLITE_URL ?? \"{DEFAULT_URL}\" }});"
            ),
        ];
        if signs_in && self.token == Some("ADMIN_TOKEN") {
            lines.push("// An account with the role admin.".into());
            lines.push(
                "await auth.login(process.env.ADMIN_EMAIL!, process.env.ADMIN_PASSWORD!);".into(),
            );
        } else if signs_in {
            lines.push(fill("await auth.login({email}, {password});", Some(login)));
        }
        lines.push(call);
        Some(lines.join("\n"))
    }

    /// `auth.fetch` for an endpoint that takes a bearer token.
    fn client_fetch(&self) -> Option<String> {
        self.token?;
        let path = format!("`{}`", self.path_with(|v| format!("${{process.env.{v}}}")));
        let mut options = vec![format!("  method: \"{}\",", self.method.to_uppercase())];
        if let Some(body) = &self.body {
            options.push("  headers: { \"Content-Type\": \"application/json\" },".into());
            options.push(format!("  body: JSON.stringify({}),", js_literal(body, 1)));
        }
        Some(format!(
            "// auth.fetch sends the bearer token, and renews it when it expires.\n\
             const res = await auth.fetch({path}, {{\n{}\n}});\n\
             console.log(res.status, await res.{}());",
            options.join("\n"),
            if self.json_answer { "json" } else { "text" }
        ))
    }
}

/// `template` with each `{field}` replaced by the body's value of it, as JSON.
fn fill(template: &str, body: Option<&Value>) -> String {
    let mut out = template.to_string();
    let fields = body.and_then(Value::as_object).into_iter().flatten();
    for (field, value) in fields {
        out = out.replace(&format!("{{{field}}}"), &value.to_string());
    }
    out
}

/// `serde_json`'s pretty JSON (a JavaScript literal), indented `level` steps of two.
fn js_literal(value: &Value, level: usize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    text.replace('\n', &format!("\n{}", "  ".repeat(level)))
}

/// Each `{param}` of `path` and its environment variable: `{sid}` is `SID`,
/// an `{id}` is named by the segment before it (`/admin/users/{id}`: `USER_ID`).
fn path_params(path: &str) -> Vec<(String, String)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut params = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            continue;
        };
        let before = i.checked_sub(1).and_then(|j| segments.get(j)).copied();
        let env = match before.filter(|_| param == "id") {
            Some(things) => format!(
                "{}_ID",
                screaming(things.strip_suffix('s').unwrap_or(things))
            ),
            None => screaming(param),
        };
        params.push((param.to_string(), env));
    }
    params
}

#[cfg(test)]
mod tests;
