//! Session lock after inactivity (default 2 h). The UI calls [`InactivityLock::touch`] on
//! user activity; once the delay has passed without activity the lock latches: activity no
//! longer counts until [`InactivityLock::unlock`] (after the user authenticated again).
//! Background work (sync) must not touch it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Default inactivity delay before the session locks.
pub const DEFAULT_LOCK_AFTER: Duration = Duration::from_secs(2 * 60 * 60);

#[derive(Debug)]
struct State {
    last_activity: Instant,
    locked: bool,
}

/// Locks the session after a period without user activity.
#[derive(Debug)]
pub struct InactivityLock {
    after: Duration,
    state: Mutex<State>,
}

impl Default for InactivityLock {
    fn default() -> Self {
        Self::new(DEFAULT_LOCK_AFTER)
    }
}

impl InactivityLock {
    /// A lock that closes after `after` without activity, counted from now.
    pub fn new(after: Duration) -> Self {
        Self {
            after,
            state: Mutex::new(State {
                last_activity: Instant::now(),
                locked: false,
            }),
        }
    }

    /// The configured delay.
    pub fn delay(&self) -> Duration {
        self.after
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state itself stays coherent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn latch(&self, s: &mut State) {
        if !s.locked && s.last_activity.elapsed() >= self.after {
            s.locked = true;
        }
    }

    /// Records user activity; no effect once locked.
    pub fn touch(&self) {
        let mut s = self.state();
        self.latch(&mut s);
        if !s.locked {
            s.last_activity = Instant::now();
        }
    }

    /// Whether the session is locked now.
    pub fn is_locked(&self) -> bool {
        let mut s = self.state();
        self.latch(&mut s);
        s.locked
    }

    /// Time left before locking (zero when locked).
    pub fn remaining(&self) -> Duration {
        let mut s = self.state();
        self.latch(&mut s);
        if s.locked {
            Duration::ZERO
        } else {
            self.after.saturating_sub(s.last_activity.elapsed())
        }
    }

    /// Unlocks after the user authenticated again.
    pub fn unlock(&self) {
        let mut s = self.state();
        s.locked = false;
        s.last_activity = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn locks_after_the_delay_without_activity() {
        let lock = InactivityLock::default();
        assert_eq!(lock.delay(), Duration::from_secs(7200));
        tokio::time::advance(Duration::from_secs(7199)).await;
        assert!(!lock.is_locked());
        assert_eq!(lock.remaining(), Duration::from_secs(1));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(lock.is_locked());
        assert_eq!(lock.remaining(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn activity_postpones_the_lock() {
        let lock = InactivityLock::new(Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(50)).await;
        lock.touch();
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(!lock.is_locked());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(lock.is_locked());
    }

    #[tokio::test(start_paused = true)]
    async fn activity_after_locking_does_not_unlock() {
        let lock = InactivityLock::new(Duration::from_secs(60));
        tokio::time::advance(Duration::from_secs(61)).await;
        lock.touch();
        assert!(lock.is_locked(), "a late touch must not reopen the session");
        lock.unlock();
        assert!(!lock.is_locked());
        assert_eq!(lock.remaining(), Duration::from_secs(60));
    }
}
