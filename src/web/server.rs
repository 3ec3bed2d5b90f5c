//! Serving connections: at most so many open at once (in all, and from one client address), a time
//! limit on each request's head, the whole body read before a handler runs, and a graceful stop.
//! `axum::serve` has no such limits: about 1,070 half-sent requests used up the process's open
//! files, and every page and `/healthz` timed out until they went away.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt;

use super::client::TrustedProxies;

/// How long a client may take to send a request's head (its first line and headers), and how
/// long a kept-alive connection may wait for its next request.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stop waits for requests in flight before it closes what is left.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Open files kept back from connections: the database, its journal, sockets to PostgreSQL or
/// Meilisearch, logs.
const FILES_KEPT_BACK: usize = 128;
/// The most connections counted, however high the file limit (an unlimited one reads as
/// `u64::MAX`, more than a semaphore can hold).
const MOST_CONNECTIONS: usize = 1_000_000;

/// The answer to a connection over a limit, written once before it is closed.
const TOO_MANY_CONNECTIONS: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\nretry-after: 5\r\n\
content-type: text/plain; charset=utf-8\r\ncontent-length: 43\r\n\r\nToo many open connections. Try again soon.\n";

/// The bounds on connections.
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    pub total: usize,
    pub per_address: usize,
    /// Reverse proxies carry many people's requests and are not held to `per_address`.
    pub exempt: TrustedProxies,
}

impl ConnectionLimits {
    /// `configured`, or else what the open-file limit allows (after raising it as far as the
    /// system lets this process).
    pub fn new(configured: Option<usize>, per_address: usize, exempt: TrustedProxies) -> ConnectionLimits {
        let total = configured
            .unwrap_or_else(|| raise_file_limit().saturating_sub(FILES_KEPT_BACK))
            .clamp(16, MOST_CONNECTIONS);
        ConnectionLimits { total, per_address, exempt }
    }
}

/// Makes allocations of 128 KiB and more take memory of their own from the kernel and give it back
/// when freed. Otherwise glibc raises that threshold to the largest block freed so far: after the
/// first password hash (19 MiB), every later one came from the heap and stayed there, and 64
/// sign-ins took the server's peak memory from about 55 MiB to 180 (docs/benchmarks.md).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; it takes any value and reports failure by its result.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Raises the soft open-file limit to the hard one (as Go and nginx do) and returns the limit in
/// force; without a readable limit, assumes the common 1,024.
pub fn raise_file_limit() -> usize {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// Counts open connections; a [`Ticket`] stands for one and gives its place back when dropped.
struct Gate {
    total: Arc<Semaphore>,
    by_address: Mutex<HashMap<IpAddr, usize>>,
    limits: ConnectionLimits,
}

struct Ticket {
    gate: Arc<Gate>,
    /// The address counted against its own limit (None for a trusted proxy).
    address: Option<IpAddr>,
    _place: OwnedSemaphorePermit,
}

impl Gate {
    fn admit(self: &Arc<Self>, address: IpAddr) -> Option<Ticket> {
        let place = self.total.clone().try_acquire_owned().ok()?;
        let counted = !self.limits.exempt.contains(address);
        if counted {
            let mut by_address = self.by_address.lock().ok()?;
            let open = by_address.entry(address).or_insert(0);
            if *open >= self.limits.per_address {
                return None;
            }
            *open += 1;
        }
        Some(Ticket { gate: self.clone(), address: counted.then_some(address), _place: place })
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(address) = self.address
            && let Ok(mut by_address) = self.gate.by_address.lock()
            && let Some(open) = by_address.get_mut(&address)
        {
            *open -= 1;
            if *open == 0 {
                by_address.remove(&address);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (for at most [`DRAIN_TIMEOUT`]). A connection over a limit is closed at once, before it costs
/// more than its socket.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(total = limits.total, per_address = limits.per_address, "connection limits");
    let gate = Arc::new(Gate { total: Arc::new(Semaphore::new(limits.total)), by_address: Default::default(), limits });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(HEAD_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let mut refused_lately = false;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of open files or the like: wait for connections to end rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(ticket) = gate.admit(peer.ip()) else {
            if !refused_lately {
                tracing::warn!(%peer, "connection refused: too many open connections");
            }
            refused_lately = true;
            // One attempt, without waiting: the answer fits any socket buffer.
            let _ = stream.try_write(TOO_MANY_CONNECTIONS);
            continue;
        };
        refused_lately = false;
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(ticket);
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; closing them");
    }
    Ok(())
}

/// Reads a request's whole body (at most `limit` bytes, within [`BODY_TIMEOUT`]) before the
/// handler runs. A handler that answers without reading the body (a redirect to sign in, say)
/// would otherwise leave it unread, and the connection would be dropped under the client's next
/// request; a client that sends its body slowly holds no handler meanwhile.
pub async fn read_body_first(limit: usize, request: Request, next: Next) -> Response {
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return closing(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.");
    }
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(_)) => closing(StatusCode::PAYLOAD_TOO_LARGE, "The request is too large."),
        Err(_) => closing(StatusCode::REQUEST_TIMEOUT, "The request's body did not arrive in time."),
    }
}

/// A plain answer that also closes the connection, whose body was not read to its end.
fn closing(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unlimited_file_limit_still_gives_a_bound_a_semaphore_can_hold() {
        let limits = ConnectionLimits::new(Some(usize::MAX), 1, TrustedProxies::default());
        assert_eq!(limits.total, MOST_CONNECTIONS);
        let _fits = Semaphore::new(limits.total);
        assert_eq!(ConnectionLimits::new(Some(3), 1, TrustedProxies::default()).total, 16);
    }
}
