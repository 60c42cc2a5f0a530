//! Seed files: orgs and users applied idempotently, all or nothing.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde_json::json;

use crate::clock::now;
use crate::ids::new_id;
use crate::password;
use crate::roles::{role_list, too_many, RoleError};
use crate::store::audit::CLI;
use crate::store::{self, normalize_email, AuditEvent, Database, Status, Store, StoreError, User};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    orgs: Vec<SeedOrg>,
    #[serde(default)]
    users: Vec<SeedUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedOrg {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedUser {
    email: String,
    name: String,
    #[serde(rename = "orgId")]
    org_id: Option<String>,
    password: Option<String>,
    /// A hash made elsewhere (SPEC section 4), instead of `password`.
    #[serde(rename = "passwordHash")]
    password_hash: Option<String>,
    status: Option<String>,
    id: Option<String>,
    /// Given: the user's roles become these; left out: they stay as they are.
    roles: Option<Vec<String>>,
}

/// A user entry once checked: the email normalised, the status parsed, the
/// roles sorted.
struct Wanted {
    field: String,
    email: String,
    name: String,
    org_id: Option<String>,
    password: Option<String>,
    password_hash: Option<String>,
    status: Status,
    id: Option<String>,
    roles: Option<Vec<String>>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub orgs: Counts,
    pub users: Counts,
    pub dry_run: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (created, updated) = if self.dry_run {
            ("to create", "to update")
        } else {
            ("created", "updated")
        };
        let line = |c: &Counts| {
            format!(
                "{} {created}, {} {updated}, {} unchanged",
                c.created, c.updated, c.unchanged
            )
        };
        write!(
            f,
            "orgs: {}; users: {}",
            line(&self.orgs),
            line(&self.users)
        )?;
        if self.dry_run {
            f.write_str(" (dry run: nothing was changed)")?;
        }
        Ok(())
    }
}

#[derive(Debug)]
pub struct SeedError(String);

impl fmt::Display for SeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SeedError {}

/// Applies the seed document `json`; `source` names it in errors. With `dry_run`,
/// reports what would change and changes nothing.
pub fn apply(
    db: &Database,
    json: &str,
    source: &str,
    iterations: u32,
    dry_run: bool,
) -> Result<Report, SeedError> {
    let fail = |msg: String| SeedError(format!("{source}: {msg}"));
    let file: SeedFile = serde_json::from_str(json).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        fail(format!("line {}, column {}: {msg}", e.line(), e.column()))
    })?;
    let wanted = check(&file).map_err(fail)?;
    // Hash before taking the write lock: hashing takes ~85 ms a password.
    let hashes = db
        .read(|store| new_hashes(store, &wanted, iterations, dry_run))
        .map_err(fail)?;
    let applied = db.seeding(|store| {
        let report = Report {
            orgs: apply_orgs(store, &file.orgs)?,
            users: apply_users(store, &wanted, &hashes)?,
            dry_run,
        };
        // A dry run makes every change, to see what the later ones would find,
        // then ends as a failure would: rolled back.
        match dry_run {
            true => Err(Applied::RolledBack(report)),
            false => Ok(report),
        }
    });
    match applied {
        Ok(report) | Err(Applied::RolledBack(report)) => Ok(report),
        Err(Applied::Failed(e)) => Err(fail(e)),
    }
}

/// How the seed's transaction ended, when it did not commit.
enum Applied {
    Failed(String),
    RolledBack(Report),
}

impl From<StoreError> for Applied {
    fn from(e: StoreError) -> Applied {
        Applied::Failed(e.to_string())
    }
}

impl From<String> for Applied {
    fn from(e: String) -> Applied {
        Applied::Failed(e)
    }
}

