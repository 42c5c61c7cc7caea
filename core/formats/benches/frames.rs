//! What a camera frame costs before the network: a 1920x1080 frame in NV12 (iOS '420f',
//! Android NV21 alike) and in RGBA, converted to RGB (whole, and the centre 1080x1080 crop
//! apps classify), and through timm's eval transform (resize, crop, normalise).
//! `cargo bench -p efficientformer-formats --bench frames` (no burn in this crate).
//!
//! A plain harness like `core/benches/forward.rs`: 5 warm-up passes, then 30 timed ones;
//! prints the median per case.

use std::time::Instant;

use efficientformer_formats::image_input::{PixelBuffer, PixelFormat};
use efficientformer_formats::preprocess;
use efficientformer_formats::region::Rect;
use efficientformer_formats::yuv::{YuvImage, YuvLayout};

const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

fn median_ms(mut work: impl FnMut()) -> f64 {
    (0..5).for_each(|_| work());
    let mut times: Vec<f64> = (0..30)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let pixels = (WIDTH * HEIGHT) as usize;
    let nv12: Vec<u8> = (0..pixels * 3 / 2).map(|i| (i * 7 + i / 1931) as u8).collect();
    let rgba: Vec<u8> = (0..pixels * 4).map(|i| (i * 5 + i / 7681) as u8).collect();
    let centre = Some(Rect { x: (WIDTH - HEIGHT) / 2, y: 0, width: HEIGHT, height: HEIGHT });
    let yuv = |crop| YuvImage { crop, ..YuvImage::packed(&nv12, YuvLayout::Nv12, WIDTH, HEIGHT, WIDTH).unwrap() };
    let packed = |crop| PixelBuffer { data: &rgba, width: WIDTH, height: HEIGHT, row_stride: WIDTH * 4, format: PixelFormat::Rgba8, orientation: 1, crop };
    println!("| 1920x1080 frame | to RGB (ms) | + timm eval transform (ms) |");
    println!("|---|---|---|");
    for (name, crop) in [("whole", None), ("centre 1080x1080", centre)] {
        let to_rgb = median_ms(|| drop(yuv(crop).to_rgb().unwrap()));
        let full = median_ms(|| drop(preprocess::preprocess(&yuv(crop).to_rgb().unwrap()).unwrap()));
        println!("| NV12, {name} | {to_rgb:.2} | {full:.2} |");
        let to_rgb = median_ms(|| drop(packed(crop).to_rgb().unwrap()));
        let full = median_ms(|| drop(preprocess::preprocess(&packed(crop).to_rgb().unwrap()).unwrap()));
        println!("| RGBA, {name} | {to_rgb:.2} | {full:.2} |");
    }
}
