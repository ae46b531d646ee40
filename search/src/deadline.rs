//! [`Deadline`]: when an operation gives up. Tantivy has no clock of its own, so the long
//! loops of this crate and its collectors look at one: past it they stop working and the
//! operation answers [`SearchError::Timeout`], which frees whatever slot the caller holds.

use std::time::Instant;

use crate::error::{Result, SearchError};

/// The instant an operation must end by, if any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Deadline(Option<Instant>);

/// Steps between two looks at the clock.
const STEPS_PER_CHECK: u32 = 1024;

impl Deadline {
    pub(crate) fn at(instant: Instant) -> Deadline {
        Deadline(Some(instant))
    }

    /// The instant itself, for a library that looks at the clock on its own (the diff's).
    pub(crate) fn instant(self) -> Option<Instant> {
        self.0
    }

    pub(crate) fn passed(self) -> bool {
        self.0.is_some_and(|at| Instant::now() >= at)
    }

    /// Fails once the deadline has passed.
    pub(crate) fn check(self) -> Result<()> {
        if self.passed() {
            return Err(SearchError::Timeout);
        }
        Ok(())
    }

    /// A counter for a loop that runs many cheap steps.
    pub(crate) fn ticker(self) -> Ticker {
        Ticker {
            deadline: self,
            steps: 0,
            expired: false,
        }
    }
}

/// Looks at the clock every [`STEPS_PER_CHECK`] steps of a loop; once the deadline has
/// passed, every step is refused, so a collector does no more work for the documents a
/// query still hands it.
#[derive(Debug, Clone)]
pub(crate) struct Ticker {
    deadline: Deadline,
    steps: u32,
    expired: bool,
}

impl Ticker {
    /// Whether the loop may take one more step.
    pub(crate) fn step(&mut self) -> bool {
        if self.expired {
            return false;
        }
        self.steps += 1;
        if self.steps.is_multiple_of(STEPS_PER_CHECK) && self.deadline.passed() {
            self.expired = true;
        }
        !self.expired
    }

    /// Fails if the deadline passed during the loop.
    pub(crate) fn check(&self) -> Result<()> {
        if self.expired {
            return self.deadline.check();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_stops_a_loop_within_one_check() {
        let mut ticker = Deadline::at(Instant::now()).ticker();
        let steps = (0..10 * STEPS_PER_CHECK)
            .take_while(|_| ticker.step())
            .count();
        assert_eq!(steps, STEPS_PER_CHECK as usize - 1);
        assert!(matches!(ticker.check(), Err(SearchError::Timeout)));
        let mut none = Deadline::default().ticker();
        assert!((0..10 * STEPS_PER_CHECK).all(|_| none.step()));
        assert!(none.check().is_ok());
    }
}
