//! The state built once and shared by every request, and the upkeep thread
//! that prunes what it no longer needs. Nothing here knows about HTTP.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::Duration;

use crate::api_keys::cache::KeyCache;
use crate::clock;
use crate::gate::HashGate;
use crate::known_users::KnownUsers;
use crate::lock_notes::LockNotes;
use crate::mail::transport::Delivery;
use crate::mail::{self, Bell};
use crate::metrics::Metrics;
use crate::mfa::passkeys::RelyingParty;
use crate::password;
use crate::session_cache::SessionCache;
use crate::settings::Settings;
use crate::store::{self, Database, Store, PRUNE_CHUNK};
use crate::tokens::{Keys, Policy, Sealer};

/// Everything a request needs, shared by all workers.
#[derive(Clone)]
pub struct AppState(Arc<State>);

pub struct State {
    /// Reads on a pooled connection; every write of a request through `db.write`.
    pub db: Database,
    pub keys: Keys,
    pub gate: HashGate,
    /// Where logins whose stored hash costs more than our own are checked.
    pub imported_gate: HashGate,
    pub settings: Settings,
    pub metrics: Metrics,
    /// Checked instead of a real hash when there is none, so every failure costs the same.
    pub dummy_hash: String,
    /// With --conceal-accounts, how long a refused login takes at least: the
    /// slowest check authlite accepts, so that no stored hash shows by its time.
    pub conceal_refusals_for: Duration,
    /// Seals secrets stored in the database with the master key, if there is one.
    pub sealer: Sealer,
    /// Sessions as last read, for `/user/me`.
    pub sessions: SessionCache,
    /// Users as tokens last showed them, for refreshes.
    pub known_users: KnownUsers,
    /// API keys as last read, and their uses waiting to be recorded.
    pub api_keys: KeyCache,
    /// Lockouts already in the audit log.
    pub locks_noted: LockNotes,
    /// Rung when a message is queued, so that the sender goes at once.
    pub mail: Bell,
    /// The WebAuthn relying party of passkeys.
    pub relying_party: RelyingParty,
}

impl Deref for AppState {
    type Target = State;

    fn deref(&self) -> &State {
        &self.0
    }
}

#[derive(Debug)]
pub struct StartupError(String);

impl fmt::Display for StartupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartupError {}

impl AppState {
    pub fn new(mut db: Database, settings: Settings) -> Result<AppState, StartupError> {
        let sealer =
            Sealer::from_option(settings.master_key_file.as_deref()).map_err(StartupError)?;
        let policy = Policy {
            lifetime: settings.access_ttl.max(settings.refresh_ttl),
            audience: settings.audience.clone(),
            algorithm: settings.algorithm,
            sealer: sealer.clone(),
        };
        let keys = Keys::open(&db, policy).map_err(StartupError)?;
        let gate = HashGate::for_this_machine()
            .map_err(|e| StartupError(format!("cannot start the hashing threads: {e}")))?;
        let imported_gate = HashGate::for_imported_hashes()
            .map_err(|e| StartupError(format!("cannot start the hashing threads: {e}")))?;
        let conceal_refusals_for = match settings.conceal_accounts {
            true => password::cost::slowest_verification_here(settings.pbkdf2_iterations),
            false => Duration::ZERO,
        };
        let metrics =
            Metrics::new().map_err(|e| StartupError(format!("cannot set up metrics: {e}")))?;
        let delivery = settings
            .email
            .as_ref()
            .map(Delivery::new)
            .transpose()
            .map_err(StartupError)?;
        let relying_party = RelyingParty::new(
            settings.public_url.as_deref(),
            settings.rp_id.as_deref(),
            &settings.issuer,
        );
        db.start_writer()
            .map_err(|e| StartupError(format!("cannot start the writer thread: {e}")))?;
        let state = Arc::new(State {
            dummy_hash: password::dummy_hash(settings.pbkdf2_iterations),
            db,
            keys,
            gate,
            imported_gate,
            conceal_refusals_for,
            settings,
            metrics,
            sealer,
            sessions: SessionCache::default(),
            known_users: KnownUsers::default(),
            api_keys: KeyCache::default(),
            locks_noted: LockNotes::default(),
            mail: Bell::default(),
            relying_party,
        });
        watch_changes(&state)
            .map_err(|e| StartupError(format!("cannot start the listener thread: {e}")))?;
        start_upkeep(Arc::downgrade(&state))
            .map_err(|e| StartupError(format!("cannot start the upkeep thread: {e}")))?;
        if let Some(delivery) = delivery {
            mail::sender::start(Arc::downgrade(&state), delivery, state.mail.clone())
                .map_err(|e| StartupError(format!("cannot start the mail sender: {e}")))?;
        }
        Ok(AppState(state))
    }
}

