//! The corpus as word ids: written by each thread during the first full epoch, replayed by the
//! later ones, so only one epoch pays for UTF-8 decoding, splitting and hashing (and, for gzip, for
//! decompression on a single reader thread).
//!
//! One file per thread holds a stream of little-endian u32: the in-vocabulary ids of a sentence,
//! then `END_SENTENCE`; at each line end, `END_LINE` and the line's next byte offset as two words,
//! so checkpoints taken while replaying record the same text offsets as a text epoch. Files are
//! read through a small buffer, never mapped: replaying a corpus must not grow the resident set.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const END_SENTENCE: u32 = u32::MAX;
const END_LINE: u32 = u32::MAX - 1;

/// The largest vocabulary whose ids cannot collide with the markers.
pub const MAX_WORDS: usize = END_LINE as usize;

/// What a replay hands back, in corpus order.
pub trait Replay {
    fn sentence(&mut self, ids: &[u32]);
    fn line_end(&mut self, next: u64);
    /// Called once at the end of the stream.
    fn finish(&mut self) {}
    /// The replay ends early once this says so: the run was stopped.
    fn stopped(&self) -> bool {
        false
    }
}

pub fn thread_file(dir: &Path, thread: usize) -> PathBuf {
    dir.join(format!("thread-{thread}.u32"))
}

/// Writes one thread's stream. A failed write (a full disk) is kept, not raised: training goes on
/// from the text, and the caller drops the files at the end of the epoch.
pub struct TokenWriter {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    error: Option<Error>,
}

impl TokenWriter {
    pub fn create(path: PathBuf) -> TokenWriter {
        match File::create(&path) {
            Ok(f) => TokenWriter {
                out: Some(BufWriter::with_capacity(1 << 16, f)),
                path,
                error: None,
            },
            Err(e) => TokenWriter {
                error: Some(Error::io(&path, e)),
                path,
                out: None,
            },
        }
    }

    fn put(&mut self, words: &[u32]) {
        if let Some(out) = &mut self.out {
            if let Err(e) = out.write_all(bytemuck::cast_slice(words)) {
                self.error = Some(Error::io(&self.path, e));
                self.out = None;
            }
        }
    }

    pub fn sentence(&mut self, ids: &[u32]) {
        self.put(ids);
        self.put(&[END_SENTENCE]);
    }

    pub fn line_end(&mut self, next: u64) {
        self.put(&[END_LINE, next as u32, (next >> 32) as u32]);
    }

    /// Flushes; an error here or earlier means the stream is incomplete and must not be replayed.
    pub fn finish(mut self) -> Result<()> {
        if let Some(mut out) = self.out.take() {
            if let Err(e) = out.flush() {
                self.error = Some(Error::io(&self.path, e));
            }
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Replays one thread's stream into `sink`.
pub fn replay<R: Replay>(path: &Path, sink: &mut R) -> Result<()> {
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u32; 1 << 14];
    let mut sentence: Vec<u32> = Vec::with_capacity(1024);
    // A line-end offset may straddle two reads: words still owed to it, and the low half.
    let mut pending_line: Option<(usize, u32)> = None;
    let mut carry = 0usize; // bytes of a partial u32 kept at the front of `buf`
    loop {
        if sink.stopped() {
            sink.finish();
            return Ok(());
        }
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
        let n = match f.read(&mut bytes[carry..]) {
            Ok(0) => break,
            Ok(n) => n + carry,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        let words = n / 4;
        for &w in &buf[..words] {
            match pending_line {
                Some((2, _)) => pending_line = Some((1, w)),
                Some((_, lo)) => {
                    sink.line_end(lo as u64 | (w as u64) << 32);
                    pending_line = None;
                }
                None if w == END_SENTENCE => {
                    sink.sentence(&sentence);
                    sentence.clear();
                }
                None if w == END_LINE => pending_line = Some((2, 0)),
                None => sentence.push(w),
            }
        }
        carry = n - words * 4;
        if carry > 0 {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
            bytes.copy_within(words * 4..n, 0);
        }
    }
    if carry != 0 || pending_line.is_some() || !sentence.is_empty() {
        return Err(Error::Invalid(format!(
            "{}: the word-id stream ends mid-record",
            path.display()
        )));
    }
    sink.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Log(Vec<(Vec<u32>, Option<u64>)>);

    impl Replay for Log {
        fn sentence(&mut self, ids: &[u32]) {
            self.0.push((ids.to_vec(), None));
        }
        fn line_end(&mut self, next: u64) {
            self.0.push((Vec::new(), Some(next)));
        }
    }

    #[test]
    fn replays_what_was_written_across_buffer_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let path = thread_file(dir.path(), 0);
        let mut w = TokenWriter::create(path.clone());
        let mut expect = Log::default();
        // Long sentences and offsets above 4 GiB, so records straddle the 64 KiB reads.
        for k in 0..5000u32 {
            let ids: Vec<u32> = (0..(k % 37)).map(|i| i * 1000 + k).collect();
            w.sentence(&ids);
            expect.sentence(&ids);
            if k % 3 == 0 {
                let off = (k as u64) * 0x1_0000_0007;
                w.line_end(off);
                expect.line_end(off);
            }
        }
        w.finish().unwrap();
        let mut got = Log::default();
        replay(&path, &mut got).unwrap();
        assert_eq!(got, expect);
    }

    #[test]
    fn a_truncated_stream_is_an_error_not_a_short_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = thread_file(dir.path(), 0);
        let mut w = TokenWriter::create(path.clone());
        w.sentence(&[1, 2, 3]);
        w.line_end(99);
        w.finish().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        for cut in [len - 1, len - 4, len - 8] {
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(cut).unwrap();
            let err = replay(&path, &mut Log::default()).unwrap_err();
            assert!(err.to_string().contains("ends mid-record"), "{err}");
        }
    }
}
