//! The matrix that many threads update at once without locks (Hogwild, Recht et al. 2011).
//!
//! Hogwild deliberately lets threads race on the same rows: updates are sparse, collisions are rare,
//! and a lost or torn update is noise that SGD absorbs. The cost of that choice is confined to this
//! type: readers may see a mix of old and new values within a row, and with more than one thread a
//! run is not bit-reproducible.

use std::marker::PhantomData;

/// A row-major `rows × cols` f32 matrix shared by worker threads for lock-free updates.
pub struct SharedMatrix<'a> {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    _borrow: PhantomData<&'a mut [f32]>,
}

// SAFETY: the matrix is a view of a `&mut [f32]` held for `'a`, so nothing outside the worker threads
// touches it; concurrent access between workers is the Hogwild contract documented above.
unsafe impl Send for SharedMatrix<'_> {}
// SAFETY: see `Send`.
unsafe impl Sync for SharedMatrix<'_> {}

impl<'a> SharedMatrix<'a> {
    /// Borrows `data` exclusively for the matrix's lifetime. Panics if `data.len() != rows * cols`,
    /// a programming error, never an input error.
    ///
    /// # Safety
    ///
    /// The matrix hands out `&mut` rows from `&self` to every thread that shares it: the caller
    /// takes on the Hogwild contract that no other code reads or writes `data` while the matrix
    /// lives, that no thread holds two `row_mut` of one row at once, and that the only aliasing
    /// left is workers racing on the same row's floats, which SGD tolerates as noise.
    pub unsafe fn new(data: &'a mut [f32], cols: usize) -> Self {
        assert!(cols > 0 && data.len() % cols == 0, "matrix shape mismatch");
        SharedMatrix {
            ptr: data.as_mut_ptr(),
            rows: data.len() / cols,
            cols,
            _borrow: PhantomData,
        }
    }

    /// Rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i` for reading. Panics when `i` is out of range.
    #[inline]
    pub fn row(&self, i: usize) -> &[f32] {
        assert!(i < self.rows);
        // SAFETY: `i < rows`, so the slice lies inside the borrowed buffer. Other threads may write
        // to it meanwhile: that is the Hogwild race, accepted by design (see the module docs).
        unsafe { std::slice::from_raw_parts(self.ptr.add(i * self.cols), self.cols) }
    }

    /// Asks the CPU to start loading row `i` into cache, so that a row chosen at random (a
    /// negative sample) arrives while other work is done instead of stalling the loop that uses it.
    /// Only a hint: out-of-range rows and other architectures do nothing.
    #[inline(always)]
    pub fn prefetch(&self, i: usize) {
        #[cfg(target_arch = "x86_64")]
        if i < self.rows {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // 16 f32 per 64-byte cache line.
            for k in (0..self.cols).step_by(16) {
                // SAFETY: `i < rows` and `k < cols`, so the address lies inside the borrowed buffer;
                // a prefetch never faults and changes no memory, only what the cache holds.
                unsafe {
                    _mm_prefetch::<_MM_HINT_T0>(self.ptr.add(i * self.cols + k) as *const i8)
                };
            }
        }
    }

    /// Row `i` for updating in place. Panics when `i` is out of range.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub fn row_mut(&self, i: usize) -> &mut [f32] {
        assert!(i < self.rows);
        // SAFETY: bounds as in `row`. Two threads may hold the same row at once; Hogwild accepts the
        // lost updates. A caller must not hold two `row_mut` of the same row in one thread.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(i * self.cols), self.cols) }
    }
}
