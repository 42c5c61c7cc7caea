//! `ClassifierOptions::gpu_cache_dir` is where CubeCL keeps its caches once the GPU runtime has
//! started: CubeCL sets its cache root when its configuration loads (at the first GPU device),
//! which replaced a root set before it. Its own test binary: the configuration is
//! process-wide and loads once.

use efficientformer::Backend;
use efficientformer::classify::{BackendChoice, Classifier, ClassifierOptions};

#[test]
fn the_gpu_caches_live_in_the_given_directory() {
    let dir = tempfile::tempdir().unwrap();
    let options = ClassifierOptions {
        backend: BackendChoice::Exact(Backend::WgpuGl),
        gpu_cache_dir: Some(dir.path().to_path_buf()),
        ..ClassifierOptions::default()
    };
    let classifier = Classifier::embedded_default(options).unwrap();
    classifier.prewarm().unwrap();
    assert_eq!(cubecl_environment::environment::root(), dir.path());
}
