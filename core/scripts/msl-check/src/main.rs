//! Reads a CubeCL compilation log (`CUBECL_DEBUG_LOG=FILE`: every kernel compiled, with its
//! WGSL source) and, for each kernel, does what wgpu does on Apple GPUs before Metal sees it:
//! naga parses and validates the WGSL and writes it as Metal Shading Language. Then checks the
//! kernel against the Apple GPU limits of Metal's feature set tables
//! (<https://developer.apple.com/metal/Metal-Feature-Set-Tables.pdf>, "GPU implementation
//! limits", every Apple family from A11 on):
//!
//! - threads per threadgroup: at most 1024 ("Maximum total threads per threadgroup");
//! - threadgroup memory: at most 32 KiB ("Maximum total threadgroup memory allocation"; A9/A10,
//!   which iOS 15 still runs on, have 16 KiB, reported beside it);
//! - buffers bound to one kernel: at most 31 ("Maximum number of entries in the buffer argument
//!   table, per graphics or kernel function").
//!
//! Prints one line per kernel and exits 1 when any kernel fails.

use naga::back::msl;
use naga::valid::{Capabilities, ValidationFlags, Validator};
use naga::{AddressSpace, Module};

const MAX_THREADS: u32 = 1024;
const MAX_THREADGROUP_BYTES: u32 = 32 * 1024;
const A9_THREADGROUP_BYTES: u32 = 16 * 1024;
const MAX_BUFFERS: usize = 31;
/// MSL 2.4: what iOS 15 (the package's minimum) and macOS 12 compile.
const MSL_VERSION: (u8, u8) = (2, 4);

/// One compiled kernel: its CubeCL name and WGSL source.
struct Kernel {
    name: String,
    wgsl: String,
}

/// The kernels of a compilation log, in order: each entry's `name:` line and its
/// ```` ```wgsl ```` block.
fn kernels(log: &str) -> Vec<Kernel> {
    log.split("[START_KERNEL_COMPILATION]")
        .skip(1)
        .filter_map(|entry| {
            let name = entry.lines().find_map(|line| line.strip_prefix("name: "))?.trim().to_string();
            let (_, rest) = entry.split_once("```wgsl\n")?;
            let (wgsl, _) = rest.split_once("\n```")?;
            Some(Kernel { name, wgsl: wgsl.to_string() })
        })
        .collect()
}

/// What the kernel asks of the GPU: threads per threadgroup, threadgroup memory, buffers.
struct Usage {
    threads: u32,
    threadgroup_bytes: u32,
    buffers: usize,
}

fn usage(module: &Module) -> Usage {
    let threads = module.entry_points.iter().map(|e| e.workgroup_size.iter().product()).max().unwrap_or(0);
    let size_of = |ty| module.types[ty].inner.size(module.to_ctx());
    let globals = || module.global_variables.iter().map(|(_, g)| g);
    let threadgroup_bytes = globals().filter(|g| g.space == AddressSpace::WorkGroup).map(|g| size_of(g.ty)).sum();
    let buffers = globals().filter(|g| matches!(g.space, AddressSpace::Storage { .. } | AddressSpace::Uniform)).count();
    Usage { threads, threadgroup_bytes, buffers }
}

