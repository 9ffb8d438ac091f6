//! Signing a 12-parameter DescribeBackupTasks request, beside the HMAC floor and the naive way.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rkvstore_benches::{
    acs3_floor, acs3_floor_prekeyed, credentials, endpoint, generic_request, hmac_floor,
    hmac_floor_prekeyed, naive_params, naive_sign, operation, prekeyed, prekeyed_v3, signing,
    SECRET,
};
use rkvstore_core::{sign, Operation, SignatureVersion};

fn bench(c: &mut Criterion) {
    let creds = credentials();
    let op = operation();
    let endpoint = endpoint();
    let v1 = signing(&creds, SignatureVersion::V1);
    let v3 = signing(&creds, SignatureVersion::V3);
    let request = op
        .to_request(endpoint.clone())
        .unwrap_or_else(|e| panic!("{e}"));
    let string_to_sign = sign(&request, &v1)
        .map(|s| s.string_to_sign().as_str().to_owned())
        .unwrap_or_else(|e| panic!("{e}"));
    let params = naive_params();

    let mut g = c.benchmark_group("sign");
    // From the typed request to the finished URL with its Signature.
    g.bench_function("sign_v1", |b| {
        b.iter(|| {
            let req = black_box(&op)
                .to_request(endpoint.clone())
                .unwrap_or_else(|e| panic!("{e}"));
            sign(&req, &v1).map(|s| s.into_parts().1)
        })
    });
    // The same parameters through the generic API (`rkvstore call`), to the signed URL.
    g.bench_function("sign_v1_generic", |b| {
        b.iter(|| {
            let req =
                generic_request(black_box(&endpoint).clone()).unwrap_or_else(|e| panic!("{e}"));
            sign(&req, &v1).map(|s| s.into_parts().1)
        })
    });
    // Only signing, the request already built.
    g.bench_function("sign_v1_prebuilt", |b| {
        b.iter(|| sign(black_box(&request), &v1).map(|s| s.into_parts().1))
    });
    g.bench_function("hmac_floor", |b| {
        b.iter(|| hmac_floor(black_box(&string_to_sign), SECRET))
    });
    let keyed = prekeyed(SECRET);
    g.bench_function("hmac_floor_prekeyed", |b| {
        b.iter(|| hmac_floor_prekeyed(&keyed, black_box(&string_to_sign)))
    });
    g.bench_function("naive_baseline", |b| {
        b.iter(|| naive_sign(black_box(&params), "POST", SECRET))
    });
    // From the typed request to the signed request with its headers (which live in the
    // request's one buffer; a transport reads them in place).
    g.bench_function("sign_v3", |b| {
        b.iter(|| {
            let req = black_box(&op)
                .to_request(endpoint.clone())
                .unwrap_or_else(|e| panic!("{e}"));
            sign(&req, &v3)
        })
    });
    let signed_v3 = sign(&request, &v3).unwrap_or_else(|e| panic!("{e}"));
    let canonical = signed_v3.canonical().as_str().to_owned();
    let v3_string_to_sign = signed_v3.string_to_sign().as_str().to_owned();
    g.bench_function("acs3_floor", |b| {
        b.iter(|| {
            acs3_floor(
                black_box(b""),
                black_box(&canonical),
                black_box(&v3_string_to_sign),
                SECRET,
            )
        })
    });
    let keyed_v3 = prekeyed_v3(SECRET);
    g.bench_function("acs3_floor_prekeyed", |b| {
        b.iter(|| {
            acs3_floor_prekeyed(
                &keyed_v3,
                black_box(b""),
                black_box(&canonical),
                black_box(&v3_string_to_sign),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
