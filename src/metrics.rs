//! Prometheus metrics: login and refresh outcomes, request latency by route,
//! the hashing queue and live sessions. Labels never hold emails or tokens.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

use crate::error::ErrorCode;

/// The outcome label of an attempt that was not refused.
pub const OK: &str = "ok";

/// Every code a login is refused with and counted under (a 400 is not
/// counted), shown at 0 from the start so that an alert on any of them can be written.
pub const LOGIN_REFUSALS: &[ErrorCode] = &[
    ErrorCode::UserNotFound,
    ErrorCode::NoPasswordSet,
    ErrorCode::InvalidPassword,
    ErrorCode::UserInactive,
    ErrorCode::MfaRequired,
    ErrorCode::InvalidCode,
    ErrorCode::TooManyAttempts,
    ErrorCode::ServerBusy,
    ErrorCode::InternalError,
];

/// Every code a refresh is refused with and counted under (a 400 is not counted).
pub const REFRESH_REFUSALS: &[ErrorCode] = &[
    ErrorCode::InvalidToken,
    ErrorCode::TokenExpired,
    ErrorCode::TokenRevoked,
    ErrorCode::TokenReused,
    ErrorCode::UserNotFound,
    ErrorCode::UserInactive,
    ErrorCode::ServerBusy,
    ErrorCode::InternalError,
];

fn label(refused: Option<ErrorCode>) -> &'static str {
    refused.map_or(OK, ErrorCode::as_str)
}

pub struct Metrics {
    registry: Registry,
    logins: IntCounterVec,
    refreshes: IntCounterVec,
    latency: HistogramVec,
    hash_queue: IntGauge,
    live_sessions: IntGauge,
    pub mail: MailMetrics,
}

/// The outbox (SPEC §12): messages sent, retried, given up, and waiting.
pub struct MailMetrics {
    pub sent: IntCounter,
    pub retried: IntCounter,
    pub failed: IntCounter,
    /// As the sender last counted them.
    pub queued: IntGauge,
}

