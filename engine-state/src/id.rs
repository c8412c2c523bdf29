//! Which store: (operator, partition, store name) under a query's state directory.

use std::fmt;
use std::path::{Path, PathBuf};

/// The store name Spark uses when an operator has one store per partition.
pub const DEFAULT_STORE_NAME: &str = "default";

/// One store of one partition of one stateful operator (Spark's `StateStoreId`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateStoreId {
    /// The query's state directory, `<checkpointLocation>/state`.
    pub state_root: PathBuf,
    /// The stateful operator's id in the plan (0, 1, ... in plan order).
    pub operator_id: u64,
    /// The shuffle partition.
    pub partition_id: u32,
    /// The store's name: [`DEFAULT_STORE_NAME`], or one of several (stream-stream joins keep
    /// four per partition).
    pub store_name: String,
}

impl StateStoreId {
    /// The default store of `partition_id` of `operator_id` under `state_root`
    /// (`<checkpointLocation>/state`).
    pub fn new(state_root: impl Into<PathBuf>, operator_id: u64, partition_id: u32) -> Self {
        StateStoreId {
            state_root: state_root.into(),
            operator_id,
            partition_id,
            store_name: DEFAULT_STORE_NAME.to_string(),
        }
    }

    /// The same partition's store called `name`.
    pub fn with_store_name(mut self, name: impl Into<String>) -> Self {
        self.store_name = name.into();
        self
    }

    /// The store's checkpoint directory, as Spark lays it out:
    /// `<state_root>/<operatorId>/<partitionId>[/<storeName>]` (the default store has no
    /// name directory).
    ///
    /// ```
    /// use engine_state::StateStoreId;
    /// let id = StateStoreId::new("/ckpt/state", 0, 3);
    /// assert_eq!(id.dir(), std::path::Path::new("/ckpt/state/0/3"));
    /// assert_eq!(id.with_store_name("left-keyToNumValues").dir(),
    ///            std::path::Path::new("/ckpt/state/0/3/left-keyToNumValues"));
    /// ```
    pub fn dir(&self) -> PathBuf {
        let base = self.operator_dir().join(self.partition_id.to_string());
        if self.store_name == DEFAULT_STORE_NAME {
            base
        } else {
            base.join(&self.store_name)
        }
    }

    /// How Spark's providers name themselves in messages, e.g.
    /// `HDFSStateStoreProvider[id = (op=0,part=3),dir = /ckpt/state/0/3]`.
    pub fn provider_name(&self, provider: &str) -> String {
        format!(
            "{provider}[id = (op={},part={}),dir = {}]",
            self.operator_id,
            self.partition_id,
            self.dir().display()
        )
    }

    /// The operator's directory, `<state_root>/<operatorId>`.
    pub fn operator_dir(&self) -> PathBuf {
        operator_dir(&self.state_root, self.operator_id)
    }
}

/// `<state_root>/<operatorId>`.
pub fn operator_dir(state_root: &Path, operator_id: u64) -> PathBuf {
    state_root.join(operator_id.to_string())
}

impl fmt::Display for StateStoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Spark's StateStoreId.toString shape.
        write!(
            f,
            "StateStoreId[ checkpointRootLocation={}, operatorId={}, partitionId={}, storeName={} ]",
            self.state_root.display(),
            self.operator_id,
            self.partition_id,
            self.store_name
        )
    }
}
