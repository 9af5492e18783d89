//! One epoll thread's share of the writer: its poller (the sockets of the connections that
//! belong to it, plus its wake-up eventfd), its hand-off list, and how many connections it has.
//!
//! Why several: on a loopback or fast network a socket send is mostly kernel work done on the
//! sending thread (the TCP stack, and on loopback the receiver's side of it too), so one thread
//! serving every connection caps a fan-out at one core. Connections are spread over the threads
//! when they register and never move, so each connection is still written by one thread at a
//! time and its events keep their order.

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, RwLock};

use super::ConnId;
use super::poller::Poller;

/// The default thread count is the core count, capped here: past a few threads a broker's
/// other work (the JS thread, the clients on the same machine) needs the cores more.
pub const MAX_DEFAULT_THREADS: usize = 8;

/// The default number of writer threads: the cores this process may run on, at most
/// `MAX_DEFAULT_THREADS`, at least 1.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get())
        .clamp(1, MAX_DEFAULT_THREADS)
}

pub(super) struct Shard {
    /// `None` once the writer is closed: `close` releases the epoll fd and the eventfd at once
    /// rather than when the last handle drops. The thread holds a read guard while it waits.
    pub(super) poller: RwLock<Option<Poller>>,
    /// Connections whose queue the inline path left while the socket was still writable (budget
    /// spent): no edge will come for them, so the thread picks them up from here. Each
    /// connection is on it at most once (`Connection::handed_off`), bounding its length.
    pub(super) handoffs: Mutex<Vec<ConnId>>,
    /// Registered connections that belong to this shard (for placing new ones).
    pub(super) connections: AtomicUsize,
}

impl Shard {
    pub(super) fn new(poller: Poller) -> Shard {
        Shard {
            poller: RwLock::new(Some(poller)),
            handoffs: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        }
    }

    /// Wakes the thread (no-op once closed: the thread is gone).
    pub(super) fn wake(&self) {
        if let Some(poller) = super::read(&self.poller).as_ref() {
            poller.wake();
        }
    }

    /// Closes the epoll fd and the eventfd (the thread has stopped).
    pub(super) fn release_poller(&self) {
        self.poller
            .write()
            .expect("writer poller lock poisoned")
            .take();
    }
}