/// Everything that can be checked without the database, with the field it concerns.
fn check(file: &SeedFile) -> Result<Vec<Wanted>, String> {
    let mut org_ids = HashSet::new();
    for (i, org) in file.orgs.iter().enumerate() {
        if org.id.trim().is_empty() {
            return Err(format!("orgs[{i}].id: must not be empty"));
        }
        if !org_ids.insert(org.id.as_str()) {
            return Err(format!("orgs[{i}].id: \"{}\" appears twice", org.id));
        }
    }
    let mut emails = HashSet::new();
    let mut wanted = Vec::new();
    for (i, user) in file.users.iter().enumerate() {
        let field = format!("users[{i}]");
        let email = normalize_email(&user.email)
            .map_err(|why| format!("{field}.email: \"{}\" {why}", user.email))?;
        if !emails.insert(email.clone()) {
            return Err(format!("{field}.email: \"{email}\" appears twice"));
        }
        if user.name.trim().is_empty() {
            return Err(format!("{field}.name: must not be empty"));
        }
        if user.password.as_deref() == Some("") {
            return Err(format!(
                "{field}.password: must not be empty (leave it out for no password)"
            ));
        }
        if user.password.is_some() && user.password_hash.is_some() {
            return Err(format!(
                "{field} ({email}): gives both password and passwordHash; give one"
            ));
        }
        if let Some(hash) = &user.password_hash {
            password::check_importable(hash)
                .map_err(|why| format!("{field}.passwordHash: the hash for {email} {why}"))?;
        }
        if user.id.as_deref().is_some_and(|id| id.trim().is_empty()) {
            return Err(format!("{field}.id: must not be empty"));
        }
        let status = match &user.status {
            Some(s) => s.parse().map_err(|why| format!("{field}.status: {why}"))?,
            None => Status::Active,
        };
        let roles = match &user.roles {
            Some(roles) => Some(role_list(roles).map_err(|e| match e {
                RoleError::Malformed { index, why } => {
                    format!("{field}.roles[{index}] ({email}): {why}")
                }
                RoleError::TooMany(n) => format!("{field}.roles ({email}): {}", too_many(n)),
            })?),
            None => None,
        };
        wanted.push(Wanted {
            field,
            email,
            name: user.name.clone(),
            org_id: user.org_id.clone(),
            password: user.password.clone(),
            password_hash: user.password_hash.clone(),
            status,
            id: user.id.clone(),
            roles,
        });
    }
    Ok(wanted)
}

/// For each user, the hash to store: None where the stored one still verifies
/// (or no password is given). A dry run only marks what would be hashed.
fn new_hashes(
    store: &mut dyn Store,
    wanted: &[Wanted],
    iterations: u32,
    dry_run: bool,
) -> Result<Vec<Option<String>>, String> {
    wanted
        .iter()
        .map(|w| {
            let existing = store.find_user_by_email(&w.email)?;
            let current = existing.and_then(|u| u.password_hash);
            if let Some(imported) = &w.password_hash {
                return Ok(imported_hash(imported, current));
            }
            let Some(password) = &w.password else {
                return Ok(None);
            };
            if current.is_some_and(|phc| password::verify(password, &phc)) {
                return Ok(None);
            }
            if dry_run {
                return Ok(Some(String::new()));
            }
            password::hash(password, iterations)
                .map(Some)
                .map_err(|e| format!("{}.password: {e}", w.field))
        })
        .collect()
}

/// An imported hash is stored for a user who has no password yet; one who has a
/// password keeps it, so that running an import again never undoes a password
/// set or upgraded since.
fn imported_hash(imported: &str, current: Option<String>) -> Option<String> {
    match current {
        None => Some(imported.to_string()),
        Some(_) => None,
    }
}

fn apply_orgs(store: &mut dyn Store, wanted: &[SeedOrg]) -> store::Result<Counts> {
    let mut counts = Counts::default();
    for org in wanted {
        match store.org_name(&org.id)? {
            Some(name) if name == org.name => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
            None => counts.created += 1,
        }
        store.upsert_org(&org.id, &org.name)?;
    }
    Ok(counts)
}

