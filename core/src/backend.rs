//! Compute backends: a runtime value, not a type parameter (burn 0.22's `Device`).

use std::fmt;

use burn::tensor::Device;

use crate::error::{Error, Result};

/// Where the network runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn-ndarray on the CPU (deprecated upstream in favour of flex; kept as the reference
    /// CPU path).
    #[cfg(feature = "reference")]
    NdArray,
    /// burn-flex on the CPU: pure Rust, SIMD, the faster CPU path.
    #[cfg(feature = "cpu")]
    Flex,
    /// burn-wgpu on the platform's GPU API: Metal on Apple, Vulkan on Android and Linux.
    #[cfg(feature = "gpu")]
    Wgpu,
    /// burn-wgpu through OpenGL ES (Mesa llvmpipe on a machine without a GPU: CI's GPU path).
    #[cfg(feature = "gpu")]
    WgpuGl,
}

/// A backend's device and what runs it.
#[derive(Debug, Clone)]
pub struct BackendDevice {
    /// The burn device.
    pub device: Device,
    /// Adapter name (`cpu` for the CPU backends; the GPU's name, driver and API otherwise).
    pub adapter: String,
    /// Whether a GPU backend landed on a software rasteriser (llvmpipe, lavapipe, SwiftShader).
    pub software: bool,
}

impl Backend {
    /// Every backend compiled into this build.
    pub fn all() -> Vec<Backend> {
        vec![
            #[cfg(feature = "reference")]
            Backend::NdArray,
            #[cfg(feature = "cpu")]
            Backend::Flex,
            #[cfg(feature = "gpu")]
            Backend::Wgpu,
            #[cfg(feature = "gpu")]
            Backend::WgpuGl,
        ]
    }

    /// The CPU backend the SDK prefers: flex (measured 2.3-3.5x faster than ndarray on these
    /// networks), else ndarray.
    pub fn fastest_cpu() -> Option<Backend> {
        ["flex", "ndarray"].into_iter().find_map(Backend::from_name)
    }

