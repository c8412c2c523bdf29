//! Criterion benchmarks of both providers: a batch of 100k puts (keys 24 bytes, values 40
//! bytes) with its commit, the commit alone, and 100k gets, on a store of 1M keys.
//!
//! `cargo bench -p engine-state --bench state_store`

#![allow(clippy::unwrap_used)] // a benchmark's setup failing is a failed run

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_state::conf::StateStoreConf;
use engine_state::{ProviderKind, StateStoreId, StateStores};

const STATE_KEYS: u64 = 1_000_000;
const BATCH: u64 = 100_000;

/// A 24-byte key: a tenant prefix and the id big-endian (as the row format writes a BIGINT).
fn key(i: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(b"tenant01");
    k[8..16].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    k[16..].copy_from_slice(&i.to_be_bytes());
    k
}

/// A 40-byte value: a count, a sum and a label, like an aggregation buffer.
fn value(i: u64, version: u64) -> [u8; 40] {
    let mut v = [0u8; 40];
    v[..8].copy_from_slice(&version.to_le_bytes());
    v[8..16].copy_from_slice(&(i * 3).to_le_bytes());
    v[16..].copy_from_slice(&key(i));
    v
}

/// Keys of batch `n`: spread over the whole key space (a multiplicative hash), so a batch
/// updates keys all over the state as a keyed aggregation does.
fn batch_keys(n: u64) -> impl Iterator<Item = u64> {
    (0..BATCH).map(move |i| ((n * BATCH + i).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % STATE_KEYS)
}

struct Fixture {
    _dir: tempfile::TempDir,
    stores: StateStores,
    id: StateStoreId,
    version: u64,
}

fn fixture(kind: ProviderKind) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let stores = StateStores::new(StateStoreConf {
        provider: kind,
        maintenance_interval_ms: 0,
        local_dir: dir.path().to_path_buf(),
        ..StateStoreConf::default()
    })
    .unwrap();
    let id = StateStoreId::new(dir.path().join("state"), 0, 0);
    let mut s = stores.get_store(&id, 0).unwrap();
    for i in 0..STATE_KEYS {
        s.put(&key(i), &value(i, 0)).unwrap();
    }
    s.commit().unwrap();
    Fixture {
        _dir: dir,
        stores,
        id,
        version: 1,
    }
}

fn bench_provider(c: &mut Criterion, kind: ProviderKind, name: &str) {
    let mut f = fixture(kind);
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(BATCH));

    g.bench_function("put_100k_and_commit", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let mut s = f.stores.get_store(&f.id, f.version).unwrap();
                for i in batch_keys(f.version) {
                    s.put(&key(i), &value(i, f.version)).unwrap();
                }
                f.version = s.commit().unwrap();
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("commit_of_100k_changed_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut s = f.stores.get_store(&f.id, f.version).unwrap();
                for i in batch_keys(f.version) {
                    s.put(&key(i), &value(i, f.version)).unwrap();
                }
                let start = Instant::now();
                f.version = s.commit().unwrap();
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("get_100k", |b| {
        let s = f.stores.get_store(&f.id, f.version).unwrap();
        let mut n = 0;
        b.iter(|| {
            n += 1;
            let mut found = 0;
            for i in batch_keys(n) {
                found += usize::from(s.get(&key(i)).unwrap().is_some());
            }
            assert_eq!(found as u64, BATCH);
        })
    });
    g.finish();
}

fn memory(c: &mut Criterion) {
    bench_provider(c, ProviderKind::Memory, "memory");
}

fn disk(c: &mut Criterion) {
    bench_provider(c, ProviderKind::Disk, "disk");
}

criterion_group!(benches, memory, disk);
criterion_main!(benches);
