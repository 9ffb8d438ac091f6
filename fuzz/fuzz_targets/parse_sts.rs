#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rkvstore_core::fuzzing::parse_sts(data);
});
