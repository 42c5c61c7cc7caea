#![no_main]
//! `efficientformer_formats::fuzzing::model_bytes` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| efficientformer_formats::fuzzing::model_bytes(data));
