//! The versions a provider's open stores read, which maintenance must keep loadable.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// A count of open stores per version.
#[derive(Debug, Default)]
pub(crate) struct Pins {
    open: Mutex<BTreeMap<u64, usize>>,
}

impl Pins {
    /// A store opened `version`.
    pub fn pin(&self, version: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        *open.entry(version).or_insert(0) += 1;
    }

    /// A store of `version` committed, aborted or was dropped.
    pub fn unpin(&self, version: u64) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&version) {
            *n -= 1;
            if *n == 0 {
                open.remove(&version);
            }
        }
    }

    /// The oldest version still open.
    pub fn oldest(&self) -> Option<u64> {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.keys().next().copied()
    }
}
