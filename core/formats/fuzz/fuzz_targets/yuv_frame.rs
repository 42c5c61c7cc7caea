#![no_main]
//! `efficientformer_formats::fuzzing::yuv_frame` under libFuzzer.

libfuzzer_sys::fuzz_target!(|data: &[u8]| efficientformer_formats::fuzzing::yuv_frame(data));
