//! A TCP fault proxy for provider-fault tests: it sits between medvault and one S3 endpoint
//! and passes traffic through, or refuses, black-holes, delays or cuts connections, switchable
//! at any time (existing connections follow the switch). It counts the connections it
//! accepted, so a test can tell how often a failing provider was tried.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does with traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Passes everything through.
    Pass,
    /// Resets every connection (new ones at once, open ones at their next byte): the provider
    /// refuses service.
    Refuse,
    /// Accepts connections and swallows every byte in both directions, answering nothing: a
    /// provider that hangs. A connection that swallowed something stays dead.
    BlackHole,
    /// Holds every piece of a request for this long before passing it on: a slow provider.
    Delay(Duration),
    /// Passes at most this many bytes of answers per connection, then resets it: a download
    /// cut mid-body.
    CutAfter(usize),
}

/// A running proxy; stops (and resets its connections) when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: watch::Sender<Fault>,
    accepted: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    /// Listens on a random loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (mode, rx) = watch::channel(Fault::Pass);
        let accepted = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(client, upstream, rx.clone()));
            }
        });
        Self {
            addr,
            mode,
            accepted,
            task,
        }
    }

    /// `http://127.0.0.1:<port>`, to use as a bucket's endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Switches the fault; open connections follow.
    pub fn set(&self, fault: Fault) {
        self.mode.send_replace(fault);
    }

    /// Connections accepted so far (refused ones included).
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        // Dropping the sender ends every connection task (their `changed()` fails).
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, mode: watch::Receiver<Fault>) {
    // Closing a connection resets it (RST), as a refusing or failing provider does.
    let _ = client.set_zero_linger();
    let _ = client.set_nodelay(true);
    let first = *mode.borrow();
    let (poisoned, server) = match first {
        Fault::Refuse => return,
        Fault::BlackHole => (true, None),
        _ => match TcpStream::connect(upstream).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                (false, Some(s))
            }
            Err(_) => return,
        },
    };
    let poisoned = Arc::new(AtomicBool::new(poisoned));
    let (client_r, client_w) = client.into_split();
    let Some(server) = server else {
        // Black hole from the start: swallow the requests until the client gives up.
        swallow(client_r, mode).await;
        return;
    };
    let (server_r, server_w) = server.into_split();
    let answered = Arc::new(AtomicUsize::new(0));
    let up = pump(
        client_r,
        server_w,
        mode.clone(),
        Direction::Request,
        Arc::clone(&poisoned),
        Arc::clone(&answered),
    );
    let down = pump(
        server_r,
        client_w,
        mode,
        Direction::Answer,
        poisoned,
        answered,
    );
    // Either side ending ends the connection (both halves dropped: reset).
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Reads and discards until the client closes, the proxy is dropped or the mode says refuse.
async fn swallow(mut from: OwnedReadHalf, mut mode: watch::Receiver<Fault>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Fault::Refuse {
                    return;
                }
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Client to server.
    Request,
    /// Server to client.
    Answer,
}

async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mut mode: watch::Receiver<Fault>,
    dir: Direction,
    poisoned: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = mode.changed() => {
                if changed.is_err() || *mode.borrow() == Fault::Refuse {
                    return;
                }
                continue;
            }
        };
        let fault = *mode.borrow();
        if poisoned.load(Ordering::SeqCst) {
            continue;
        }
        match fault {
            Fault::Refuse => return,
            Fault::BlackHole => {
                poisoned.store(true, Ordering::SeqCst);
                continue;
            }
            Fault::Delay(d) if dir == Direction::Request => tokio::time::sleep(d).await,
            Fault::CutAfter(limit) if dir == Direction::Answer => {
                let before = answered.fetch_add(n, Ordering::SeqCst);
                if before + n > limit {
                    let allowed = limit.saturating_sub(before);
                    let _ = to.write_all(&buf[..allowed]).await;
                    let _ = to.flush().await;
                    return;
                }
            }
            _ => {}
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
