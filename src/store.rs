//! Memory-mapped matrices stored as `.npy` files.
//!
//! Why `.npy`: `numpy.load(path, mmap_mode="r")` maps it with no conversion, candle reads it
//! (`Tensor::read_npy`), and the format is a short text header followed by raw data, so the file we
//! train in place is already the file users load. The header is NPY v1.0, padded with spaces so the
//! data starts at byte 64 (cache-line aligned, since mappings start on a page); data is
//! little-endian f32 (`<f4`) in C order.

use crate::atomic::TempPath;
use crate::error::{Error, Result};
use crate::hogwild::SharedMatrix;
use memmap2::{Mmap, MmapMut};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Gives the file `len` bytes of real disk blocks, not a sparse hole: a mapping that writes into a
/// hole the disk cannot fill dies of SIGBUS mid-training, while a reservation that does not fit
/// fails here, before any work, as a one-line "No space left on device". Filesystems without
/// `fallocate` get the zeros written instead.
fn reserve(file: &File, len: u64) -> std::io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {
            use std::io::Write;
            file.set_len(0)?;
            let zeros = vec![0u8; 1 << 20];
            let mut w = std::io::BufWriter::new(file);
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                w.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            w.flush()
        }
        Err(e) => Err(e.into()),
    }
}
/// Data offset: header padded to one 64-byte line for short shapes, more lines for long ones.
const ALIGN: usize = 64;

#[cfg(target_endian = "big")]
compile_error!("the .npy matrices are little-endian f32, mapped without conversion");

/// The NPY v1.0 header for a `rows × cols` little-endian f32 C-order matrix.
pub fn npy_header(rows: usize, cols: usize) -> Vec<u8> {
    npy_header_typed(rows, cols, Dtype::F32)
}

/// The NPY v1.0 header for a `rows × cols` little-endian C-order matrix of `dtype`.
pub fn npy_header_typed(rows: usize, cols: usize, dtype: Dtype) -> Vec<u8> {
    let descr = dtype.descr();
    let dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    // magic(6) + version(2) + header_len(2) + dict + padding + '\n', a multiple of ALIGN.
    let unpadded = MAGIC.len() + 4 + dict.len() + 1;
    let total = unpadded.div_ceil(ALIGN) * ALIGN;
    let header_len = total - MAGIC.len() - 4;
    let mut h = Vec::with_capacity(total);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&[1, 0]);
    h.extend_from_slice(&(header_len as u16).to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h
}

/// Element types wembed reads and writes: float32, and float16 for compact exports.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    /// IEEE binary32, what training uses.
    F32,
    /// IEEE binary16: half the size, about three significant digits.
    F16,
    /// IEEE binary64, numpy's default: read and converted to f32, never trained in, and not an
    /// export choice (no consumer of vectors needs the width).
    #[value(skip)]
    F64,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
            Dtype::F64 => 8,
        }
    }

    fn descr(self) -> &'static str {
        match self {
            Dtype::F32 => "<f4",
            Dtype::F16 => "<f2",
            Dtype::F64 => "<f8",
        }
    }
}

/// Shape, element type and data offset of an `.npy` file holding a 2-D C-order array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NpyLayout {
    pub rows: usize,
    pub cols: usize,
    pub offset: usize,
    pub dtype: Dtype,
}

