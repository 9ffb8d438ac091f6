//! The official SDKs' signing vectors, one test per vector.
//!
//! `vectors/*.jsonl` are copied from the project's shared reference material; each line was
//! computed by the official Alibaba Cloud Python SDKs. Every vector goes through both the
//! stand-alone signer and the request signer, checked by the `conformance` example's code.

#![allow(clippy::unwrap_used)] // Helpers outside #[test] functions unwrap too.

// The same checks the `conformance` example runs over a file; only the example reads suite
// names, so parts of the module go unused here.
#[allow(dead_code)]
#[path = "../examples/conformance/check.rs"]
mod check;

use check::{check_line, Suite};

const RPC_V1: &str = include_str!("vectors/rpc-v1.jsonl");
const ACS3: &str = include_str!("vectors/acs3.jsonl");

fn run(suite: Suite, file: &str, id: &str) {
    let needle = format!("\"id\": \"{id}\"");
    let line = file
        .lines()
        .find(|l| l.contains(&needle))
        .unwrap_or_else(|| panic!("vector {id} is not in the file"));
    let outcome = check_line(suite, line).unwrap_or_else(|e| panic!("vector {id} is invalid: {e}"));
    assert!(outcome.mismatches.is_empty(), "{outcome}");
}

macro_rules! vectors {
    ($suite:expr, $file:expr, $listed:ident; $($name:ident => $id:literal,)+) => {
        $(
            #[test]
            fn $name() {
                run($suite, $file, $id);
            }
        )+
        /// Every vector in the file has a test above, so a vector added to the file cannot be
        /// silently skipped.
        #[test]
        fn $listed() {
            let listed = [$($id),+];
            for line in $file.lines().filter(|l| !l.trim().is_empty()) {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let id = v["id"].as_str().unwrap();
                assert!(listed.contains(&id), "vector {id} has no test: add it to tests/vectors.rs");
            }
        }
    };
}

mod rpc_v1 {
    use super::*;
    vectors! { Suite::RpcV1, RPC_V1, every_rpc_v1_vector_has_a_test;
    rpc_1_0 => "rpc-1-0",
    rpc_1_1 => "rpc-1-1",
    rpc_1_2 => "rpc-1-2",
    rpc_1_3 => "rpc-1-3",
    rpc_1_4 => "rpc-1-4",
    rpc_1_5 => "rpc-1-5",
    rpc_1_6 => "rpc-1-6",
    rpc_1_7 => "rpc-1-7",
    rpc_1_8 => "rpc-1-8",
    rpc_1_9 => "rpc-1-9",
    rpc_1_10 => "rpc-1-10",
    rpc_1_11 => "rpc-1-11",
    rpc_1_12 => "rpc-1-12",
    rpc_1_13 => "rpc-1-13",
    rpc_1_14 => "rpc-1-14",
    rpc_1_15 => "rpc-1-15",
    rpc_1_16 => "rpc-1-16",
    rpc_1_17 => "rpc-1-17",
    rpc_1_18 => "rpc-1-18",
    rpc_1_19 => "rpc-1-19",
    rpc_1_20 => "rpc-1-20",
    rpc_1_21 => "rpc-1-21",
    rpc_1_22 => "rpc-1-22",
    rpc_1_23 => "rpc-1-23",
    rpc_1_24 => "rpc-1-24",
    rpc_1_25 => "rpc-1-25",
    rpc_1_26 => "rpc-1-26",
    rpc_1_27 => "rpc-1-27",
    rpc_1_28 => "rpc-1-28",
    rpc_1_29 => "rpc-1-29",
    rpc_1_30 => "rpc-1-30",
    rpc_1_31 => "rpc-1-31",
    rpc_1_32 => "rpc-1-32",
    rpc_1_33 => "rpc-1-33",
    rpc_1_34 => "rpc-1-34",
    rpc_1_35 => "rpc-1-35",
    rpc_1_36 => "rpc-1-36",
    rpc_1_37 => "rpc-1-37",
    rpc_1_38 => "rpc-1-38",
    rpc_1_39 => "rpc-1-39",
    rpc_1_40 => "rpc-1-40",
    rpc_1_41 => "rpc-1-41",
    rpc_1_42 => "rpc-1-42",
    rpc_1_43 => "rpc-1-43",
    rpc_1_44 => "rpc-1-44",
    rpc_1_45 => "rpc-1-45",
    rpc_1_46 => "rpc-1-46",
    rpc_1_47 => "rpc-1-47",
    rpc_1_48 => "rpc-1-48",
    rpc_1_49 => "rpc-1-49",
    rpc_1_50 => "rpc-1-50",
    rpc_1_51 => "rpc-1-51",
    rpc_1_52 => "rpc-1-52",
    rpc_1_53 => "rpc-1-53",
    rpc_1_54 => "rpc-1-54",
    rpc_1_55 => "rpc-1-55",
    rpc_1_56 => "rpc-1-56",
    rpc_1_57 => "rpc-1-57",
    rpc_1_58 => "rpc-1-58",
    rpc_1_59 => "rpc-1-59",
    }
}

