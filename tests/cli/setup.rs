//! A fresh clone with only the Rust toolchain: the build pulls in no system library, the plot
//! still has its text, and the quick start leaves the checkout clean.

use std::process::Command;

#[test]
fn build_needs_no_system_library() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-e",
            "normal,build",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    for needle in ["fontconfig", "font-kit", "freetype", "pkg-config"] {
        assert!(
            !tree.contains(needle),
            "the build depends on {needle}:\n{tree}"
        );
    }
}

/// Dark pixels in the band where the title is drawn: the embedded font rendered glyphs.
#[test]
fn plot_draws_its_text_with_the_embedded_font() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("p.png");
    let series = vec![
        ("random".to_string(), vec![(0.0, 900.0), (100.0, 300.0)]),
        ("std".to_string(), vec![(0.0, 800.0), (100.0, 200.0)]),
    ];
    wembed::lm::plot::perplexity_curves(&path, "validation perplexity", &series).unwrap();
    let decoder = png::Decoder::new(std::fs::File::open(&path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, bpp) = (info.width as usize, info.line_size / info.width as usize);
    // The caption sits in the top 40 rows; without a font nothing but white is drawn there.
    let dark = (0..40 * w)
        .filter(|&i| buf[i * bpp..i * bpp + 3].iter().all(|&c| c < 128))
        .count();
    assert!(dark > 200, "only {dark} dark pixels in the title band");
}

#[test]
fn quick_start_outputs_are_ignored_by_git() {
    let root = env!("CARGO_MANIFEST_DIR");
    for path in ["model", "model/input.npy", "vocab.txt"] {
        let out = Command::new("git")
            .args(["check-ignore", "-q", "--no-index", path])
            .current_dir(root)
            .output()
            .expect("run git");
        assert!(out.status.success(), "{path} is not ignored by .gitignore");
    }
}
