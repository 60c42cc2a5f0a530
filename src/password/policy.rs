//! Which new passwords are accepted over HTTP (WEAK_PASSWORD otherwise).

use std::fmt;

/// The longest password accepted, in bytes.
pub const MAX_BYTES: usize = 1024;

#[derive(Debug, PartialEq, Eq)]
pub enum Weakness {
    TooShort(usize),
    TooLong,
    IsTheEmail,
    Common,
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Weakness::TooShort(min) => write!(
                f,
                "The new password must be at least {min} characters long."
            ),
            Weakness::TooLong => write!(
                f,
                "The new password must be at most {MAX_BYTES} bytes long."
            ),
            Weakness::IsTheEmail => {
                f.write_str("The new password must not be the account's email.")
            }
            Weakness::Common => {
                f.write_str("The new password is one of the most common passwords.")
            }
        }
    }
}

/// Checks a new password for the account `email`: at least `min_chars`
/// characters, at most MAX_BYTES bytes, not the email, and not in the common
/// password table of the `passwords` crate (about 100,000 passwords from
/// breaches), as typed or in lower case.
pub fn check(password: &str, email: &str, min_chars: usize) -> Result<(), Weakness> {
    if password.chars().count() < min_chars {
        return Err(Weakness::TooShort(min_chars));
    }
    if password.len() > MAX_BYTES {
        return Err(Weakness::TooLong);
    }
    if password.trim().to_lowercase() == email.trim().to_lowercase() {
        return Err(Weakness::IsTheEmail);
    }
    let lower = password.to_lowercase();
    if passwords::analyzer::is_common_password(password)
        || passwords::analyzer::is_common_password(&lower)
    {
        return Err(Weakness::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMAIL: &str = "ada@acme.test";

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(check("äöüäöüä", EMAIL, 8), Err(Weakness::TooShort(8)));
        assert_eq!(check("äöüäöüäx", EMAIL, 8), Ok(()));
    }

    #[test]
    fn over_1024_bytes_is_too_long() {
        assert_eq!(check(&"é".repeat(513), EMAIL, 8), Err(Weakness::TooLong));
        assert_eq!(check(&"é".repeat(512), EMAIL, 8), Ok(()));
    }

    #[test]
    fn the_email_in_any_case_is_refused() {
        assert_eq!(check(" ADA@acme.test", EMAIL, 8), Err(Weakness::IsTheEmail));
    }

    #[test]
    fn common_passwords_are_refused_in_any_case() {
        for common in [
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "PASSWORD1",
            "Sunshine",
        ] {
            assert_eq!(check(common, EMAIL, 8), Err(Weakness::Common), "{common}");
        }
        assert_eq!(check("correct horse battery staple", EMAIL, 8), Ok(()));
    }
}
