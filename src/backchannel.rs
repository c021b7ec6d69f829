//! OpenID Connect Back-Channel Logout 1.0: delivery of the notices the store queues whenever a
//! session ends ([`crate::store::notices`]). Every instance runs one [`Delivery`] loop: it
//! claims notices from the queue shared by all instances, signs a logout token for each (§2.4,
//! with the ID-token key) and POSTs it form-encoded to the client's `backchannel_logout_uri`
//! (§2.5) with a timeout, never following redirects. A failure or a non-2xx answer is retried
//! with back-off (1 s, doubling, at most 60 s) while the `backchannel_logout_retry_for` window
//! since the session's end lasts; then the notice is dropped with the audit event
//! `backchannel_logout_dropped`. A notice claimed by an instance that dies is taken over by
//! another after twice the timeout plus a second. Outcomes count in
//! `tessera_backchannel_logout_notices_total{outcome}`.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use crate::clock::now_ms;
use crate::config::BackchannelSettings;
use crate::state::AppState;
use crate::store::{Claimed, Notice, NoticeBackend};

/// Notices one instance delivers at once.
const IN_FLIGHT: usize = 32;

/// How often the queue is polled when there is nothing to do.
const POLL: Duration = Duration::from_millis(250);

/// The wait before the next attempt after `attempts` failed ones, milliseconds: 1 s, doubling,
/// at most 60 s.
pub fn backoff_ms(attempts: u32) -> u64 {
    (1000u64 << attempts.saturating_sub(1).min(6)).min(60_000)
}

/// Milliseconds after which a claimed, unfinished notice is taken over by another instance:
/// longer than any attempt can take.
fn abandoned_after_ms(settings: &BackchannelSettings) -> u64 {
    settings.timeout * 2000 + 1000
}

/// Errors building the delivery client.
#[derive(Debug, thiserror::Error)]
#[error("back-channel logout HTTP client: {0}")]
pub struct DeliveryError(String);

/// The delivery loop of one instance (see the module docs).
pub struct Delivery {
    state: Arc<AppState>,
    http: reqwest::Client,
    consumer: String,
}

impl Delivery {
    /// A delivery loop for `state`'s queue, with an HTTP client of the configured timeout
    /// (TLS by rustls with the Mozilla roots).
    ///
    /// # Errors
    /// [`DeliveryError`] when the HTTP client cannot be built.
    pub fn new(state: Arc<AppState>) -> Result<Self, DeliveryError> {
        // One process-wide TLS provider (aws-lc-rs, as for signing); a second call is a no-op.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            // OIDC Back-Channel Logout 1.0 §2.5: the answer is read, not followed.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(state.settings.backchannel.timeout))
            .build()
            .map_err(|e| DeliveryError(e.to_string()))?;
        Ok(Self {
            state,
            http,
            consumer: uuid::Uuid::new_v4().simple().to_string(),
        })
    }

    /// Runs until dropped: claims notices, delivers each in a task of its own (at most
    /// [`IN_FLIGHT`] at once), and polls again when one finishes or every [`POLL`].
    pub async fn run(self) {
        let idle_ms = abandoned_after_ms(&self.state.settings.backchannel);
        let mut tasks = JoinSet::new();
        loop {
            while tasks.try_join_next().is_some() {}
            let room = IN_FLIGHT - tasks.len();
            if room > 0 {
                let store = &self.state.store;
                match store
                    .claim_notices(&self.consumer, room, idle_ms, now_ms())
                    .await
                {
                    Ok(claimed) => {
                        for notice in claimed {
                            tasks.spawn(deliver(self.state.clone(), self.http.clone(), notice));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot claim back-channel logout notices")
                    }
                }
            }
            tokio::select! {
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Delivers one claimed notice, then finishes it, reschedules it or drops it.
async fn deliver(state: Arc<AppState>, http: reqwest::Client, claimed: Claimed) {
    let Claimed { entry, mut notice } = claimed;
    let outcome = match state.clients.get(&notice.client_id).await {
        Ok(Some(client)) => match &client.policy.backchannel_logout_uri {
            Some(uri) => send(&state, &http, uri, &notice, &client).await,
            // A client without a back-channel URI is told nothing.
            None => return finish(&state, &entry).await,
        },
        // A client removed meanwhile has nobody to tell.
        Ok(None) => return finish(&state, &entry).await,
        Err(e) => Err(format!("client lookup failed: {e}")),
    };
    let metric = |outcome: &str| {
        state
            .metrics
            .backchannel
            .with_label_values(&[outcome])
            .inc()
    };
    let (client_id, sid) = (&notice.client_id, &notice.sid);
    match outcome {
        Ok(()) => {
            metric("sent");
            tracing::info!(target: "audit", event = "backchannel_logout_sent",
                client_id = %client_id, sid = %sid, attempts = notice.attempts + 1);
            finish(&state, &entry).await;
        }
        Err(why) => {
            notice.attempts += 1;
            let due = now_ms() + backoff_ms(notice.attempts);
            let window_end = notice.ended_ms + state.settings.backchannel.retry_for * 1000;
            if due > window_end {
                metric("dropped");
                tracing::warn!(target: "audit", event = "backchannel_logout_dropped",
                    client_id = %client_id, sid = %sid, attempts = notice.attempts,
                    reason = %why);
                finish(&state, &entry).await;
            } else {
                metric("retried");
                tracing::info!(client_id = %client_id, sid = %sid,
                    attempts = notice.attempts, reason = %why,
                    "back-channel logout failed; retrying");
                if let Err(e) = state.store.retry_notice(&entry, &notice, due).await {
                    // Left claimed: another instance takes it over once abandoned.
                    tracing::warn!(error = %e, "cannot reschedule a back-channel logout notice");
                }
            }
        }
    }
}

/// One POST of a fresh logout token (§2.5): `Ok` for a 2xx answer, else why not (never the
/// token).
async fn send(
    state: &AppState,
    http: &reqwest::Client,
    uri: &str,
    notice: &Notice,
    client: &crate::store::Client,
) -> Result<(), String> {
    let token = state
        .tokens
        .sign_logout_token(
            &notice.client_id,
            &notice.sid,
            &notice.sub,
            client.policy.id_token_signed_response_alg,
        )
        .map_err(|e| e.to_string())?;
    let answer = http
        .post(uri)
        .form(&[("logout_token", token.as_str())])
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                "timed out".to_owned()
            } else {
                "connection failed".to_owned()
            }
        })?;
    match answer.status() {
        status if status.is_success() => Ok(()),
        status => Err(format!("answered {}", status.as_u16())),
    }
}

async fn finish(state: &AppState, entry: &str) {
    if let Err(e) = state.store.finish_notice(entry).await {
        tracing::warn!(error = %e, "cannot finish a back-channel logout notice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_one_second_up_to_a_minute() {
        let steps: Vec<u64> = (1..=9).map(backoff_ms).collect();
        assert_eq!(
            steps,
            [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]
        );
    }
}
