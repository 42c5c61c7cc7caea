//! `uniffi-bindgen` at exactly the workspace's `uniffi` version. `ios/scripts/generate-bindings.sh`
//! runs it in library mode over `libefficientformer_ffi`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
