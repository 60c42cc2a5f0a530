//! Prometheus metrics: login and refresh outcomes, request latency by route,
//! the hashing queue and live sessions. Labels never hold emails or tokens.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Every outcome a login is counted under (a 400 is not counted), shown at 0
/// from the start so that an alert on any of them can be written.
pub const LOGIN_OUTCOMES: &[&str] = &[
    "ok",
    "USER_NOT_FOUND",
    "NO_PASSWORD_SET",
    "INVALID_PASSWORD",
    "USER_INACTIVE",
    "TOO_MANY_ATTEMPTS",
    "SERVER_BUSY",
    "INTERNAL_ERROR",
];

/// Every outcome a refresh is counted under (a 400 is not counted).
pub const REFRESH_OUTCOMES: &[&str] = &[
    "ok",
    "INVALID_TOKEN",
    "TOKEN_EXPIRED",
    "TOKEN_REVOKED",
    "TOKEN_REUSED",
    "USER_NOT_FOUND",
    "USER_INACTIVE",
    "SERVER_BUSY",
    "INTERNAL_ERROR",
];

pub struct Metrics {
    registry: Registry,
    logins: IntCounterVec,
    refreshes: IntCounterVec,
    latency: HistogramVec,
    hash_queue: IntGauge,
    live_sessions: IntGauge,
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
        for outcome in LOGIN_OUTCOMES {
            logins.with_label_values(&[*outcome]);
        }
        for outcome in REFRESH_OUTCOMES {
            refreshes.with_label_values(&[*outcome]);
        }
        registry.register(Box::new(logins.clone()))?;
        registry.register(Box::new(refreshes.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(hash_queue.clone()))?;
        registry.register(Box::new(live_sessions.clone()))?;
        Ok(Metrics {
            registry,
            logins,
            refreshes,
            latency,
            hash_queue,
            live_sessions,
        })
    }

    pub fn login(&self, outcome: &str) {
        self.logins.with_label_values(&[outcome]).inc();
    }

    pub fn refresh(&self, outcome: &str) {
        self.refreshes.with_label_values(&[outcome]).inc();
    }

    /// `route` is the route's pattern, never the raw path (which may hold ids).
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.latency
            .with_label_values(&[method, route, status.to_string().as_str()])
            .observe(seconds);
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
        m.login("ok");
        m.login("INVALID_PASSWORD");
        m.login("INVALID_PASSWORD");
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
}
