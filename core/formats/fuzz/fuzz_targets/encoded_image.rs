#![no_main]
//! `efficientformer_formats::fuzzing::encoded_image` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| efficientformer_formats::fuzzing::encoded_image(data));
