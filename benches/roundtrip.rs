//! One blocking DescribeBackupTasks call against the emulator over loopback, connections reused.

use criterion::{criterion_group, criterion_main, Criterion};
use rkvstore_benches::{credentials, operation, KEY_ID, SECRET};
use rkvstore_blocking::Client;
use rkvstore_emulator::Emulator;

fn bench(c: &mut Criterion) {
    let emu = Emulator::builder()
        .access_key(KEY_ID, SECRET)
        .instance("r-bp1zxszhcgatnx")
        .start("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("{e}"));
    let client = Client::builder()
        .credentials(credentials())
        .endpoint(emu.url())
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let op = operation();
    let mut g = c.benchmark_group("roundtrip");
    g.bench_function("describe_backup_tasks", |b| {
        b.iter(|| {
            client
                .describe_backup_tasks(&op)
                .map(|r| r.backup_jobs.len())
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
