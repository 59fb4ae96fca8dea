//! The .npy matrix store: header layout, atomic creation, Hogwild sharing, corrupt files.

use crate::common::*;
use wembed::store::{npy_header, parse_npy_header, MatrixFile, NpyMatrix};

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
    let d = tmp();
    let path = p(&d, "input.npy");
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
    let d = tmp();
    let path = p(&d, "input.npy");
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
    let d = tmp();
    let mut m = MatrixFile::create(&p(&d, "m.npy"), 64, 16).unwrap();
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
    let d = tmp();
    let path = p(&d, "x.npy");
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
        (swap("<f4", "<f8"), "not little-endian float32 or float16"),
        (swap("(3, 2)", "(6,)  "), "2-D"),
        (swap("False", "True "), "Fortran"),
        (good[..9].to_vec(), "bad magic"),
    ];
    for (bytes, needle) in cases {
        write(&path, &bytes);
        let e = NpyMatrix::open(&path).err().expect("must fail").to_string();
        assert!(e.contains(needle) && e.contains("x.npy"), "{e}");
    }
}

#[test]
fn numpy_maps_the_file_without_conversion() {
    let d = tmp();
    let path = p(&d, "m.npy");
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
