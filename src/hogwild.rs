//! Every `unsafe` block of the crate lives here: mapping files into memory, a matrix that many
//! threads update at once without locks (Hogwild, Recht et al. 2011) and prefetch its rows, and
//! one allocator setting.
//!
//! Hogwild deliberately lets threads race on the same rows: updates are sparse, collisions are rare,
//! and a lost or torn update is noise that SGD absorbs. The cost of that choice is confined to this
//! type: readers may see a mix of old and new values within a row, and with more than one thread a
//! run is not bit-reproducible.

use memmap2::{Mmap, MmapMut};
use std::fs::File;
use std::marker::PhantomData;

/// Maps a whole file read-write.
pub fn map_mut(file: &File) -> std::io::Result<MmapMut> {
    // SAFETY: the mapping is only sound while no other process truncates or rewrites the file. Our
    // model files live under temporary names while they are written, and the crate never maps the
    // same file twice; another program modifying it concurrently is outside what we can guard.
    unsafe { MmapMut::map_mut(file) }
}

/// Maps a whole file read-only.
pub fn map(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: as for `map_mut`; a file changed under us by another process would show changed bytes
    // (or SIGBUS if truncated), which readers cannot prevent and which every mmap-based tool shares.
    unsafe { Mmap::map(file) }
}

/// Tells glibc's malloc to keep freed memory for reuse instead of handing it back to the system
/// after every large free. The LM allocates and frees its activations (hundreds of MiB) every
/// step; with the default trim threshold the heap shrinks at each step's end and page-faults back
/// at the next, which cost more system time than the arithmetic (1,987 → about 4,000 tokens/s).
/// Only the LM calls this: GloVe and word2vec promise bounded memory, and do want it returned.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two of glibc's malloc tuning parameters, both valid for any
    // value given here; it touches no Rust-visible memory and is thread-safe in glibc.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// Makes a write past `ulimit -f` fail with EFBIG, which wembed reports as a one-line error with
/// nothing half-written left, instead of the default SIGXFSZ that kills the process silently.
pub fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting SIGXFSZ's disposition to SIG_IGN installs no handler code; it only tells
    // the kernel to return EFBIG from the write instead of sending the signal.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

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
    pub fn new(data: &'a mut [f32], cols: usize) -> Self {
        assert!(cols > 0 && data.len() % cols == 0, "matrix shape mismatch");
        SharedMatrix {
            ptr: data.as_mut_ptr(),
            rows: data.len() / cols,
            cols,
            _borrow: PhantomData,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

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
