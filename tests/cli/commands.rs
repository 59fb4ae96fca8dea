//! Bad input through the command line: one-line errors naming the file, exit 1, never a panic, and
//! earlier outputs left as they were.

use crate::common::*;

fn vocab_args<'a>(input: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["vocab", input, "-o", out, "-q", "--min-count", "1"]
}

#[test]
fn nonexistent_path() {
    let d = tmp();
    let out = p(&d, "v.txt");
    let missing = p(&d, "nope.txt");
    let r = wembed(&vocab_args(
        missing.to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "nope.txt: no such file");
    assert!(!out.exists());
}

#[test]
fn folder_without_files() {
    let d = tmp();
    std::fs::create_dir_all(p(&d, "empty/sub")).unwrap();
    let out = p(&d, "v.txt");
    let r = wembed(&vocab_args(
        p(&d, "empty").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "folder holds no files");
}

#[test]
fn empty_corpus_leaves_previous_output_intact() {
    let d = tmp();
    write(&p(&d, "blank.txt"), b"  \n\n\t \n");
    let out = p(&d, "v.txt");
    write(&out, b"old\t1\n");
    let r = wembed(&vocab_args(
        p(&d, "blank.txt").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "corpus is empty");
    assert_eq!(std::fs::read(&out).unwrap(), b"old\t1\n");
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().to_string_lossy().into_owned();
            n.contains(".tmp-").then_some(n)
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn truncated_gzip() {
    let d = tmp();
    let text = sample_text(5000, 3);
    let gz = gzip(text.as_bytes());
    write(&p(&d, "cut.gz"), &gz[..gz.len() * 2 / 3]);
    let out = p(&d, "v.txt");
    let r = wembed(&vocab_args(
        p(&d, "cut.gz").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "cut.gz: corrupt or truncated gzip");
    assert!(!out.exists());
}

#[test]
fn binary_garbage() {
    let d = tmp();
    let junk: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    write(&p(&d, "junk.bin"), &junk);
    let out = p(&d, "v.txt");
    let r = wembed(&vocab_args(
        p(&d, "junk.bin").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "junk.bin: looks like a binary file");
    // Garbage inside a valid gzip stream is caught too.
    write(&p(&d, "junk.gz"), &gzip(&junk));
    let r = wembed(&vocab_args(
        p(&d, "junk.gz").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "junk.gz: looks like a binary file");
}

#[test]
fn min_count_above_every_word() {
    let d = tmp();
    write(&p(&d, "c.txt"), b"a b c a\n");
    let out = p(&d, "v.txt");
    let r = wembed(&[
        "vocab",
        p(&d, "c.txt").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--min-count",
        "5",
    ]);
    assert_one_line_error(&r, "no word occurs at least 5 times");
}

#[test]
fn unwritable_output() {
    let d = tmp();
    write(&p(&d, "c.txt"), b"a b c a\n");
    let out = p(&d, "no/such/dir/v.txt");
    let r = wembed(&vocab_args(
        p(&d, "c.txt").to_str().unwrap(),
        out.to_str().unwrap(),
    ));
    assert_one_line_error(&r, "v.txt");
}

#[test]
fn stdin_plain_and_gzip_and_its_summary() {
    let d = tmp();
    let text = sample_text(4000, 11);
    let out = p(&d, "v.txt");
    let reference = naive_counts(&[&text]);
    for input in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
        let r = wembed_stdin(
            &[
                "vocab",
                "-",
                "-o",
                out.to_str().unwrap(),
                "-q",
                "--min-count",
                "1",
                "--threads",
                "3",
            ],
            &input,
        );
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let summary = String::from_utf8_lossy(&r.stdout);
        let total: u64 = reference.values().sum();
        assert!(summary.contains(&format!("tokens {total} ")), "{summary}");
        assert!(
            summary.contains(&format!("types {} ", reference.len())),
            "{summary}"
        );
        assert!(summary.contains("MB/s"), "{summary}");
        let v = wembed::vocab::Vocab::load(&out).unwrap();
        assert_eq!(v.len(), reference.len());
        for (w, c) in v.words().iter().zip(v.counts()) {
            assert_eq!(reference[w], *c, "{w}");
        }
    }
    let r = wembed_stdin(
        &["vocab", "-", "-o", out.to_str().unwrap(), "-q"],
        b"\x00\x01\x02binary",
    );
    assert_one_line_error(&r, "<stdin>: looks like a binary file");
}

#[test]
fn gzip_stdin_multi_member_matches_plain() {
    let d = tmp();
    let a = sample_text(500, 1);
    let b = sample_text(700, 2);
    let mut gz = gzip(a.as_bytes());
    gz.extend(gzip(b.as_bytes()));
    let out = p(&d, "v.txt");
    let r = wembed_stdin(
        &[
            "vocab",
            "-",
            "-o",
            out.to_str().unwrap(),
            "-q",
            "--min-count",
            "1",
        ],
        &gz,
    );
    assert!(r.status.success());
    let v = wembed::vocab::Vocab::load(&out).unwrap();
    let reference = naive_counts(&[&a, &b]);
    assert_eq!(v.total(), reference.values().sum::<u64>());
}

#[test]
fn lowercase_flag_and_max_vocab() {
    let d = tmp();
    write(&p(&d, "c.txt"), b"The the THE cat Cat dog\n");
    let out = p(&d, "v.txt");
    let r = wembed(&[
        "vocab",
        p(&d, "c.txt").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--min-count",
        "1",
        "--lowercase",
        "--max-vocab",
        "2",
    ]);
    assert!(r.status.success());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the\t3\ncat\t2\n");
}

/// A named pipe, `<(...)` or `/dev/stdin` is read as a stream, as `-` is, not probed empty.
#[test]
fn pipes_are_read_as_streams() {
    let d = tmp();
    let text = sample_text(3000, 5);
    let reference = naive_counts(&[&text]);
    let fifo = p(&d, "fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let writer = {
        let (fifo, text) = (fifo.clone(), text.clone());
        std::thread::spawn(move || std::fs::write(&fifo, text.as_bytes()).unwrap())
    };
    let out = p(&d, "v.txt");
    let r = wembed(&[
        "vocab",
        fifo.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--min-count",
        "1",
    ]);
    writer.join().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let v = wembed::vocab::Vocab::load(&out).unwrap();
    assert_eq!(v.len(), reference.len());
    let r = wembed_stdin(
        &[
            "vocab",
            "/dev/stdin",
            "-o",
            out.to_str().unwrap(),
            "-q",
            "--min-count",
            "1",
        ],
        text.as_bytes(),
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(
        wembed::vocab::Vocab::load(&out).unwrap().len(),
        reference.len()
    );
    // Training needs a second pass: the message says so, for the pipe by name.
    let r = wembed_stdin(
        &[
            "skipgram",
            "/dev/stdin",
            "-o",
            p(&d, "m").to_str().unwrap(),
            "-q",
        ],
        text.as_bytes(),
    );
    assert_one_line_error(&r, "can be read only once");
}