/// Translates one kernel to MSL; the problems found, empty when it passes.
fn check(kernel: &Kernel) -> Result<(Usage, usize), String> {
    let module = naga::front::wgsl::parse_str(&kernel.wgsl).map_err(|e| format!("WGSL rejected: {}", e.emit_to_string(&kernel.wgsl)))?;
    // Metal's capabilities as wgpu-hal's Metal adapter reports them for Apple GPUs: f16 and
    // subgroup operations among them, so a kernel that uses either still validates.
    let capabilities = Capabilities::SHADER_FLOAT16 | Capabilities::SUBGROUP | Capabilities::SUBGROUP_BARRIER;
    let info = Validator::new(ValidationFlags::all(), capabilities)
        .validate(&module)
        .map_err(|e| format!("invalid: {}", e.emit_to_string(&kernel.wgsl)))?;
    let options = msl::Options { lang_version: MSL_VERSION, ..msl::Options::default() };
    let (source, _) = msl::write_string(&module, &info, &options, &msl::PipelineOptions::default())
        .map_err(|e| format!("MSL writer failed: {e}"))?;
    let usage = usage(&module);
    let mut problems = Vec::new();
    if usage.threads > MAX_THREADS {
        problems.push(format!("{} threads per threadgroup > {MAX_THREADS}", usage.threads));
    }
    if usage.threadgroup_bytes > MAX_THREADGROUP_BYTES {
        problems.push(format!("{} bytes of threadgroup memory > {MAX_THREADGROUP_BYTES}", usage.threadgroup_bytes));
    }
    if usage.buffers > MAX_BUFFERS {
        problems.push(format!("{} buffers > {MAX_BUFFERS}", usage.buffers));
    }
    if problems.is_empty() { Ok((usage, source.len())) } else { Err(problems.join("; ")) }
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: msl-check CUBECL_LOG");
    let log = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let kernels = kernels(&log);
    let mut failed = 0;
    let mut most_threadgroup_bytes = 0;
    for kernel in &kernels {
        let short = kernel.name.split('<').next().unwrap_or(&kernel.name).rsplit("::").next().unwrap_or(&kernel.name);
        match check(kernel) {
            Ok((usage, msl_bytes)) => {
                most_threadgroup_bytes = most_threadgroup_bytes.max(usage.threadgroup_bytes);
                println!(
                    "ok   {short}: {} threads, {} B threadgroup memory, {} buffers, {msl_bytes} B of MSL",
                    usage.threads, usage.threadgroup_bytes, usage.buffers
                );
            }
            Err(problem) => {
                failed += 1;
                println!("FAIL {} ({}): {problem}", short, kernel.name);
            }
        }
    }
    let a9 = if most_threadgroup_bytes <= A9_THREADGROUP_BYTES { "within" } else { "over" };
    println!(
        "{} kernels, {failed} failed; most threadgroup memory {most_threadgroup_bytes} B ({a9} A9/A10's {A9_THREADGROUP_BYTES} B)",
        kernels.len()
    );
    if kernels.is_empty() || failed > 0 {
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A log entry as CubeCL writes it.
    fn entry(name: &str, wgsl: &str) -> String {
        format!("[START_KERNEL_COMPILATION]\nname: {name}\nid: KernelId {{ .. }}\nsource:\n```wgsl\n{wgsl}\n```\n[END_KERNEL_COMPILATION]\n")
    }

    fn kernel(workgroup_size: u32, shared_floats: u32) -> String {
        format!(
            "@group(0) @binding(0) var<storage, read_write> out: array<f32>;\n\
             var<workgroup> shared_values: array<f32, {shared_floats}>;\n\
             @compute @workgroup_size({workgroup_size}, 1, 1)\n\
             fn main(@builtin(local_invocation_index) i: u32) {{\n\
                 shared_values[i % {shared_floats}u] = f32(i);\n\
                 workgroupBarrier();\n\
                 out[i] = shared_values[0];\n\
             }}"
        )
    }

    #[test]
    fn the_log_is_split_into_named_kernels() {
        let log = format!("noise\n{}{}", entry("a::B<f32>", &kernel(64, 4)), entry("c::D", &kernel(128, 8)));
        let kernels = kernels(&log);
        assert_eq!(kernels.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["a::B<f32>", "c::D"]);
        assert!(kernels[1].wgsl.ends_with('}'));
    }

    #[test]
    fn a_kernel_within_the_limits_becomes_msl() {
        let (usage, msl_bytes) = check(&Kernel { name: "ok".into(), wgsl: kernel(1024, 8192) }).unwrap();
        assert_eq!((usage.threads, usage.threadgroup_bytes, usage.buffers), (1024, 32768, 1));
        assert!(msl_bytes > 0);
    }

    #[test]
    fn apple_limits_and_invalid_wgsl_fail() {
        let threads = check(&Kernel { name: "threads".into(), wgsl: kernel(2048, 4) }).err().unwrap();
        assert!(threads.contains("2048 threads"), "{threads}");
        let memory = check(&Kernel { name: "memory".into(), wgsl: kernel(64, 8193) }).err().unwrap();
        assert!(memory.contains("32772 bytes"), "{memory}");
        let buffers: String = (0..32).map(|b| format!("@group(0) @binding({b}) var<storage, read_write> b{b}: array<f32>;\n")).collect();
        let reads: String = (0..32).map(|b| format!("b{b}[0] = 1.0;")).collect();
        let many = format!("{buffers}@compute @workgroup_size(1)\nfn main() {{ {reads} }}");
        let too_many = check(&Kernel { name: "buffers".into(), wgsl: many }).err().unwrap();
        assert!(too_many.contains("32 buffers"), "{too_many}");
        let invalid = check(&Kernel { name: "invalid".into(), wgsl: "fn main( {".into() }).err().unwrap();
        assert!(invalid.starts_with("WGSL rejected"), "{invalid}");
    }
}
