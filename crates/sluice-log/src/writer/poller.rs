//! The writer thread's epoll instance and its wake-up eventfd.
//!
//! Sockets are registered once, at `register`, for EPOLLOUT edge-triggered. Edge-triggered
//! because most connections have nothing queued most of the time: level-triggered EPOLLOUT on an
//! idle, writable socket would fire on every wait, and arming/disarming it per EAGAIN would cost
//! an epoll_ctl per queued send. The edge rule we rely on: a write that fails with EAGAIN (or
//! writes short) marks the socket as waiting for space, and the kernel wakes the epoll entry
//! when space frees up — so every queued send is written until EAGAIN before we wait again, and
//! an edge that arrives while a queue is empty is simply ignored. EPOLLERR/EPOLLHUP need no
//! flags; they wake the thread, and the next write reports the error.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// epoll key of the wake-up eventfd; connection ids start at 1 and count up, never reaching it.
pub(super) const WAKE_KEY: u64 = u64::MAX;

/// Most readiness events taken per epoll_wait (a bound on one round's work list).
pub(super) const EVENTS_PER_WAIT: usize = 256;

pub(super) struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
}

impl Poller {
    pub(super) fn new() -> io::Result<Poller> {
        // SAFETY: plain syscalls; each returned fd is checked and then owned.
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: epoll_create1 just returned this fd, checked above, and nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
        // SAFETY: a plain syscall; the returned fd is checked next.
        let wake = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if wake < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: eventfd just returned this fd, checked above, and nothing else owns it.
        let wake = unsafe { OwnedFd::from_raw_fd(wake) };
        let poller = Poller { epoll, wake };
        // Level-triggered: the thread drains the counter each time it sees it.
        poller.control(
            libc::EPOLL_CTL_ADD,
            poller.wake.as_raw_fd(),
            libc::EPOLLIN as u32,
            WAKE_KEY,
        )?;
        Ok(poller)
    }

    /// Watches `socket` for writability (edge-triggered), reporting it under `key`.
    pub(super) fn add(&self, socket: BorrowedFd<'_>, key: u64) -> io::Result<()> {
        assert_ne!(key, WAKE_KEY, "connection id collides with the wake key");
        let events = (libc::EPOLLOUT | libc::EPOLLET) as u32;
        self.control(libc::EPOLL_CTL_ADD, socket.as_raw_fd(), events, key)
    }

    /// Watches a TLS connection's socket for both directions (edge-triggered): the writer
    /// thread reads it too.
    pub(super) fn add_tls(&self, socket: BorrowedFd<'_>, key: u64) -> io::Result<()> {
        assert_ne!(key, WAKE_KEY, "connection id collides with the wake key");
        let events = (libc::EPOLLOUT | libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        self.control(libc::EPOLL_CTL_ADD, socket.as_raw_fd(), events, key)
    }

    /// Stops watching `socket`. Must happen before the dup is closed: the registration belongs to
    /// the open file description, which Node's own fd keeps alive, so closing our fd alone would
    /// leave the entry reporting a stale key.
    pub(super) fn remove(&self, socket: BorrowedFd<'_>) -> io::Result<()> {
        self.control(libc::EPOLL_CTL_DEL, socket.as_raw_fd(), 0, 0)
    }

    /// Makes the thread's current or next `wait` return.
    pub(super) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64. EAGAIN means the counter is already non-zero,
        // so a wake-up is pending anyway.
        unsafe { libc::write(self.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Resets the wake-up counter (called by the thread when it sees `WAKE_KEY`).
    pub(super) fn drain_wake(&self) {
        let mut count: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; EAGAIN (already drained) is fine.
        unsafe { libc::read(self.wake.as_raw_fd(), (&mut count as *mut u64).cast(), 8) };
    }

    /// Waits for readiness; `timeout_ms` -1 waits for ever, 0 polls. Returns the number of
    /// entries filled in `events`; an interrupted wait returns 0.
    pub(super) fn wait(
        &self,
        events: &mut [libc::epoll_event],
        timeout_ms: i32,
    ) -> io::Result<usize> {
        let capacity = libc::c_int::try_from(events.len()).expect("event buffer too large");
        // SAFETY: `events` is valid for `capacity` entries.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                capacity,
                timeout_ms,
            )
        };
        if n < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(error);
        }
        Ok(n as usize)
    }

    fn control(&self, op: libc::c_int, fd: libc::c_int, events: u32, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: key };
        // SAFETY: epoll_ctl with a live event struct.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut event) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}
