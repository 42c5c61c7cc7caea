//! The threads a classifier's CPU forward pass runs on.
//!
//! On burn-flex the fused kernels do nearly all the work, on their own spinning pool
//! ([`crate::kernels::parallel`]); burn's remaining ops there (layout glue) are small and run
//! on the caller's thread: in builds without rayon (what apps ship) serially, and where the
//! `reference` feature brings rayon into burn-flex too, through a one-thread rayon pool, so no
//! rayon worker competes with the kernel workers for a core. On burn-ndarray (`reference`),
//! rayon's pool does it all.

use crate::backend::Backend;
use crate::error::{Error, Result};

#[cfg(any(feature = "cpu", feature = "reference"))]
fn cannot_start(threads: usize, e: &dyn std::fmt::Display) -> Error {
    Error::InvalidInput(format!("cannot start {threads} threads: {e}"))
}

#[cfg(feature = "reference")]
fn rayon_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| cannot_start(threads, &e))
}

/// Thread pools for one classifier (none on a GPU backend).
#[derive(Debug, Default)]
pub struct CpuThreads {
    #[cfg(feature = "reference")]
    rayon: Option<rayon::ThreadPool>,
    #[cfg(feature = "cpu")]
    kernels: Option<crate::kernels::parallel::ThreadPool>,
}

impl CpuThreads {
    /// Pools for `backend` with `threads` threads (`None`: one per core).
    pub fn new(backend: Backend, threads: Option<usize>) -> Result<CpuThreads> {
        #[cfg(feature = "cpu")]
        if backend == Backend::Flex {
            let count = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let kernels = crate::kernels::parallel::ThreadPool::new(count).map_err(|e| cannot_start(count, &e))?;
            return Ok(CpuThreads {
                #[cfg(feature = "reference")]
                rayon: Some(rayon_pool(1)?),
                kernels: Some(kernels),
            });
        }
        #[cfg(feature = "reference")]
        if backend == Backend::NdArray {
            return Ok(CpuThreads { rayon: threads.map(rayon_pool).transpose()?, ..CpuThreads::default() });
        }
        // A GPU backend: no CPU pools.
        let _ = (backend, threads);
        Ok(CpuThreads::default())
    }

    /// Threads a forward pass uses (`None` on a GPU backend or on rayon's global pool).
    pub fn count(&self) -> Option<usize> {
        #[cfg(feature = "cpu")]
        if let Some(kernels) = &self.kernels {
            return Some(kernels.threads());
        }
        #[cfg(feature = "reference")]
        return self.rayon.as_ref().map(rayon::ThreadPool::current_num_threads);
        #[cfg(not(feature = "reference"))]
        None
    }

    /// Runs `work` on these pools.
    pub fn run<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        #[cfg(feature = "cpu")]
        let work = || match &self.kernels {
            Some(kernels) => crate::kernels::parallel::install(kernels, work),
            None => work(),
        };
        #[cfg(feature = "reference")]
        if let Some(rayon) = &self.rayon {
            return rayon.install(work);
        }
        work()
    }
}
