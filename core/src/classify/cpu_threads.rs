//! The threads a classifier's CPU forward pass runs on.
//!
//! On burn-flex the fused kernels do nearly all the work, on their own spinning pool
//! ([`crate::kernels::parallel`]); burn's remaining ops there (layout glue) are small and run
//! on the caller's thread through a one-thread rayon pool, so no rayon worker competes with the
//! kernel workers for a core. On burn-ndarray, rayon's pool does it all.

use crate::backend::Backend;
use crate::error::{Error, Result};

/// Thread pools for one classifier (none on a GPU backend).
#[derive(Debug, Default)]
pub struct CpuThreads {
    rayon: Option<rayon::ThreadPool>,
    #[cfg(feature = "cpu")]
    kernels: Option<crate::kernels::parallel::ThreadPool>,
}

impl CpuThreads {
    /// Pools for `backend` with `threads` threads (`None`: one per core).
    pub fn new(backend: Backend, threads: Option<usize>) -> Result<CpuThreads> {
        if backend.is_gpu() {
            return Ok(CpuThreads::default());
        }
        let cannot_start = |threads: usize, e: &dyn std::fmt::Display| Error::InvalidInput(format!("cannot start {threads} threads: {e}"));
        #[cfg(feature = "cpu")]
        if backend == Backend::Flex {
            let count = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let kernels = crate::kernels::parallel::ThreadPool::new(count).map_err(|e| cannot_start(count, &e))?;
            let rayon = rayon::ThreadPoolBuilder::new().num_threads(1).build().map_err(|e| cannot_start(1, &e))?;
            return Ok(CpuThreads { rayon: Some(rayon), kernels: Some(kernels) });
        }
        let rayon = match threads {
            Some(count) => Some(rayon::ThreadPoolBuilder::new().num_threads(count).build().map_err(|e| cannot_start(count, &e))?),
            None => None,
        };
        Ok(CpuThreads { rayon, ..CpuThreads::default() })
    }

    /// Threads a forward pass uses (`None` on a GPU backend or on rayon's global pool).
    pub fn count(&self) -> Option<usize> {
        #[cfg(feature = "cpu")]
        if let Some(kernels) = &self.kernels {
            return Some(kernels.threads());
        }
        self.rayon.as_ref().map(rayon::ThreadPool::current_num_threads)
    }

    /// Runs `work` on these pools.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        #[cfg(feature = "cpu")]
        let work = || match &self.kernels {
            Some(kernels) => crate::kernels::parallel::install(kernels, work),
            None => work(),
        };
        match &self.rayon {
            Some(rayon) => rayon.install(work),
            None => work(),
        }
    }
}