    /// Stable lower-case name (`ndarray`, `flex`, `wgpu`, `wgpu-gl`).
    pub fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "reference")]
            Backend::NdArray => "ndarray",
            #[cfg(feature = "cpu")]
            Backend::Flex => "flex",
            #[cfg(feature = "gpu")]
            Backend::Wgpu => "wgpu",
            #[cfg(feature = "gpu")]
            Backend::WgpuGl => "wgpu-gl",
        }
    }

    /// Parses a [`Backend::name`].
    pub fn from_name(name: &str) -> Option<Backend> {
        Backend::all().into_iter().find(|b| b.name() == name)
    }

    /// Whether this backend runs on the GPU.
    pub fn is_gpu(self) -> bool {
        !matches!(self.name(), "ndarray" | "flex")
    }

    /// The burn device.
    pub fn device(self) -> Result<Device> {
        self.open().map(|d| d.device)
    }

    /// The burn device and its adapter, initialising the GPU runtime on first use (once per
    /// process and API; a failure is remembered and returned as
    /// [`Error::BackendUnavailable`]).
    pub fn open(self) -> Result<BackendDevice> {
        let cpu = |device| Ok(BackendDevice { device, adapter: "cpu".into(), software: false });
        match self {
            #[cfg(feature = "reference")]
            #[allow(deprecated)] // burn-ndarray stays as the reference CPU path
            Backend::NdArray => cpu(Device::ndarray()),
            #[cfg(feature = "cpu")]
            Backend::Flex => cpu(Device::flex()),
            #[cfg(feature = "gpu")]
            Backend::Wgpu => gpu::open(&gpu::NATIVE, gpu::NATIVE_API),
            #[cfg(feature = "gpu")]
            Backend::WgpuGl => gpu::open(&gpu::GL, burn::tensor::wgpu::WgpuBackend::Gl),
        }
        .map_err(|reason: String| Error::BackendUnavailable { backend: self.name().into(), reason })
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(all(feature = "gpu", any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows")))]
pub use gpu::set_cache_dir as set_gpu_cache_dir;

#[cfg(feature = "gpu")]
mod gpu {
    use std::sync::OnceLock;

    use burn::tensor::wgpu::{WgpuBackend, wgpu};
    use burn::tensor::{Device, DeviceKind};

    use super::BackendDevice;

    type Cell = OnceLock<Result<BackendDevice, String>>;

    /// The platform's own graphics API. On Apple platforms Metal is named explicitly so that
    /// burn's WGSL goes through naga to MSL (burn's `metal` feature compiles MSL with a
    /// compiler that only validates on macOS, so iOS builds leave it off); Android names
    /// Vulkan; elsewhere wgpu picks.
    pub const NATIVE_API: WgpuBackend = if cfg!(target_vendor = "apple") {
        WgpuBackend::Metal
    } else if cfg!(target_os = "android") {
        WgpuBackend::Vulkan
    } else {
        WgpuBackend::Auto
    };
    pub static NATIVE: Cell = OnceLock::new();
    pub static GL: Cell = OnceLock::new();

    /// The directory [`set_cache_dir`] named, for the runtime configuration.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows"))]
    static CACHE_DIR: std::sync::Mutex<Option<std::path::PathBuf>> = std::sync::Mutex::new(None);

    /// Keeps CubeCL's caches (autotune results and compiled kernels, on disk in builds with
    /// `persistent-gpu-cache`) under `dir`: in the runtime configuration when the GPU runtime
    /// has not started yet (CubeCL sets its cache root when its configuration loads, so a root
    /// set before that alone would be replaced), and by moving the caches already open
    /// otherwise.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows"))]
    pub fn set_cache_dir(dir: std::path::PathBuf) {
        *CACHE_DIR.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(dir.clone());
        cubecl_environment::environment::set_root(dir);
    }

    /// CubeCL's runtime configuration, unless the application set one first: where the
    /// platform has files and a working directory (not iOS), a `cubecl.toml` (searched from
    /// the working directory up) and the `CUBECL_*` environment variables as CubeCL reads
    /// them, and the caches under [`set_cache_dir`]'s directory; everywhere, autotuning at its
    /// `minimal` level where nothing chose another than CubeCL's default (`balanced`).
    /// Measured on an NVIDIA H200 through Vulkan (issue 12): S0's first inference in a new
    /// process 9.5 s at `balanced`, 3.0 s at `minimal`, warm latency within 1.5%. A phone pays
    /// the same tuning on slower cores, at every app launch without a persistent cache.
    fn configure_runtime() {
        use cubecl::config::autotune::AutotuneLevel;
        use cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows"))]
        let mut config = CubeClRuntimeConfig::from_current_dir();
        #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows")))]
        let mut config = CubeClRuntimeConfig::default();
        if matches!(config.autotune.level, AutotuneLevel::Balanced) {
            config.autotune.level = AutotuneLevel::Minimal;
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "macos", target_os = "windows"))]
        let config = {
            if let Some(dir) = CACHE_DIR.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
                config.environment.path = cubecl::config::cache::CacheConfig::Directory(dir);
            }
            config.override_from_env()
        };
        CubeClRuntimeConfig::try_set(config);
    }

    /// Launches CubeCL queues before it submits them to the GPU (its default is 32): more than
    /// a forward pass of any variant launches (L: 144, 146 in `f16`), so that a pass is one
    /// submission, made when its logits are read, where a phone's driver charges for each.
    /// `CUBECL_WGPU_MAX_TASKS` still overrides it.
    const TASKS_PER_SUBMISSION: usize = 256;

    /// Initialises the runtime once; driver panics are caught and reported.
    pub fn open(cell: &Cell, api: WgpuBackend) -> Result<BackendDevice, String> {
        cell.get_or_init(|| {
            configure_runtime();
            let init = std::panic::catch_unwind(|| {
                let options = Device::wgpu_options().device_kind(DeviceKind::DefaultDevice).graphics_api(api);
                let options = match std::env::var_os("CUBECL_WGPU_MAX_TASKS") {
                    Some(_) => options,
                    None => options.tasks_max(TASKS_PER_SUBMISSION),
                };
                options.init_with_setup()
            });
            match init {
                Ok(Ok((device, setup))) => {
                    let info = setup.adapter.get_info();
                    Ok(BackendDevice {
                        device,
                        adapter: format!("{} ({:?}, {})", info.name, info.backend, info.driver_info),
                        software: info.device_type == wgpu::DeviceType::Cpu,
                    })
                }
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("the wgpu runtime panicked while initialising".into()),
            }
        })
        .clone()
    }
}