mod acs3 {
    use super::*;
    vectors! { Suite::Acs3, ACS3, every_acs3_vector_has_a_test;
    acs3_1_0 => "acs3-1-0",
    acs3_1_1 => "acs3-1-1",
    acs3_1_2 => "acs3-1-2",
    acs3_1_3 => "acs3-1-3",
    acs3_1_4 => "acs3-1-4",
    acs3_1_5 => "acs3-1-5",
    acs3_1_6 => "acs3-1-6",
    acs3_1_7 => "acs3-1-7",
    acs3_1_8 => "acs3-1-8",
    acs3_1_9 => "acs3-1-9",
    acs3_1_10 => "acs3-1-10",
    acs3_1_11 => "acs3-1-11",
    acs3_1_12 => "acs3-1-12",
    acs3_1_13 => "acs3-1-13",
    acs3_1_14 => "acs3-1-14",
    acs3_1_15 => "acs3-1-15",
    acs3_1_16 => "acs3-1-16",
    acs3_1_17 => "acs3-1-17",
    acs3_1_18 => "acs3-1-18",
    acs3_1_19 => "acs3-1-19",
    acs3_1_20 => "acs3-1-20",
    acs3_1_21 => "acs3-1-21",
    acs3_1_22 => "acs3-1-22",
    acs3_1_23 => "acs3-1-23",
    acs3_1_24 => "acs3-1-24",
    acs3_1_25 => "acs3-1-25",
    acs3_1_26 => "acs3-1-26",
    acs3_1_27 => "acs3-1-27",
    acs3_1_28 => "acs3-1-28",
    acs3_1_29 => "acs3-1-29",
    acs3_1_30 => "acs3-1-30",
    acs3_1_31 => "acs3-1-31",
    acs3_1_32 => "acs3-1-32",
    acs3_1_33 => "acs3-1-33",
    acs3_1_34 => "acs3-1-34",
    acs3_1_35 => "acs3-1-35",
    acs3_1_36 => "acs3-1-36",
    acs3_1_37 => "acs3-1-37",
    acs3_1_38 => "acs3-1-38",
    acs3_1_39 => "acs3-1-39",
    acs3_1_40 => "acs3-1-40",
    acs3_1_41 => "acs3-1-41",
    acs3_1_42 => "acs3-1-42",
    acs3_1_43 => "acs3-1-43",
    acs3_1_44 => "acs3-1-44",
    acs3_1_45 => "acs3-1-45",
    acs3_1_46 => "acs3-1-46",
    acs3_1_47 => "acs3-1-47",
    acs3_1_48 => "acs3-1-48",
    acs3_1_49 => "acs3-1-49",
    acs3_1_50 => "acs3-1-50",
    acs3_1_51 => "acs3-1-51",
    acs3_1_52 => "acs3-1-52",
    acs3_1_53 => "acs3-1-53",
    acs3_1_54 => "acs3-1-54",
    acs3_1_55 => "acs3-1-55",
    acs3_1_56 => "acs3-1-56",
    acs3_1_57 => "acs3-1-57",
    acs3_1_58 => "acs3-1-58",
    acs3_1_59 => "acs3-1-59",
    }
}
