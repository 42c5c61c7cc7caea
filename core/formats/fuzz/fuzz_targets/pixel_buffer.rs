#![no_main]
//! `efficientformer_formats::fuzzing::pixel_buffer` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| efficientformer_formats::fuzzing::pixel_buffer(data));