fn apply_users(
    store: &mut dyn Store,
    wanted: &[Wanted],
    hashes: &[Option<String>],
) -> Result<Counts, String> {
    let now = now();
    let mut counts = Counts::default();
    for (w, hash) in wanted.iter().zip(hashes) {
        if let Some(org) = &w.org_id {
            if store.org_name(org)?.is_none() {
                return Err(format!("{}.orgId: there is no org \"{org}\"", w.field));
            }
        }
        let existing = store.find_user_by_email(&w.email)?;
        let Some(mut user) = existing else {
            let id = w.id.clone().unwrap_or_else(new_id);
            if store.find_user_by_id(&id)?.is_some() {
                return Err(format!("{}.id: \"{id}\" belongs to another user", w.field));
            }
            let user = User {
                id,
                email: w.email.clone(),
                name: w.name.clone(),
                org_id: w.org_id.clone(),
                password_hash: hash.clone(),
                status: w.status,
                created_at: now,
                roles: w.roles.clone().unwrap_or_default(),
            };
            store.insert_user(&user, now)?;
            store.append_event(
                &AuditEvent::new("user.created", CLI, now, json!({})).user(&user.id),
            )?;
            counts.created += 1;
            continue;
        };
        if let Some(id) = w.id.as_ref().filter(|id| **id != user.id) {
            return Err(format!(
                "{}.id: \"{id}\" differs from the id of the existing user {}",
                w.field, w.email
            ));
        }
        let fields = changed_fields(&user, w);
        let profile_changed = !fields.is_empty();
        if profile_changed {
            user.name = w.name.clone();
            user.org_id = w.org_id.clone();
            user.status = w.status;
            store.update_user_profile(&user, now)?;
            store.append_event(&profile_event(fields, w.status, now).user(&user.id))?;
        }
        if let Some(phc) = hash {
            store.set_password_hash(&user.id, phc, now)?;
            store.append_event(
                &AuditEvent::new("password.set", CLI, now, json!({})).user(&user.id),
            )?;
        }
        let new_roles = w.roles.as_ref().filter(|roles| **roles != user.roles);
        if let Some(roles) = new_roles {
            store.set_user_roles(&user.id, roles, now)?;
        }
        if profile_changed || hash.is_some() || new_roles.is_some() {
            counts.updated += 1;
        } else {
            counts.unchanged += 1;
        }
    }
    Ok(counts)
}

/// The names (as the API spells them) of what a seed entry changes about a user.
fn changed_fields(user: &User, w: &Wanted) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if user.name != w.name {
        fields.push("name");
    }
    if user.org_id != w.org_id {
        fields.push("orgId");
    }
    if user.status != w.status {
        fields.push("status");
    }
    fields
}

