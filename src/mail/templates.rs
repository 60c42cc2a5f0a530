//! What each message says: a subject, a plain-text part and an HTML part,
//! with the link and the product's name (`--issuer`); never a password.
//! Every value put into the HTML is escaped.

/// A message ready to send.
#[derive(Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Who it is for and where the link leads.
pub struct Context<'a> {
    /// The product's name as users know it (`--issuer`).
    pub product: &'a str,
    pub email: &'a str,
    /// The link the message carries.
    pub link: &'a str,
    /// How long the link works, in seconds.
    pub valid_for: u64,
}

/// A forgot-password link (`POST /user/password/forgot`).
pub fn forgot(c: &Context) -> Rendered {
    let Context {
        product,
        email,
        link,
        ..
    } = c;
    let valid = duration(c.valid_for);
    compose(
        format!("Reset your {product} password"),
        &[
            &format!("Someone, hopefully you, asked to reset the password of the {product} account {email}."),
            &format!("To choose a new password, open this link within {valid}. It works once:"),
        ],
        link,
        "If you did not ask for this, ignore this message: your password stays as it is.",
    )
}

/// A set-password link an admin sent (`POST /admin/users/{id}/link`, `"send": true`).
pub fn set_password(c: &Context) -> Rendered {
    let Context {
        product,
        email,
        link,
        ..
    } = c;
    let valid = duration(c.valid_for);
    compose(
        format!("Set your {product} password"),
        &[
            &format!("An administrator of {product} made you a link to set the password of your account {email}."),
            &format!("Open it within {valid}. It works once:"),
        ],
        link,
        "If you did not expect this, ignore this message.",
    )
}

/// An invitation: a new account without a password yet.
pub fn invite(c: &Context) -> Rendered {
    let Context {
        product,
        email,
        link,
        ..
    } = c;
    let valid = duration(c.valid_for);
    compose(
        format!("You are invited to {product}"),
        &[
            &format!("An account on {product} was made for you ({email})."),
            &format!("To start, choose your password at this link within {valid}. It works once:"),
        ],
        link,
        "If you did not expect this invitation, ignore this message.",
    )
}

/// The confirmation of a sign-up (`POST /user/register`, a new address).
pub fn confirm(c: &Context) -> Rendered {
    let Context {
        product,
        email,
        link,
        ..
    } = c;
    let valid = duration(c.valid_for);
    compose(
        format!("Confirm your new account on {product}"),
        &[
            &format!(
                "Someone, hopefully you, asked to create an account on {product} for {email}."
            ),
            &format!("To create it, open this link within {valid}. It works once:"),
        ],
        link,
        "If you did not ask for this, ignore this message: no account is made.",
    )
}

/// The note to an address that already has an account (a sign-up for it).
/// `link` leads to the page, where the password can be reset.
pub fn already_registered(c: &Context) -> Rendered {
    let Context {
        product,
        email,
        link,
        ..
    } = c;
    compose(
        format!("You already have an account on {product}"),
        &[
            &format!("Someone, hopefully you, asked to create an account on {product} for {email}, but that address already has one."),
            "Sign in with it, or if you forgot its password, choose \"Forgot password?\" on the sign-in page:",
        ],
        link,
        "If you did not ask for this, ignore this message: nothing has changed.",
    )
}

fn compose(subject: String, lines: &[&str], link: &str, closing: &str) -> Rendered {
    let text = format!("{}\n\n{link}\n\n{closing}\n", lines.join("\n\n"));
    let paragraphs: String = lines
        .iter()
        .map(|line| format!("<p>{}</p>\n", escape(line)))
        .collect();
    let html = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\n{paragraphs}\
         <p><a href=\"{href}\">{href}</a></p>\n<p>{closing}</p>\n</body></html>\n",
        title = escape(&subject),
        href = escape(link),
        closing = escape(closing),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

/// Text as HTML shows it: the five characters that could start markup escaped.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// "1 hour", "7 days", "90 minutes": the largest unit that divides it.
fn duration(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    match n {
        1 => format!("1 {unit}"),
        n => format!("{n} {unit}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context<'static> {
        Context {
            product: "Acme <Login>",
            email: "ada@acme.test",
            link: "https://auth.acme.test/#set-password=abc&x",
            valid_for: 3600,
        }
    }

    #[test]
    fn both_parts_carry_the_link_and_the_product() {
        let m = forgot(&context());
        assert_eq!(m.subject, "Reset your Acme <Login> password");
        assert!(m
            .text
            .contains("https://auth.acme.test/#set-password=abc&x\n"));
        assert!(m.text.contains("within 1 hour"));
        assert!(m
            .html
            .contains("<a href=\"https://auth.acme.test/#set-password=abc&amp;x\">"));
        assert!(m.html.contains("Acme &lt;Login&gt;"));
        assert!(!m.html.contains("<Login>"));
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration(3600), "1 hour");
        assert_eq!(duration(604_800), "7 days");
        assert_eq!(duration(5400), "90 minutes");
        assert_eq!(duration(45), "45 seconds");
    }
}
