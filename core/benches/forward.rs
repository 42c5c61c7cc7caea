//! One forward pass per variant per CPU backend, batch 1, 224x224 (issue: "criterion
//! benchmark of one forward pass"). `cargo bench -p efficientformer --bench forward`.

use criterion::{Criterion, criterion_group, criterion_main};
use efficientformer::burn::tensor::{Tensor, TensorData};
use efficientformer::weights::seeded::{self, DEFAULT_SEED};
use efficientformer::{Backend, EfficientFormerV2, Variant};

fn forward(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward");
    group.sample_size(30);
    for backend in Backend::all().into_iter().filter(|b| !b.is_gpu()) {
        let device = backend.device().unwrap();
        for variant in Variant::PUBLISHED {
            let state = seeded::state_dict(&variant.config().unwrap(), DEFAULT_SEED);
            let model = EfficientFormerV2::load(state, &device).unwrap();
            let input = seeded::input(1, DEFAULT_SEED);
            group.bench_function(format!("{variant}/{backend}"), |b| {
                b.iter(|| {
                    let images = Tensor::<4>::from_data(TensorData::new(input.clone(), [1, 3, 224, 224]), &device);
                    model.forward(images).unwrap().into_data()
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, forward);
criterion_main!(benches);
