//! Inputs the fuzz targets in `fuzz/` must keep handling: their seeds, edge cases, and every
//! crash the fuzzer has found (one test each, named after what it caught).

use rkvstore_core::fuzzing;

/// Runs every target on `data`, as the fuzzer would.
fn all(data: &[u8]) {
    fuzzing::parse_json(data);
    fuzzing::parse_xml(data);
    fuzzing::percent_roundtrip(data);
    fuzzing::sign(data);
    fuzzing::diagnose_message(data);
}

#[test]
fn seeds() {
    for data in [
        &include_bytes!("fixtures/describe-backup-tasks.json")[..],
        include_bytes!("fixtures/describe-backup-tasks.xml"),
        include_bytes!("fixtures/error-instance-not-found.xml"),
        include_bytes!("fixtures/error-signature-mismatch.json"),
        b"secret\0InstanceId\0r-bp1abc\0RegionId\0cn-hangzhou\0Note\0a b*~&=\xc3\xbc",
    ] {
        all(data);
    }
}

#[test]
fn edge_cases() {
    for data in [
        &b""[..],
        b"\0",
        b"\0\0\0",
        b"\xff\xfe\xfd",
        b"%",
        b"%%%zz",
        b"<",
        b"<a>",
        b"</a>",
        b"<![CDATA[",
        b"<?xml?><Error><Code/></Error>",
        b"{\"BackupJobs\":[{\"BackupJobID\":-1}]}",
        b"{\"BackupJobs\":{\"x\":[1,2]}}",
        b"server string to sign is:",
        b"server string to sign is:GET&%2F&",
        b"server string to sign is:GET&%2F&%ZZ",
        b"s\0Signature\0x\0\0\0=\0&",
    ] {
        all(data);
    }
}