impl State {
    /// A request's write that can end sessions (`Database::write`, then the
    /// session cache is cleared, so that the end is seen at once).
    pub fn write_ending_sessions<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut dyn Store) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<store::StoreError> + Send + 'static,
    {
        let written = self.db.write(work);
        self.sessions.clear();
        written
    }

    /// Drops sessions whose newest token has expired, failures past the
    /// window, used TOTP steps and mfaTokens, passkey ceremonies past their
    /// 300 s, mail throttle marks, expired sign-ups, old sent messages, OIDC
    /// requests and codes, and audit events past their retention.
    fn prune(&self) -> store::Result<()> {
        let (now, lockout) = (clock::now(), self.settings.lockout);
        self.in_chunks(move |store| store.prune_expired_sessions(now))?;
        self.in_chunks(move |store| store.prune_failures(now, lockout))?;
        // Steps outside the window of any code that can still be taken, and
        // mfaTokens a day past their expiry (till then they answer TOKEN_EXPIRED).
        let (step_before, expired_before) = (
            crate::mfa::step_of(now).saturating_sub(2),
            now.saturating_sub(86_400),
        );
        self.in_chunks(move |store| store.prune_mfa(step_before, expired_before))?;
        // Sent and given-up messages are kept a week (their state, not their content).
        let (throttled_before, done_before) = (
            now.saturating_sub(mail::THROTTLE_WINDOW),
            now.saturating_sub(7 * 86_400),
        );
        self.in_chunks(move |store| store.prune_mail(throttled_before, now, done_before))?;
        // OIDC requests and codes a day past their expiry (a code's second
        // use within that day still revokes what its first use issued).
        self.in_chunks(move |store| store.prune_oidc(expired_before))?;
        self.in_chunks(move |store| store.prune_ceremonies(now))?;
        let kept_from = now.saturating_sub(self.settings.audit_retention.saturating_mul(86_400));
        self.in_chunks(move |store| store.prune_events(kept_from))
    }

    /// Records the API keys' uses queued since the last tick, off the requests' path.
    fn record_api_key_uses(&self) -> store::Result<()> {
        for (id, at) in self.api_keys.take_uses() {
            self.db.write(move |store| store.touch_api_key(&id, at))?;
        }
        Ok(())
    }

    /// Clears the answers kept for the reuse grace once it has passed.
    fn clear_grace_answers(&self) -> store::Result<()> {
        let spent_before_ms =
            clock::now_ms().saturating_sub(self.settings.reuse_grace.saturating_mul(1000));
        self.in_chunks(move |store| store.clear_grace_answers(spent_before_ms))
    }

    /// Runs a chunked pruning statement until it runs out of rows, one write each,
    /// so that requests' writes go in between.
    fn in_chunks<F>(&self, chunk: F) -> store::Result<()>
    where
        F: Fn(&mut dyn Store) -> store::Result<usize> + Clone + Send + 'static,
    {
        while self.db.write(chunk.clone())? >= PRUNE_CHUNK as usize {}
        Ok(())
    }
}

/// What another process changed is seen at once: the sessions read are
/// forgotten and the keys checked again on the next request.
fn watch_changes(state: &Arc<State>) -> std::io::Result<()> {
    let weak = Arc::downgrade(state);
    state.db.watch_changes(move || {
        if let Some(state) = weak.upgrade() {
            state.sessions.clear();
            state.keys.check_soon();
        }
    })
}

const TICK: Duration = Duration::from_secs(1);
const PRUNE_EVERY: u32 = 3600;
/// Grace answers go within a minute after the grace: a sweep every 20 s.
const CLEAR_GRACE_EVERY: u32 = 20;

/// Prunes expired rows every hour (and at start), clears grace answers, and
/// records API keys' uses every second,
/// until the state is dropped.
fn start_upkeep(state: Weak<State>) -> std::io::Result<()> {
    thread::Builder::new()
        .name("authlite-upkeep".into())
        .spawn(move || {
            for tick in 0u32.. {
                thread::sleep(TICK);
                let Some(state) = state.upgrade() else { return };
                if tick % PRUNE_EVERY == 0 {
                    if let Err(e) = state.prune() {
                        log::warn!("pruning expired rows failed: {e}");
                    }
                }
                if let Err(e) = state.record_api_key_uses() {
                    log::warn!("recording API keys' last use failed: {e}");
                }
                if tick % CLEAR_GRACE_EVERY == 0 {
                    if let Err(e) = state.clear_grace_answers() {
                        log::warn!("clearing reuse-grace answers failed: {e}");
                    }
                }
            }
        })
        .map(drop)
}
