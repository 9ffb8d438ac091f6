//! Signing allocates only its output buffers: counted with a global allocator, not timed.

// A counting allocator is the one place the project needs `unsafe`: `GlobalAlloc` is an
// unsafe trait. Libraries forbid it in their `lib.rs`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rkvstore_core::{
    sign, Credentials, Endpoint, Params, RpcRequest, SignatureVersion, SigningParams, Timestamp,
};

struct Counting;

thread_local! {
    // Per thread, so that other tests running in parallel do not disturb the count.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_while(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

fn request(n: usize) -> RpcRequest {
    let mut params = Params::new();
    params
        .insert("InstanceId", "r-bp1zxszhcgatnx")
        .expect("valid");
    for i in 1..n {
        params
            .insert(
                format!("Extra.{i}.Value"),
                format!("value {i} with * and ü"),
            )
            .expect("unique");
    }
    RpcRequest::new(
        Endpoint::parse("r-kvstore.aliyuncs.com").expect("host"),
        "2015-01-01",
        "DescribeBackupTasks",
    )
    .expect("valid")
    .with_params(params)
}

#[test]
fn acs3_signing_allocates_once_or_twice_with_a_body() {
    let creds = Credentials::new("LTAI5tExampleKeyId", "ExampleSecret");
    for n in 1..=64 {
        for form in [false, true] {
            let req = if form {
                request(n).with_form_body()
            } else {
                request(n)
            };
            let params = SigningParams {
                credentials: &creds,
                time: Timestamp::from_unix(1_767_225_600),
                nonce: "3156853299f313e23d1673dc12e1703d",
                version: SignatureVersion::V3,
            };
            let mut signed = None;
            let count = allocations_while(|| signed = Some(sign(&req, &params)));
            let signed = signed.expect("ran").expect("signed");
            // One buffer for the URL, the canonical request, the string to sign and the
            // header values; a form body is the second.
            let most = if form { 2 } else { 1 };
            assert!(
                count <= most,
                "{n} parameters, form {form}: {count} allocations"
            );
            assert!(signed.headers().get("authorization").is_some());
        }
    }
}

#[test]
fn signing_allocates_at_most_twice_up_to_64_parameters() {
    let creds = Credentials::new("LTAI5tExampleKeyId", "ExampleSecret");
    for n in 1..=64 {
        let req = request(n);
        let params = SigningParams {
            credentials: &creds,
            time: Timestamp::from_unix(1_767_225_600),
            nonce: "3156853299f313e23d1673dc12e1703d",
            version: SignatureVersion::V1,
        };
        let mut signed = None;
        let count = allocations_while(|| signed = Some(sign(&req, &params)));
        let signed = signed.expect("ran").expect("signed");
        assert!(count <= 2, "{n} parameters: {count} allocations");
        assert!(signed.url().contains("&Signature="));
    }
}