impl MailMetrics {
    fn new(registry: &Registry) -> Result<MailMetrics, prometheus::Error> {
        let sent = IntCounter::new("mail_sent_total", "Messages delivered")?;
        let retried = IntCounter::new(
            "mail_retries_total",
            "Deliveries that failed for now and were scheduled again",
        )?;
        let failed = IntCounter::new("mail_failed_total", "Messages given up")?;
        let queued = IntGauge::new("mail_queued", "Messages waiting in the outbox")?;
        registry.register(Box::new(sent.clone()))?;
        registry.register(Box::new(retried.clone()))?;
        registry.register(Box::new(failed.clone()))?;
        registry.register(Box::new(queued.clone()))?;
        Ok(MailMetrics {
            sent,
            retried,
            failed,
            queued,
        })
    }
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new_custom(Some("authlite".into()), None)?;
        let logins = IntCounterVec::new(
            Opts::new(
                "logins_total",
                "Login attempts by outcome (ok or the error_code)",
            ),
            &["outcome"],
        )?;
        let refreshes = IntCounterVec::new(
            Opts::new(
                "refreshes_total",
                "Refresh attempts by outcome (ok or the error_code)",
            ),
            &["outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "Request latency by route")
                .buckets(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ]),
            &["method", "route", "status"],
        )?;
        let hash_queue = IntGauge::new("hash_queue_depth", "Logins waiting for a hashing thread")?;
        let live_sessions =
            IntGauge::new("active_sessions", "Sessions neither revoked nor expired")?;
        for code in LOGIN_REFUSALS {
            logins.with_label_values(&[code.as_str()]);
        }
        for code in REFRESH_REFUSALS {
            refreshes.with_label_values(&[code.as_str()]);
        }
        logins.with_label_values(&[OK]);
        refreshes.with_label_values(&[OK]);
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(refreshes.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(hash_queue.clone()))?;
        registry.register(Box::new(live_sessions.clone()))?;
        let mail = MailMetrics::new(&registry)?;
        Ok(Metrics {
            mail,
            registry,
            logins,
            refreshes,
            latency,
            hash_queue,
            live_sessions,
        })
    }

    /// Counts a login: `None` when it succeeded, else the code it was refused with.
    pub fn login(&self, refused: Option<ErrorCode>) {
        self.logins.with_label_values(&[label(refused)]).inc();
    }

    /// Counts a refresh: `None` when it succeeded, else the code it was refused with.
    pub fn refresh(&self, refused: Option<ErrorCode>) {
        self.refreshes.with_label_values(&[label(refused)]).inc();
    }

    /// `route` is the route's pattern, never the raw path (which may hold ids).
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.latency
            .with_label_values(&[method, route, status.to_string().as_str()])
            .observe(seconds);
    }

    /// The time of the last backup written (`serve --backup-dir`), shown from
    /// now on at 0 until one is, so that an alert on its age can be written.
    pub fn backups(&self) -> Result<IntGauge, prometheus::Error> {
        let last_success = IntGauge::new(
            "backup_last_success_timestamp_seconds",
            "Unix time of the last backup written",
        )?;
        self.registry.register(Box::new(last_success.clone()))?;
        Ok(last_success)
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self, hash_queue: usize, live_sessions: i64) -> String {
        self.hash_queue
            .set(i64::try_from(hash_queue).unwrap_or(i64::MAX));
        self.live_sessions.set(live_sessions);
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            log::error!("cannot encode metrics: {e}");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_and_latency_appear_in_the_text() {
        let m = Metrics::new().unwrap();
        m.login(None);
        m.login(Some(ErrorCode::InvalidPassword));
        m.login(Some(ErrorCode::InvalidPassword));
        m.observe("POST", "/user/login", 200, 0.09);
        let text = m.render(3, 7);
        assert!(
            text.contains("authlite_logins_total{outcome=\"INVALID_PASSWORD\"} 2"),
            "{text}"
        );
        assert!(text.contains("authlite_logins_total{outcome=\"ok\"} 1"));
        assert!(text.contains("authlite_hash_queue_depth 3"));
        assert!(text.contains("authlite_active_sessions 7"));
        assert!(text.contains(
            "authlite_http_request_duration_seconds_count{method=\"POST\",route=\"/user/login\",status=\"200\"} 1"
        ));
    }

    #[test]
    fn every_outcome_is_shown_at_zero_from_the_start() {
        let text = Metrics::new().unwrap().render(0, 0);
        let refusals = [("logins", LOGIN_REFUSALS), ("refreshes", REFRESH_REFUSALS)];
        for (counter, refused) in refusals {
            let labels = refused.iter().map(|c| c.as_str()).chain([OK]);
            for label in labels {
                let line = format!("authlite_{counter}_total{{outcome=\"{label}\"}} 0");
                assert!(text.lines().any(|l| l == line), "no {line} in {text}");
            }
        }
    }

    /// What the document says login and refresh answer (an error in reading
    /// the body apart, which is not counted) is what they are counted under.
    #[test]
    fn the_outcomes_are_the_codes_the_document_lists() {
        use crate::openapi::BODY_ERRORS;
        let doc = crate::openapi::document();
        for (path, refused) in [
            ("/user/login", LOGIN_REFUSALS),
            ("/user/refresh", REFRESH_REFUSALS),
        ] {
            let responses = doc["paths"][path]["post"]["responses"].as_object().unwrap();
            let body_errors: Vec<&str> = BODY_ERRORS.iter().map(|c| c.as_str()).collect();
            let mut documented: Vec<&str> = responses
                .values()
                .filter_map(|r| {
                    r["content"]["application/json"]["schema"]["properties"]["error_code"]["enum"]
                        .as_array()
                })
                .flatten()
                .filter_map(|c| c.as_str())
                .filter(|c| !body_errors.contains(c))
                .chain([ErrorCode::InternalError.as_str()])
                .collect();
            let mut counted: Vec<&str> = refused.iter().map(|c| c.as_str()).collect();
            documented.sort_unstable();
            counted.sort_unstable();
            assert_eq!(counted, documented, "{path}");
        }
    }
}
