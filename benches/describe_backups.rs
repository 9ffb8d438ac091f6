//! Parsing a full DescribeBackups page (300 sets, the largest page size) into the typed answer,
//! beside parsing the same bytes into a `serde_json::Value`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rkvstore_core::response::parse_success;
use rkvstore_core::{DescribeBackupsResponse, Format};

/// A page of `n` sets in the service's JSON shape, every field filled.
fn page(n: usize) -> Vec<u8> {
    let sets: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"BackupStatus":"Success","BackupIntranetDownloadURL":"https://rdsbak-hz-v2.oss-cn-hangzhou-internal.aliyuncs.com/custins{i}/hins{i}_data_20261129021530.rdb?OSSAccessKeyId=LTAIexample&Expires=1795000000&Signature=aBcDeFgHiJkLmNoPqRsTuVwXyZ%3D","BackupType":"FullBackup","BackupStartTime":"2026-11-29T02:15:30Z","BackupMethod":"Physical","BackupDownloadURL":"https://rdsbak-hz-v2.oss-cn-hangzhou.aliyuncs.com/custins{i}/hins{i}_data_20261129021530.rdb?OSSAccessKeyId=LTAIexample&Expires=1795000000&Signature=aBcDeFgHiJkLmNoPqRsTuVwXyZ%3D","BackupEndTime":"2026-11-29T02:17:02Z","BackupId":{},"EngineVersion":"7.0","BackupDBNames":"all","NodeInstanceId":"r-bp1zxszhcgatnx-db-{}","BackupMode":"Automated","BackupSize":{},"BackupJobID":{},"ExpectExpireTime":"2026-12-06T02:17:02Z","RecoverConfigMode":"Default"}}"#,
                800_000_000 + i,
                i % 4,
                2_167_808 + i * 4096,
                100_000 + i
            )
        })
        .collect();
    format!(
        r#"{{"RequestId":"963C20F0-7CE1-4591-AAF3-6F3CD1CE0000","PageNumber":1,"PageSize":{n},"TotalCount":{n},"FullStorageSize":650342400,"LogStorageSize":0,"FreeSize":1073741824,"Backups":{{"Backup":[{}]}}}}"#,
        sets.join(",")
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let n = 300;
    let body = page(n);
    let mut g = c.benchmark_group("describe_backups");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_with_input(BenchmarkId::new("typed", n), &body, |b, body| {
        b.iter(|| parse_success::<DescribeBackupsResponse>(black_box(body), Format::Json))
    });
    g.bench_with_input(BenchmarkId::new("value_floor", n), &body, |b, body| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
