//! Slow and many-connection clients: a request body must arrive within `body_timeout_ms` of
//! its headers ([`body_deadline`]; actix's `client_request_timeout` covers the headers only),
//! and a client address holds at most `max_connections_per_ip` open connections
//! ([`ConnectionLimit`]). Behind a reverse proxy the TCP peer is the proxy: the limit then
//! counts the proxy's connections, so set it above what the proxy opens, or to 0 and bound
//! connections at the proxy.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::dev::{Extensions, Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;

use crate::state::AppState;

/// Puts a deadline of `body_timeout_ms` on the body of a request that has one (a
/// `Content-Length` or `Transfer-Encoding`): past it, the body stream ends with an I/O
/// `TimedOut` error, which the body readers answer with 408 (`read_body`).
pub fn body_deadline<S, B>(
    mut req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: 'static,
{
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|s| Duration::from_millis(s.settings.connections.body_timeout_ms));
    if let (true, Some(timeout)) = (has_body, timeout) {
        let body = Deadline {
            inner: req.take_payload(),
            sleep: Box::pin(tokio::time::sleep(timeout)),
            expired: false,
        };
        req.set_payload(Payload::from(
            Box::pin(body) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
        ));
    }
    srv.call(req)
}

/// A body stream that fails once its deadline passes.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired = true;
            let timed_out = std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            );
            return Poll::Ready(Some(Err(PayloadError::Io(timed_out))));
        }
        Poll::Pending
    }
}

/// Open connections per client address, shared by the server's workers.
#[derive(Clone, Default)]
pub struct ConnectionLimit {
    max: u32,
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

/// One counted connection; dropped (the connection closed), it is no longer counted.
struct Counted {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, u32>>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl ConnectionLimit {
    /// At most `max` open connections per address; 0: no limit.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            open: Arc::default(),
        }
    }

    /// For `HttpServer::on_connect`: counts the new TCP connection `io` against its peer
    /// address (IPv4-mapped IPv6 counted as IPv4) and, over the limit, shuts it down at once
    /// (the client sees the connection closed before any request is read).
    pub fn on_connect(&self, io: &dyn std::any::Any, extensions: &mut Extensions) {
        if self.max == 0 {
            return;
        }
        let Some(stream) = io.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        let ip = peer.ip().to_canonical();
        let over = {
            let mut open = self
                .open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = open.entry(ip).or_insert(0);
            *n += 1;
            *n > self.max
        };
        extensions.insert(Counted {
            ip,
            open: self.open.clone(),
        });
        if over {
            tracing::warn!(%ip, max = self.max, "connection refused: max_connections_per_ip");
            let _ = socket2::SockRef::from(stream).shutdown(std::net::Shutdown::Both);
        }
    }
}
