//! The outbox on several instances (SPEC §12): messages queued while the mail
//! server was down are sent by two instances on one database once it is up,
//! each message exactly once (claims take rows FOR UPDATE SKIP LOCKED).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::harness::*;
use crate::support::mailbox::{smtp_available, unused_port, Sink, Tls};

const MESSAGES: usize = 40;

fn sent_by(instance: &Instance) -> u64 {
    let text = instance.get("/metrics").text;
    text.lines()
        .find_map(|l| l.strip_prefix("authlite_mail_sent_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

#[test]
fn two_instances_send_each_queued_message_once() {
    if !smtp_available() {
        return;
    }
    let Some(db) = Database::seeded() else { return };
    let port = unused_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let mail = [
        "--smtp-url",
        url.as_str(),
        "--mail-from",
        "Acme <login@acme.test>",
    ];
    for i in 0..MESSAGES {
        let email = format!("user{i}@acme.test");
        let mut args = vec!["user", "invite", email.as_str(), "--name", "U"];
        args.extend_from_slice(&mail);
        let out = cli_ok(&db.url, &args);
        assert!(out.contains("queued"), "{out}");
    }
    // Slow answers keep both instances' senders busy at the same time.
    let sink = Sink::start(Tls::Plain, None, port);
    sink.answer("slow");
    let instances = serve_many(&db.url, 2, &mail);
    let received = sink.wait_for(MESSAGES, Duration::from_secs(90));
    std::thread::sleep(Duration::from_secs(6));
    let received = {
        let again = sink.received();
        assert_eq!(
            again.len(),
            received.len().max(MESSAGES),
            "no message twice"
        );
        again
    };
    let recipients: BTreeSet<&str> = received.iter().map(|m| m.to.as_str()).collect();
    assert_eq!(recipients.len(), MESSAGES, "each address once");
    let split: Vec<u64> = instances.iter().map(sent_by).collect();
    eprintln!("messages sent by each instance: {split:?}");
    assert_eq!(split.iter().sum::<u64>(), MESSAGES as u64, "{split:?}");
    assert_eq!(
        db.query("SELECT count(*) FROM mail_outbox WHERE state = 'sent'"),
        MESSAGES.to_string()
    );
}
