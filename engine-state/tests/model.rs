//! Model test: any sequence of puts, removes, scans, commits, aborts, maintenance and crashes
//! (the store dropped with the whole run, optionally the newest delta file truncated, the
//! restart possibly on the other provider) agrees with a `BTreeMap` per committed version,
//! at every version still retained.

#![allow(clippy::unwrap_used)] // helpers of tests: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::Path;

use engine_state::conf::StateStoreConf;
use engine_state::files::StoreFiles;
use engine_state::{ProviderKind, StateStore, StateStoreId, StateStores};
use proptest::prelude::*;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    Remove(u8),
    Range(u8, u8),
    Prefix(u8),
    /// Every pair through `for_each_unordered`, sorted afterwards.
    Unordered,
    Commit,
    Abort,
    Maintenance,
    /// Drop everything; truncate the newest delta; restart on the other provider.
    Crash {
        truncate: bool,
        switch: bool,
    },
}

fn key(k: u8) -> Vec<u8> {
    match k {
        // The keys the disk provider's tree must hold in another form (empty, or starting
        // with 0 as the form of the empty key does).
        47 => vec![],
        46 => vec![0],
        // Two-byte keys with a shared first byte, so prefix scans select groups.
        _ => vec![k / 16, k % 16],
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..48, any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        3 => (0u8..48).prop_map(Op::Remove),
        1 => (0u8..48, 0u8..48).prop_map(|(a, b)| Op::Range(a, b)),
        1 => (0u8..3).prop_map(Op::Prefix),
        1 => Just(Op::Unordered),
        3 => Just(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Maintenance),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(truncate, switch)| Op::Crash { truncate, switch }),
    ]
}

fn conf(kind: ProviderKind, local: &Path) -> StateStoreConf {
    StateStoreConf {
        provider: kind,
        maintenance_interval_ms: 0,
        min_deltas_for_snapshot: 2,
        min_versions_to_retain: 3,
        local_dir: local.to_path_buf(),
        ..StateStoreConf::default()
    }
}

fn scan(it: engine_state::KvIter<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
    it.map(|r| r.unwrap()).collect()
}

struct Run {
    kind: ProviderKind,
    stores: Option<StateStores>,
    store: Option<Box<dyn StateStore>>,
    pending: Model,
    /// `versions[v]` is the model of version `v`.
    versions: Vec<Model>,
    id: StateStoreId,
    local: std::path::PathBuf,
    /// The disk provider's `ingest_min_bytes`.
    ingest_min_bytes: u64,
}

impl Run {
    fn stores(&mut self) -> &StateStores {
        let (kind, local) = (self.kind, self.local.clone());
        let mut conf = conf(kind, &local);
        conf.disk.ingest_min_bytes = self.ingest_min_bytes;
        self.stores
            .get_or_insert_with(|| StateStores::new(conf).unwrap())
    }

    fn latest(&self) -> u64 {
        self.versions.len() as u64 - 1
    }

    fn open(&mut self) -> &mut Box<dyn StateStore> {
        if self.store.is_none() {
            let (id, v) = (self.id.clone(), self.latest());
            let s = self.stores().get_store(&id, v).unwrap();
            self.pending = self.versions[v as usize].clone();
            self.store = Some(s);
        }
        self.store.as_mut().unwrap()
    }