/// Parses an NPY header (v1, v2 or v3) and checks it describes a 2-D little-endian f32 or f16
/// C-order matrix that fills exactly `file_len` bytes.
pub fn parse_npy_header(bytes: &[u8], file_len: u64) -> std::result::Result<NpyLayout, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not an .npy file (bad magic)".into());
    }
    let (len_bytes, start) = match bytes[6] {
        1 => (2, 10),
        2 | 3 => (4, 12),
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if bytes.len() < start {
        return Err("truncated .npy header".into());
    }
    let header_len = if len_bytes == 2 {
        u16::from_le_bytes([bytes[8], bytes[9]]) as usize
    } else {
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    let offset = start + header_len;
    if bytes.len() < offset {
        return Err("truncated .npy header".into());
    }
    let dict = std::str::from_utf8(&bytes[start..offset]).map_err(|_| "header is not text")?;
    let field = |key: &str| -> std::result::Result<&str, String> {
        let k = format!("'{key}':");
        let at = dict
            .find(&k)
            .ok_or_else(|| format!("header lacks '{key}'"))?;
        Ok(dict[at + k.len()..].trim_start())
    };
    let descr = field("descr")?;
    let dtype = if descr.starts_with("'<f4'") {
        Dtype::F32
    } else if descr.starts_with("'<f2'") {
        Dtype::F16
    } else if descr.starts_with("'<f8'") {
        Dtype::F64
    } else {
        return Err(format!(
            "dtype {} is not little-endian float32, float16 or float64",
            descr.split(',').next().unwrap_or("?")
        ));
    };
    if !field("fortran_order")?.starts_with("False") {
        return Err("Fortran-order arrays are not supported".into());
    }
    let shape = field("shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or("malformed shape")?;
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad dimension {s:?}"))
        })
        .collect::<std::result::Result<_, _>>()?;
    let [rows, cols] = dims[..] else {
        return Err(format!("expected a 2-D array, found shape ({inner})"));
    };
    let need = rows
        .checked_mul(cols)
        .and_then(|n| n.checked_mul(dtype.size()))
        .and_then(|n| n.checked_add(offset))
        .ok_or("shape overflows")?;
    if (need as u64) != file_len {
        return Err(format!(
            "file is {file_len} bytes but shape ({rows}, {cols}) needs {need}"
        ));
    }
    if offset % dtype.size() != 0 {
        return Err("data offset is not aligned to the element size".into());
    }
    Ok(NpyLayout {
        rows,
        cols,
        offset,
        dtype,
    })
}

/// A matrix file open for writing through a mapping: created under a temporary name, renamed into
/// place by [`MatrixFile::finish`], removed if dropped unfinished.
pub struct MatrixFile {
    mmap: MmapMut,
    file: File,
    layout: NpyLayout,
    tmp: Option<TempPath>,
    path: PathBuf,
}

impl MatrixFile {
    /// Creates a zero-filled `rows × cols` matrix at a temporary path beside `path`.
    pub fn create(path: &Path, rows: usize, cols: usize) -> Result<MatrixFile> {
        Self::create_in(TempPath::for_target(path), path, rows, cols)
    }

    /// As `create`, but under the stable name `.NAME.partial`, kept if the run dies, so that a
    /// checkpointed run can reopen it with [`MatrixFile::open_partial`].
    pub fn create_partial(path: &Path, rows: usize, cols: usize) -> Result<MatrixFile> {
        Self::create_in(TempPath::partial(path), path, rows, cols)
    }

    /// Reopens the partial file of `path` left by an interrupted run; it must hold a
    /// `rows × cols` float32 matrix. `finish` renames it into place.
    pub fn open_partial(path: &Path, rows: usize, cols: usize) -> Result<MatrixFile> {
        let tmp = TempPath::partial(path);
        let mut m = Self::open_rw(tmp.path())?;
        if (m.layout.rows, m.layout.cols, m.layout.dtype) != (rows, cols, Dtype::F32) {
            return Err(Error::bad_file(
                tmp.path(),
                format!(
                    "holds a ({}, {}) matrix, the checkpoint expects float32 ({rows}, {cols})",
                    m.layout.rows, m.layout.cols
                ),
            ));
        }
        m.tmp = Some(tmp);
        m.path = path.to_path_buf();
        Ok(m)
    }

