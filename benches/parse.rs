//! Parsing DescribeBackupTasks responses of 1 and 1,000 jobs, beside the generic floors.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use quick_xml::events::Event;
use rkvstore_benches::{jobs_json, jobs_xml};
use rkvstore_core::response::parse_success;
use rkvstore_core::{DescribeBackupTasksResponse, Format};

fn bench(c: &mut Criterion) {
    for n in [1usize, 1000] {
        let json = jobs_json(n);
        let xml = jobs_xml(n);

        let mut g = c.benchmark_group("parse_json");
        g.throughput(Throughput::Bytes(json.len() as u64));
        g.bench_with_input(BenchmarkId::new("typed", n), &json, |b, body| {
            b.iter(|| parse_success::<DescribeBackupTasksResponse>(black_box(body), Format::Json))
        });
        g.bench_with_input(BenchmarkId::new("value_floor", n), &json, |b, body| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(body)))
        });
        g.finish();

        let mut g = c.benchmark_group("parse_xml");
        g.throughput(Throughput::Bytes(xml.len() as u64));
        g.bench_with_input(BenchmarkId::new("typed", n), &xml, |b, body| {
            b.iter(|| parse_success::<DescribeBackupTasksResponse>(black_box(body), Format::Xml))
        });
        g.bench_with_input(BenchmarkId::new("event_floor", n), &xml, |b, body| {
            b.iter(|| {
                let mut reader = quick_xml::Reader::from_reader(black_box(body.as_slice()));
                let mut events = 0usize;
                loop {
                    match reader.read_event() {
                        Ok(Event::Eof) | Err(_) => break,
                        Ok(_) => events += 1,
                    }
                }
                events
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