    /// Every retained version reads back as its model.
    fn check_all_versions(&mut self) {
        let files = StoreFiles::list(&self.id.dir()).unwrap();
        let latest = self.latest();
        let id = self.id.clone();
        let loadable = files.loadable_versions();
        assert!(latest == 0 || loadable.contains(&latest), "{loadable:?}");
        for v in loadable.into_iter().filter(|v| *v <= latest) {
            let s = self.stores().get_read_store(&id, v).unwrap();
            let got = scan(s.iter().unwrap());
            let want: Vec<_> = self.versions[v as usize].clone().into_iter().collect();
            assert_eq!(got, want, "version {v}");
            assert_eq!(s.num_rows().unwrap(), want.len() as u64);
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::Put(k, v) => {
                self.open().put(&key(k), &[v]).unwrap();
                self.pending.insert(key(k), vec![v]);
            }
            Op::Remove(k) => {
                self.open().remove(&key(k)).unwrap();
                self.pending.remove(&key(k));
            }
            Op::Range(a, b) => {
                let (a, b) = (key(a), key(b));
                let got = scan(
                    self.open()
                        .range(Bound::Included(&a), Bound::Excluded(&b))
                        .unwrap(),
                );
                let want: Vec<_> = if a < b {
                    self.pending
                        .range(a..b)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                } else {
                    Vec::new()
                };
                assert_eq!(got, want);
            }
            Op::Prefix(p) => {
                let got = scan(self.open().prefix_scan(&[p]).unwrap());
                let want: Vec<_> = self
                    .pending
                    .iter()
                    .filter(|(k, _)| k.first() == Some(&p))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                assert_eq!(got, want);
            }
            Op::Unordered => {
                let mut got = Vec::new();
                self.open()
                    .for_each_unordered(&mut |k, v| {
                        got.push((k.to_vec(), v.to_vec()));
                        Ok(())
                    })
                    .unwrap();
                got.sort();
                let want: Vec<_> = self.pending.clone().into_iter().collect();
                assert_eq!(got, want);
            }
            Op::Commit => {
                let store = self.open();
                let v = store.commit().unwrap();
                let rows = store.num_rows().unwrap();
                self.store = None;
                self.versions.push(std::mem::take(&mut self.pending));
                assert_eq!(v, self.latest());
                assert_eq!(rows, self.versions[v as usize].len() as u64);
            }
            Op::Abort => {
                if let Some(mut s) = self.store.take() {
                    s.abort();
                }
            }
            Op::Maintenance => {
                self.store = None;
                self.stores().run_maintenance().unwrap();
                self.check_all_versions();
            }
            Op::Crash { truncate, switch } => {
                self.store = None;
                self.stores = None;
                let v = self.latest();
                let dir = self.id.dir();
                let delta = dir.join(format!("{v}.delta"));
                let has_snapshot = dir.join(format!("{v}.snapshot")).exists();
                if switch {
                    self.kind = match self.kind {
                        ProviderKind::Memory => ProviderKind::Disk,
                        ProviderKind::Disk => ProviderKind::Memory,
                    };
                }
                if truncate && v > 0 && !has_snapshot {
                    // The newest version's file is damaged: loading it is an error naming
                    // the file, never a wrong state; the query re-runs its batch from v - 1.
                    let bytes = std::fs::read(&delta).unwrap();
                    std::fs::write(&delta, &bytes[..bytes.len() / 2]).unwrap();
                    let id = self.id.clone();
                    let e = self.stores().get_store(&id, v).err().unwrap().to_string();
                    assert!(e.contains(&format!("{v}.delta")), "{e}");
                    // The restarted query re-runs the batch: same input, same version v.
                    let lost = self.versions.pop().unwrap();
                    let before = self.versions[v as usize - 1].clone();
                    let store = self.open();
                    for k in before.keys().filter(|k| !lost.contains_key(*k)) {
                        store.remove(k).unwrap();
                    }
                    for (k, val) in &lost {
                        store.put(k, val).unwrap();
                    }
                    self.pending = lost;
                    self.apply(Op::Commit);
                }
                self.check_all_versions();
            }
        }
    }
}

fn run(kind: ProviderKind, ops: Vec<Op>) {
    run_with(kind, ops, StateStoreConf::default().disk.ingest_min_bytes);
}

fn run_with(kind: ProviderKind, ops: Vec<Op>, ingest_min_bytes: u64) {
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("local");
    std::fs::create_dir_all(&local).unwrap();
    let mut r = Run {
        kind,
        stores: None,
        store: None,
        pending: Model::new(),
        versions: vec![Model::new()],
        id: StateStoreId::new(dir.path().join("state"), 0, 0),
        local,
        ingest_min_bytes,
    };
    for op in ops {
        r.apply(op);
    }
    r.apply(Op::Commit);
    r.apply(Op::Crash {
        truncate: false,
        switch: false,
    });
}

proptest! {
    // Bounded so the crate's tests stay well under a minute in debug builds.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn memory_provider_matches_the_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ProviderKind::Memory, ops);
    }

    #[test]
    fn disk_provider_matches_the_model(ops in prop::collection::vec(op(), 1..60)) {
        run(ProviderKind::Disk, ops);
    }

    /// Commits of at least three puts (3 bytes each) go into the working copy as table
    /// files of their own, smaller ones through the memtable: both paths, interleaved.
    #[test]
    fn disk_provider_ingesting_commits_matches_the_model(ops in prop::collection::vec(op(), 1..60)) {
        run_with(ProviderKind::Disk, ops, 8);
    }
}
