//! burn-flex tensors over the kernels' recycled buffers ([`crate::kernels::buffers`]): a
//! kernel's output goes to burn as `Bytes` whose allocation returns to the cache when the last
//! tensor holding it is dropped, instead of to the system allocator.

use std::mem::MaybeUninit;

use burn::backend::Bytes;
use burn_std::{AccessError, AccessPolicy, AllocationController, AllocationProperty};

use crate::kernels::buffers;
use crate::kernels::lanes::Element;

/// A buffer of `f32` from [`buffers::take`], given back on drop.
struct Recycled<E: Element>(Vec<E>);

impl<E: Element> AllocationController for Recycled<E> {
    fn alloc_align(&self) -> usize {
        align_of::<E>()
    }

    fn property(&self) -> AllocationProperty {
        AllocationProperty::Native
    }

    unsafe fn memory_mut(&mut self, _policy: AccessPolicy) -> Result<&mut [MaybeUninit<u8>], AccessError> {
        let bytes = self.0.capacity() * size_of::<E>();
        // SAFETY: the vector's allocation holds `capacity` values; the caller writes only
        // initialised bytes (the trait's contract).
        Ok(unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), bytes) })
    }

    fn memory(&self, _policy: AccessPolicy) -> Result<&[MaybeUninit<u8>], AccessError> {
        let bytes = self.0.capacity() * size_of::<E>();
        // SAFETY: as above, read-only.
        Ok(unsafe { std::slice::from_raw_parts(self.0.as_ptr().cast(), bytes) })
    }
}

impl<E: Element> Drop for Recycled<E> {
    fn drop(&mut self) {
        buffers::give(std::mem::take(&mut self.0));
    }
}

/// `values` as `Bytes` that give the allocation back to [`buffers`] when dropped.
pub fn bytes<E: Element>(values: Vec<E>) -> Bytes {
    let len = values.len() * size_of::<E>();
    // SAFETY: the first `len` bytes are the vector's initialised values.
    unsafe { Bytes::from_controller(Box::new(Recycled(values)), len) }
}
