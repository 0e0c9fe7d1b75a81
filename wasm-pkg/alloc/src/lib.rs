//! The allocator of iamlet's WebAssembly builds (the component and the npm package): a free list per
//! power-of-two size class in front of the system allocator (dlmalloc on `wasm32-unknown-unknown`).
//!
//! Every decision builds and drops a request, a dozen small strings and maps, and dlmalloc's general
//! bookkeeping (bins, splitting, coalescing) was 15% of a component call. With classes, a small
//! allocation is a pop and a free a push (a component call 2.64 → 2.41 µs, BENCHMARKS.md). Small
//! blocks are never handed back to dlmalloc: a module keeps its peak of them per class for reuse,
//! which the policy sets it compiles dwarf. Large or over-aligned allocations go straight to the
//! system allocator.
//!
//! Each WebAssembly build installs it (it is `Sync`, as a global allocator must be, only on
//! single-threaded WebAssembly: without the `atomics` target feature):
//!
//! ```ignore
//! #[cfg(target_arch = "wasm32")]
//! #[global_allocator]
//! static ALLOCATOR: iamlet_wasm_alloc::SizeClasses = iamlet_wasm_alloc::SizeClasses::new();
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Classes of 16, 32, …, 1024 bytes, every block 16-aligned.
const CLASSES: usize = 7;
const MIN: usize = 16;
const MAX: usize = MIN << (CLASSES - 1);

/// The allocator; the free lists thread through the free blocks themselves.
///
/// Not `Sync` outside single-threaded WebAssembly, so it cannot be a global allocator natively:
///
/// ```compile_fail
/// fn shared<T: Sync>() {}
/// shared::<iamlet_wasm_alloc::SizeClasses>();
/// ```
pub struct SizeClasses {
    free: [Cell<*mut u8>; CLASSES],
}

// SAFETY: a `#[global_allocator]` static must be `Sync`, and the free lists are plain `Cell`s that
// `alloc` and `dealloc` read and write without synchronization. That is sound only where no two
// threads can ever call them: WebAssembly without the `atomics` target feature, whose modules have no
// shared memory and so exactly one thread (`wasm32-unknown-unknown`, the target of the npm package
// and of the component). Everywhere else (native, or wasm with threads) the type is
// not `Sync`: installing it as the global allocator there fails to compile, and the tests use it as a
// local value on one thread.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
unsafe impl Sync for SizeClasses {}

impl std::fmt::Debug for SizeClasses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SizeClasses").finish_non_exhaustive()
    }
}

impl Default for SizeClasses {
    fn default() -> Self {
        Self::new()
    }
}

impl SizeClasses {
    /// Empty free lists: every class starts by asking the system allocator.
    pub const fn new() -> Self {
        SizeClasses {
            free: [const { Cell::new(std::ptr::null_mut()) }; CLASSES],
        }
    }
}

/// The class of a layout, or `None` when the system allocator takes it.
fn class(size: usize, align: usize) -> Option<usize> {
    if size > MAX || align > MIN {
        return None;
    }
    let rounded = size.max(MIN).next_power_of_two();
    Some(rounded.trailing_zeros() as usize - MIN.trailing_zeros() as usize)
}

fn block(class: usize) -> Layout {
    // In range by construction: at most 1024 bytes, a power-of-two alignment.
    Layout::from_size_align(MIN << class, MIN).unwrap_or(Layout::new::<[u128; 1]>())
}

// SAFETY: every block handed out is at least the layout's size (its class's size) and 16-aligned
// (blocks come from the system allocator with 16-byte alignment; layouts wanting more bypass the
// classes); a block is on at most one free list, and only while nobody holds it.
unsafe impl GlobalAlloc for SizeClasses {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class(layout.size(), layout.align()) else {
            // SAFETY: the caller's layout, passed on.
            return unsafe { System.alloc(layout) };
        };
        let head = self.free[c].get();
        if head.is_null() {
            // SAFETY: a class's block layout has a non-zero size.
            return unsafe { System.alloc(block(c)) };
        }
        // SAFETY: a free block's first word is the next free block of its class (written by
        // `dealloc`), and every block is at least 16 bytes and 16-aligned.
        self.free[c].set(unsafe { head.cast::<*mut u8>().read() });
        head
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(c) = class(layout.size(), layout.align()) else {
            // SAFETY: a layout outside the classes was allocated by the system allocator.
            return unsafe { System.dealloc(ptr, layout) };
        };
        // SAFETY: the block is the caller's to give back, at least 16 bytes and 16-aligned.
        unsafe { ptr.cast::<*mut u8>().write(self.free[c].get()) };
        self.free[c].set(ptr);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = class(layout.size(), layout.align());
        let new = class(new_size, layout.align());
        match (old, new) {
            // Growing a string within its class: the block already has the room.
            (Some(a), Some(b)) if a == b => ptr,
            // SAFETY: both sizes outside the classes: the block is the system allocator's.
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            _ => {
                let Ok(to) = Layout::from_size_align(new_size, layout.align()) else {
                    return std::ptr::null_mut();
                };
                // SAFETY: `to` is a valid layout of non-zero size (`realloc`'s contract).
                let moved = unsafe { self.alloc(to) };
                if !moved.is_null() {
                    // SAFETY: both blocks hold at least the smaller size and are distinct; the old
                    // block is the caller's, given back once.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn sizes_fall_in_power_of_two_classes() {
        assert_eq!(class(1, 1), Some(0));
        assert_eq!(class(16, 8), Some(0));
        assert_eq!(class(17, 1), Some(1));
        assert_eq!(class(1024, 16), Some(6));
        assert_eq!(class(1025, 1), None);
        assert_eq!(class(8, 32), None);
    }

    #[test]
    fn freed_blocks_are_reused_and_data_survives_realloc() {
        let a = SizeClasses::new();
        // SAFETY: non-zero layouts; each block is given back once, with the layout it has then.
        unsafe {
            let l = Layout::from_size_align(24, 8).unwrap();
            let p = a.alloc(l);
            let q = a.alloc(l);
            assert_ne!(p, q);
            a.dealloc(p, l);
            assert_eq!(a.alloc(l), p, "the freed block comes back first");
            // Same class: the block stays; across classes and to the system: the bytes move with it.
            p.copy_from_nonoverlapping(b"0123456789abcdef0123456789".as_ptr(), 24);
            assert_eq!(a.realloc(p, l, 30), p);
            let l30 = Layout::from_size_align(30, 8).unwrap();
            let big = a.realloc(p, l30, 4000);
            assert_eq!(
                std::slice::from_raw_parts(big, 24),
                &b"0123456789abcdef01234567"[..]
            );
            let l4000 = Layout::from_size_align(4000, 8).unwrap();
            let small = a.realloc(big, l4000, 10);
            assert_eq!(std::slice::from_raw_parts(small, 10), b"0123456789");
            a.dealloc(small, Layout::from_size_align(10, 8).unwrap());
            a.dealloc(q, l);
            // Over-aligned layouts bypass the classes.
            let wide = Layout::from_size_align(64, 64).unwrap();
            let w = a.alloc(wide);
            assert_eq!(w as usize % 64, 0);
            a.dealloc(w, wide);
        }
    }
}