/// `user.deleted` for a user the seed deletes, else `user.updated` with its fields.
fn profile_event(fields: Vec<&str>, status: Status, now: u64) -> AuditEvent {
    match status {
        Status::Deleted if fields.contains(&"status") => {
            AuditEvent::new("user.deleted", CLI, now, json!({}))
        }
        _ => AuditEvent::new("user.updated", CLI, now, json!({ "fields": fields })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = r#"{
      "orgs": [{ "id": "acme", "name": "Acme Inc" }],
      "users": [
        { "email": "Ada@Acme.test", "name": "Ada", "orgId": "acme", "password": "pw" },
        { "email": "invited@acme.test", "name": "Invited", "orgId": "acme" },
        { "email": "gone@acme.test", "name": "Gone", "password": "x", "status": "banned" }
      ]
    }"#;

    fn pool() -> (tempfile::TempDir, Database) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let db = Database::open(path.to_str().unwrap(), Default::default()).unwrap();
        (dir, db)
    }

    fn user_count(db: &Database) -> i64 {
        db.read(|s| s.list_users().map(|u| u.len() as i64)).unwrap()
    }

    #[test]
    fn applying_twice_changes_nothing_the_second_time() {
        let (_dir, pool) = pool();
        let first = apply(&pool, SEED, "s.json", 1000, false).unwrap();
        assert_eq!(
            first.to_string(),
            "orgs: 1 created, 0 updated, 0 unchanged; users: 3 created, 0 updated, 0 unchanged"
        );
        let hash_before = pool
            .read(|s| s.find_user_by_email("ada@acme.test"))
            .unwrap()
            .unwrap()
            .password_hash;
        let second = apply(&pool, SEED, "s.json", 1000, false).unwrap();
        assert_eq!(
            second.to_string(),
            "orgs: 0 created, 0 updated, 1 unchanged; users: 0 created, 0 updated, 3 unchanged"
        );
        let hash_after = pool
            .read(|s| s.find_user_by_email("ada@acme.test"))
            .unwrap()
            .unwrap()
            .password_hash;
        assert_eq!(hash_before, hash_after);
    }

    #[test]
    fn a_dry_run_changes_nothing() {
        let (_dir, pool) = pool();
        let report = apply(&pool, SEED, "s.json", 1000, true).unwrap();
        assert_eq!(report.users.created, 3);
        assert_eq!(user_count(&pool), 0);
    }

    #[test]
    fn a_bad_entry_names_its_field_and_applies_nothing() {
        let (_dir, pool) = pool();
        let bad = SEED.replace("gone@acme.test", "not-an-email");
        let err = apply(&pool, &bad, "s.json", 1000, false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.json: users[2].email: \"not-an-email\" is not an email address (no @)"
        );
        let bad = SEED.replace("\"orgId\": \"acme\" }", "\"orgId\": \"nope\" }");
        let err = apply(&pool, &bad, "s.json", 1000, false)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "s.json: users[1].orgId: there is no org \"nope\"");
        assert_eq!(user_count(&pool), 0);
    }

    #[test]
    fn a_typo_in_a_field_name_is_refused_with_its_line() {
        let (_dir, pool) = pool();
        let bad = SEED.replace("\"password\": \"x\"", "\"pasword\": \"x\"");
        let err = apply(&pool, &bad, "s.json", 1000, false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("s.json: line 6, column "), "{err}");
        assert!(err.contains("unknown field `pasword`"), "{err}");
    }

    fn one_user(extra: &str) -> String {
        format!(r#"{{"users": [{{ "email": "imp@acme.test", "name": "Imp"{extra} }}]}}"#)
    }

    #[test]
    fn an_imported_hash_is_stored_as_given_and_kept_on_a_second_run() {
        let (_dir, pool) = pool();
        let bcrypt = bcrypt::hash("imported pass", 4).unwrap();
        let seed = one_user(&format!(r#", "passwordHash": "{bcrypt}""#));
        apply(&pool, &seed, "s.json", 1000, false).unwrap();
        let stored = pool
            .read(|s| s.find_user_by_email("imp@acme.test"))
            .unwrap()
            .unwrap()
            .password_hash;
        assert_eq!(stored.as_deref(), Some(bcrypt.as_str()));
        let again = apply(&pool, &seed, "s.json", 1000, false).unwrap();
        assert_eq!(again.users.unchanged, 1);
    }

    #[test]
    fn a_hash_authlite_cannot_read_names_the_user_and_applies_nothing() {
        let (_dir, pool) = pool();
        let seed = one_user(r#", "passwordHash": "md5$abc$def""#);
        let err = apply(&pool, &seed, "s.json", 1000, false)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("s.json: users[0].passwordHash: the hash for imp@acme.test is not"),
            "{err}"
        );
        assert!(!err.contains("md5$abc"), "{err}");
        assert_eq!(user_count(&pool), 0);
    }

    #[test]
    fn a_user_with_both_password_and_hash_is_refused() {
        let (_dir, pool) = pool();
        let seed = one_user(r#", "password": "pw", "passwordHash": "$2b$04$x""#);
        let err = apply(&pool, &seed, "s.json", 1000, false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.json: users[0] (imp@acme.test): gives both password and passwordHash; give one"
        );
        assert_eq!(user_count(&pool), 0);
    }
}
