//! The seed cast every in-process server starts with: two organisations and
//! one user in each state the login flow tells apart.

use authlite::settings::Settings;
use serde_json::json;

pub const ADA: &str = "ada@acme.test";
pub const ADA_NAME: &str = "Ada Lovelace";
pub const ADA_PASSWORD: &str = "correct horse battery staple";
pub const BOB: &str = "bob@globex.test";
pub const BOB_PASSWORD: &str = "bob's own pass phrase";
/// Active, but has never set a password.
pub const INVITED: &str = "invited@acme.test";
pub const SLEEPY: &str = "sleepy@acme.test";
pub const SLEEPY_PASSWORD: &str = "sleepy pass";
pub const BANNED: &str = "gone@acme.test";
pub const BANNED_PASSWORD: &str = "gone pass";
pub const DELETED: &str = "deleted@acme.test";
pub const DELETED_PASSWORD: &str = "deleted pass";
/// Inactive and without a password: NO_PASSWORD_SET comes before USER_INACTIVE.
pub const DORMANT: &str = "dormant@acme.test";
pub const UNKNOWN: &str = "nobody@acme.test";

/// The cheapest cost the binary accepts, so that hashing stays fast in tests.
pub const ITERATIONS: u32 = 1_000;

pub fn seed_json() -> String {
    json!({
        "orgs": [
            { "id": "acme", "name": "Acme Inc" },
            { "id": "globex", "name": "Globex" }
        ],
        "users": [
            { "email": ADA, "name": ADA_NAME, "orgId": "acme", "password": ADA_PASSWORD },
            { "email": BOB, "name": "Bøb Büilder", "orgId": "globex", "password": BOB_PASSWORD },
            { "email": INVITED, "name": "Invited", "orgId": "acme" },
            { "email": SLEEPY, "name": "Sleepy", "orgId": "acme",
              "password": SLEEPY_PASSWORD, "status": "inactive" },
            { "email": BANNED, "name": "Gone", "orgId": "acme",
              "password": BANNED_PASSWORD, "status": "banned" },
            { "email": DELETED, "name": "Deleted", "orgId": "acme",
              "password": DELETED_PASSWORD, "status": "deleted" },
            { "email": DORMANT, "name": "Dormant", "orgId": "acme", "status": "inactive" }
        ]
    })
    .to_string()
}

/// The spec defaults, with cheap hashing so that tests stay fast.
pub fn test_settings() -> Settings {
    Settings {
        pbkdf2_iterations: ITERATIONS,
        ..Settings::default()
    }
}