    fn create_in(tmp: TempPath, path: &Path, rows: usize, cols: usize) -> Result<MatrixFile> {
        if rows == 0 || cols == 0 {
            return Err(Error::Invalid(format!(
                "matrix shape ({rows}, {cols}) is empty"
            )));
        }
        let header = npy_header(rows, cols);
        let len = rows
            .checked_mul(cols)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(header.len()))
            .ok_or_else(|| Error::Invalid(format!("matrix shape ({rows}, {cols}) too large")))?;
        let io = |e| Error::io(path, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(tmp.path())
            .map_err(io)?;
        reserve(&file, len as u64).map_err(io)?;
        let mut mmap = map_mut(&file).map_err(io)?;
        mmap[..header.len()].copy_from_slice(&header);
        Ok(MatrixFile {
            mmap,
            file,
            layout: NpyLayout {
                rows,
                cols,
                offset: header.len(),
                dtype: Dtype::F32,
            },
            tmp: Some(tmp),
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing, complete matrix file read-write (to continue training it).
    pub fn open_rw(path: &Path) -> Result<MatrixFile> {
        let io = |e| Error::io(path, e);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(io)?;
        let mmap = map_mut(&file).map_err(io)?;
        let layout =
            parse_npy_header(&mmap, mmap.len() as u64).map_err(|m| Error::bad_file(path, m))?;
        Ok(MatrixFile {
            mmap,
            file,
            layout,
            tmp: None,
            path: path.to_path_buf(),
        })
    }

    #[cfg(test)]
    fn data(&self) -> &[f32] {
        bytemuck::cast_slice(&self.mmap[self.layout.offset..])
    }

    pub fn data_mut(&mut self) -> &mut [f32] {
        bytemuck::cast_slice_mut(&mut self.mmap[self.layout.offset..])
    }

    /// A lock-free view for worker threads.
    pub fn shared(&mut self) -> SharedMatrix<'_> {
        let cols = self.layout.cols;
        // SAFETY: the view borrows the mapping mutably for its whole life, so no other code reads
        // or writes it meanwhile; the trainers that share it among threads are the Hogwild
        // workers `SharedMatrix::new` describes, and none holds two `row_mut` of one row.
        unsafe { SharedMatrix::new(self.data_mut(), cols) }
    }

    /// Writes dirty pages to disk: a checkpoint.
    pub fn flush(&self) -> Result<()> {
        self.mmap.flush().map_err(|e| Error::io(&self.path, e))
    }

    /// Flushes, syncs and moves the file to its final name.
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        self.file.sync_all().map_err(|e| Error::io(&self.path, e))?;
        match self.tmp.take() {
            Some(tmp) => tmp.persist(),
            None => Ok(()),
        }
    }
}

/// A read-only mapped `.npy` matrix.
pub struct NpyMatrix {
    mmap: Mmap,
    layout: NpyLayout,
    path: std::path::PathBuf,
}

impl NpyMatrix {
    pub fn open(path: &Path) -> Result<NpyMatrix> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mmap = map(&file).map_err(|e| Error::io(path, e))?;
        let layout =
            parse_npy_header(&mmap, mmap.len() as u64).map_err(|m| Error::bad_file(path, m))?;
        if layout.dtype != Dtype::F32 {
            return Err(Error::bad_file(
                path,
                format!(
                    "{:?} matrix, not float32: load it through vectors::Embeddings",
                    layout.dtype
                ),
            ));
        }
        Ok(NpyMatrix {
            mmap,
            layout,
            path: path.to_path_buf(),
        })
    }

    /// The mapped file: a client may map it too (numpy's `mmap_mode`) instead of copying.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn rows(&self) -> usize {
        self.layout.rows
    }

    pub fn cols(&self) -> usize {
        self.layout.cols
    }

    pub fn data(&self) -> &[f32] {
        bytemuck::cast_slice(&self.mmap[self.layout.offset..])
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data()[i * self.layout.cols..(i + 1) * self.layout.cols]
    }
}

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

