//! Runs tests/cli/interop.py: every export format loaded by gensim, numpy and safetensors, and
//! `wembed eval` against gensim's evaluation. Needs python3 with numpy, gensim and safetensors
//! (`.ci/run` installs them).

#[test]
fn exports_load_in_gensim_numpy_and_safetensors_and_eval_matches_gensim() {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli/interop.py");
    let out = std::process::Command::new("python3")
        .args([
            script,
            env!("CARGO_BIN_EXE_wembed"),
            dir.path().to_str().unwrap(),
        ])
        .output()
        .expect("python3 is needed for the interop tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}");
    assert!(
        out.status.success(),
        "interop checks failed (pip install numpy gensim safetensors?):\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("interop: all checks passed"));
}
