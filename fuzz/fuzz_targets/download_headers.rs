#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rkvstore_core::fuzzing::download_headers(data);
});
