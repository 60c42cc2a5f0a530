//! Roles (SPEC section 8): the rule a role name follows and the limits of a
//! user's list. Every way in (seed files, the command line, the admin API)
//! checks here. A list keeps each role once, sorted, so that it compares,
//! stores and prints the same whatever order it was given in.

/// Roles one user holds at most.
pub const MAX_ROLES: usize = 32;

/// Characters a role has at most.
const MAX_LENGTH: usize = 64;

/// Why a list of roles was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum RoleError {
    /// The role at this position of the list given is not a role name.
    Malformed { index: usize, why: String },
    /// More than MAX_ROLES distinct roles; how many.
    TooMany(usize),
}

/// Checks one role against `^[a-z][a-z0-9_.:-]{0,63}$`, or says why not.
pub fn check_role(role: &str) -> Result<(), String> {
    let mut chars = role.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    let goes_on_well = chars.all(|c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | ':' | '-')
    });
    if starts_well && goes_on_well && role.len() <= MAX_LENGTH {
        Ok(())
    } else {
        Err(format!(
            "{role:?} is not a role: a role is a lowercase letter followed by at most 63 \
             lowercase letters, digits, '_', '.', ':' or '-'"
        ))
    }
}

/// A clap value parser: one well-formed role.
pub fn parse_role(raw: &str) -> Result<String, String> {
    check_role(raw).map(|()| raw.to_string())
}

/// The list a user holds when given `roles`: each checked, a role given twice
/// kept once, sorted; at most MAX_ROLES.
pub fn role_list<S: AsRef<str>>(roles: &[S]) -> Result<Vec<String>, RoleError> {
    for (index, role) in roles.iter().enumerate() {
        check_role(role.as_ref()).map_err(|why| RoleError::Malformed { index, why })?;
    }
    let mut list: Vec<String> = roles.iter().map(|r| r.as_ref().to_string()).collect();
    list.sort();
    list.dedup();
    match list.len() {
        n if n > MAX_ROLES => Err(RoleError::TooMany(n)),
        _ => Ok(list),
    }
}

/// The sentence for a list that holds too many roles.
pub fn too_many(count: usize) -> String {
    format!("{count} roles: a user holds at most {MAX_ROLES}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_contract_rule() {
        let longest = format!("a{}", "9".repeat(63));
        for good in [
            "admin",
            "a",
            "billing:read",
            "ops.on-call_2",
            longest.as_str(),
        ] {
            assert_eq!(check_role(good), Ok(()), "{good:?} was refused");
        }
        let too_long = format!("a{}", "b".repeat(64));
        for bad in [
            "", "Admin", "1st", "_x", "-x", "a b", "a/b", "é", "a\n", &too_long,
        ] {
            assert!(check_role(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_refusal_quotes_the_role_and_states_the_rule() {
        assert_eq!(
            check_role("Admin").unwrap_err(),
            "\"Admin\" is not a role: a role is a lowercase letter followed by at most 63 \
             lowercase letters, digits, '_', '.', ':' or '-'"
        );
    }

    #[test]
    fn a_list_is_sorted_and_keeps_each_role_once() {
        assert_eq!(
            role_list(&["ops", "admin", "ops"]),
            Ok(vec!["admin".to_string(), "ops".to_string()])
        );
        assert_eq!(role_list::<&str>(&[]), Ok(vec![]));
    }

    #[test]
    fn a_list_names_its_first_bad_role_and_counts_distinct_roles_against_the_limit() {
        assert_eq!(
            role_list(&["ok", "ok", "Bad"]),
            Err(RoleError::Malformed {
                index: 2,
                why: check_role("Bad").unwrap_err()
            })
        );
        let mut roles: Vec<String> = (0..MAX_ROLES).map(|i| format!("r{i}")).collect();
        roles.push("r0".into());
        assert_eq!(role_list(&roles).map(|l| l.len()), Ok(MAX_ROLES));
        roles.push("one-more".into());
        assert_eq!(role_list(&roles), Err(RoleError::TooMany(MAX_ROLES + 1)));
        assert_eq!(too_many(33), "33 roles: a user holds at most 32");
    }
}
