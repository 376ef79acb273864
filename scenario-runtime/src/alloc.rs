//! Bytes allocated and freed, counted per thread: the SDK path reports what the tracer
//! allocates per span on the calling thread, and the `trace_memory` example the bytes live per
//! trace in flight. Counting needs a wrapper around the process's allocator, installed by the
//! binary (`#[global_allocator] static A: Counting<System> = Counting(System);`); implementing
//! `GlobalAlloc` is `unsafe` by the trait's contract, which is why this module allows it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::thread::LocalKey;

thread_local! {
    // `const` initialisers with no destructor: reading them never allocates, so the allocator
    // can use them.
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    static FREED: Cell<u64> = const { Cell::new(0) };
}

/// The allocator `A`, with every allocation and free counted on the calling thread.
pub struct Counting<A>(pub A);

fn add(counter: &'static LocalKey<Cell<u64>>, bytes: usize) {
    // A thread being torn down may have lost its counters already; its last frees go uncounted.
    let _ = counter.try_with(|c| c.set(c.get().wrapping_add(bytes as u64)));
}

// SAFETY: every call is passed unchanged to `A`, which upholds the contract; the counters
// only read the layout.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(&ALLOCATED, layout.size());
        // SAFETY: the caller's guarantees for `alloc` are passed on.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(&ALLOCATED, layout.size());
        // SAFETY: as for `alloc`.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(&FREED, layout.size());
        // SAFETY: the caller's guarantees for `dealloc` are passed on.
        unsafe { self.0.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a free of the old block and an allocation of the new one, as jemalloc's
        // `thread.allocated` and `thread.deallocated` count it.
        add(&FREED, layout.size());
        add(&ALLOCATED, new_size);
        // SAFETY: the caller's guarantees for `realloc` are passed on.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// Bytes allocated so far by the calling thread (0 unless `Counting` is the global allocator).
pub fn thread_allocated() -> u64 {
    ALLOCATED.try_with(Cell::get).unwrap_or(0)
}

/// Bytes freed so far by the calling thread (0 unless `Counting` is the global allocator).
pub fn thread_freed() -> u64 {
    FREED.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn counts_the_calling_threads_bytes() {
        let counting = Counting(System);
        let (allocated, freed) = (thread_allocated(), thread_freed());
        let layout = Layout::from_size_align(1000, 8).expect("valid layout");
        // SAFETY: the layout has a non-zero size; the block is freed with the layout it has.
        unsafe {
            let block = counting.alloc(layout);
            assert!(!block.is_null());
            let block = counting.realloc(block, layout, 3000);
            assert!(!block.is_null());
            counting.dealloc(block, Layout::from_size_align(3000, 8).expect("valid layout"));
        }
        // The test harness's own allocator is not `Counting`: only the calls above count.
        assert_eq!(thread_allocated() - allocated, 4000);
        assert_eq!(thread_freed() - freed, 4000);
        // Another thread's counters are its own.
        std::thread::spawn(|| {
            assert_eq!((thread_allocated(), thread_freed()), (0, 0));
        })
        .join()
        .expect("thread ran");
    }
}