/// The .npy matrix store: header layout, atomic creation, Hogwild sharing, corrupt files.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_npy_v1_with_data_at_64_bytes() {
        for (r, c) in [(1, 1), (10, 100), (2_000_000, 300), (123_456_789, 1024)] {
            let h = npy_header(r, c);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
            assert_eq!(u16::from_le_bytes([h[8], h[9]]) as usize + 10, h.len());
            assert_eq!(*h.last().unwrap(), b'\n');
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.starts_with(&format!(
                "{{'descr': '<f4', 'fortran_order': False, 'shape': ({r}, {c}), }}"
            )));
            let layout = parse_npy_header(&h, (h.len() + r * c * 4) as u64).unwrap();
            assert_eq!((layout.rows, layout.cols, layout.offset), (r, c, h.len()));
        }
    }

    #[test]
    fn created_under_temporary_name_then_renamed() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("input.npy");
        let mut m = MatrixFile::create(&path, 5, 3).unwrap();
        assert!(!path.exists(), "final name must not exist before finish");
        for (i, x) in m.data_mut().iter_mut().enumerate() {
            *x = i as f32 * 0.5;
        }
        m.finish().unwrap();
        let r = NpyMatrix::open(&path).unwrap();
        assert_eq!((r.rows(), r.cols()), (5, 3));
        assert_eq!(r.row(4), [6.0, 6.5, 7.0]);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        // Reopened read-write, changed, finished again in place.
        let mut m = MatrixFile::open_rw(&path).unwrap();
        m.data_mut()[0] = 42.0;
        m.finish().unwrap();
        assert_eq!(NpyMatrix::open(&path).unwrap().row(0)[0], 42.0);
    }

    #[test]
    fn unfinished_matrix_leaves_no_file_and_keeps_the_old_one() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("input.npy");
        let mut m = MatrixFile::create(&path, 2, 2).unwrap();
        m.data_mut().fill(1.0);
        m.finish().unwrap();
        let before = std::fs::read(&path).unwrap();
        let mut m = MatrixFile::create(&path, 2, 2).unwrap();
        m.data_mut().fill(9.0);
        drop(m);
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn hogwild_threads_update_disjoint_rows() {
        let d = tempfile::tempdir().unwrap();
        let mut m = MatrixFile::create(&d.path().join("m.npy"), 64, 16).unwrap();
        {
            let shared = m.shared();
            std::thread::scope(|s| {
                for t in 0..4 {
                    let shared = &shared;
                    s.spawn(move || {
                        for step in 0..1000 {
                            let row = shared.row_mut(t * 16 + step % 16);
                            for x in row.iter_mut() {
                                *x += 1.0;
                            }
                        }
                    });
                }
            });
        }
        assert!(m
            .data()
            .chunks(16)
            .all(|r| r.iter().all(|&x| x == 62.0 || x == 63.0)));
        assert_eq!(m.data().iter().sum::<f32>(), 4.0 * 1000.0 * 16.0);
    }

    #[test]
    fn corrupt_npy_files_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("x.npy");
        let good = {
            let mut v = npy_header(3, 2);
            v.extend(std::iter::repeat_n(0u8, 24));
            v
        };
        let swap = |from: &str, to: &str| -> Vec<u8> {
            let at = good
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap();
            let mut v = good.clone();
            v[at..at + from.len()].copy_from_slice(to.as_bytes());
            v
        };
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"hello world, not npy".to_vec(), "bad magic"),
            (good[..good.len() - 4].to_vec(), "needs"),
            (good.iter().copied().chain([0, 0, 0, 0]).collect(), "needs"),
            (
                swap("<f4", "<i4"),
                "not little-endian float32, float16 or float64",
            ),
            (swap("(3, 2)", "(6,)  "), "2-D"),
            (swap("False", "True "), "Fortran"),
            (good[..9].to_vec(), "bad magic"),
        ];
        for (bytes, needle) in cases {
            std::fs::write(&path, &bytes).unwrap();
            let e = NpyMatrix::open(&path).err().expect("must fail").to_string();
            assert!(e.contains(needle) && e.contains("x.npy"), "{e}");
        }
    }

    #[test]
    fn numpy_maps_the_file_without_conversion() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("m.npy");
        let mut m = MatrixFile::create(&path, 3, 4).unwrap();
        for (i, x) in m.data_mut().iter_mut().enumerate() {
            *x = i as f32 - 5.5;
        }
        m.finish().unwrap();
        let script = "import numpy as np, sys\n\
    a = np.load(sys.argv[1], mmap_mode='r')\n\
    assert a.dtype == np.float32 and a.shape == (3, 4) and a.flags['C_CONTIGUOUS'], (a.dtype, a.shape)\n\
    assert a.offset % 64 == 0, a.offset\n\
    assert (np.asarray(a).ravel() == np.arange(12, dtype=np.float32) - 5.5).all()\n\
    print('ok')";
        let out = std::process::Command::new("python3")
            .args(["-c", script, path.to_str().unwrap()])
            .output()
            .expect("python3 is needed for the interop tests (.ci/run installs numpy)");
        assert!(
            out.status.success(),
            "numpy check failed (is numpy installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
