//! Large activation buffers recycled across forward passes (each [`Element`] type has its own).
//! The system allocator serves blocks of hundreds of KiB by mapping fresh pages (glibc above
//! its mmap threshold, which it moves with the history of frees; Android's Scudo likewise), so the kernel that writes one first
//! page-faults and zeroes every page: 4% of S0 at one thread in `perf`, and 13% in a build
//! whose load-time allocations left glibc's threshold lower (the stage-1 downsampling then took
//! 2.3x as long). Buffers come back here when their tensor is dropped ([`crate::fused`]'s
//! burn-flex glue) or their kernel is done, and the next pass takes them again: a
//! steady-state forward pass maps no new pages, as with ONNX Runtime's CPU arena.

use super::lanes::Element;

/// Smaller buffers go to the system allocator, whose heap hands a block just freed straight back
/// while it is still in cache (recycling every buffer from 64 KiB up measured 5-10% slower on
/// S0's stages 2 and 3). From 384 KiB up: the 56x56 and 28x28 maps, the stride-2 depthwise
/// copies.
const MIN_BYTES: usize = 384 * 1024;
/// The most the cache keeps of one element type (128 MiB): more than the activations of a
/// pass of L at batch 4; a buffer given back beyond it is freed. (Each type has its own free
/// buffers, [`Element::free_buffers`], each empty with its capacity.)
const MAX_CACHED_BYTES: usize = 128 * 1024 * 1024;

/// An empty vector with room for `len` values: the free buffer of that capacity given back
/// last when the cache has one (its lines are the likeliest still in cache: taking the oldest
/// instead made every stage of S0 20-30% slower), else a new allocation.
pub fn take<E: Element>(len: usize) -> Vec<E> {
    if len * size_of::<E>() >= MIN_BYTES {
        let mut free = E::free_buffers().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = free.iter().rposition(|buffer| buffer.capacity() == len) {
            return free.remove(i);
        }
    }
    Vec::with_capacity(len)
}

/// `len` zeros in a buffer from [`take`].
pub fn zeroed<E: Element>(len: usize) -> Vec<E> {
    let mut values = take(len);
    values.resize(len, E::ZERO);
    values
}

/// Gives `values`' allocation back for a later [`take`] (or frees it: small, or the cache full).
pub fn give<E: Element>(mut values: Vec<E>) {
    if values.capacity() * size_of::<E>() < MIN_BYTES {
        return;
    }
    values.clear();
    let mut free = E::free_buffers().lock().unwrap_or_else(|e| e.into_inner());
    let cached: usize = free.iter().map(Vec::capacity).sum();
    if (cached + values.capacity()) * size_of::<E>() <= MAX_CACHED_BYTES {
        free.push(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A given-back buffer is taken again for its size (same allocation), zeroed on request;
    /// small ones are not cached. (The cache is global: other tests running concurrently may
    /// take the same sizes, so the sizes here are ones no kernel uses.)
    #[test]
    fn buffers_are_reused_by_size() {
        let len = MIN_BYTES / 4 + 7;
        let mut values = take::<f32>(len);
        values.extend((0..len).map(|i| i as f32));
        let address = values.as_ptr();
        give(values);
        let again = zeroed::<f32>(len);
        assert_eq!(again.as_ptr(), address);
        assert!(again.len() == len && again.iter().all(|&v| v == 0.0));
        let small = take::<f32>(MIN_BYTES / 4 - 1);
        assert!(small.capacity() >= MIN_BYTES / 4 - 1);
        give(small);
        assert!(f32::free_buffers().lock().unwrap().iter().all(|b| b.capacity() >= MIN_BYTES / 4));
    }
}
