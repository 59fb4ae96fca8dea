//! Streaming corpus reader: files, folders, stdin, plain or gzip, fed to N worker threads.
//!
//! Two ways to feed threads, chosen by what the input allows:
//! - every input a plain file: each thread reads its own byte range of the inputs laid end to end,
//!   starting at the first line that begins inside it (as word2vec C does), so there is no shared
//!   state at all;
//! - gzip or stdin somewhere (no seeking): one reader thread fills batches of whole lines into a
//!   bounded channel and the workers take them.
//!
//! Either way memory is a few batches per thread, never the corpus.

use crate::error::{Error, Result};
use crate::progress::Progress;
use flate2::bufread::GzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A line longer than this many tokens is cut into sentences of this length: training windows
/// never need more context, and it keeps per-sentence buffers bounded.
pub const MAX_SENTENCE_TOKENS: usize = 10_000;

/// A line longer than this many bytes is cut at whitespace before tokenising, so that a file with
/// no newlines (or binary junk) cannot make one line buffer grow without bound.
pub const MAX_LINE_BYTES: usize = 1 << 20;

const BATCH_BYTES: usize = 1 << 20;
const PROBE_BYTES: usize = 8 << 10;

crate::settings::resumable! {
    /// How raw text becomes sentences of tokens.
    #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct CorpusOptions / CorpusOptionsOverrides {
        /// Lowercase every token (Unicode-aware).
        pub lowercase: bool,
        /// A longer line is cut into sentences of at most this many tokens, as word2vec C does.
        pub max_sentence_tokens: usize,
    }
}

impl Default for CorpusOptions {
    fn default() -> Self {
        CorpusOptions {
            lowercase: false,
            max_sentence_tokens: MAX_SENTENCE_TOKENS,
        }
    }
}

/// How a file's bytes are stored, found from its first bytes, not its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Text as it is.
    Plain,
    /// One or more gzip members.
    Gzip,
}

/// Decompresses every gzip member in turn, as `gzip -d` does, including its tolerance of zero
/// bytes after the last member (tape and block-device padding); anything else after a member
/// must be another member.
struct Gunzip<R: BufRead> {
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> Gunzip<R> {
    fn new(r: R) -> Self {
        Gunzip {
            member: Some(GzDecoder::new(r)),
        }
    }
}

impl<R: BufRead> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(m) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = m.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended: what follows is another member, zero padding, or nothing.
            let mut inner = self
                .member
                .take()
                .map(GzDecoder::into_inner)
                .expect("member");
            loop {
                let head = inner.fill_buf()?;
                if head.is_empty() {
                    return Ok(0);
                }
                match head.iter().position(|&b| b != 0) {
                    None => {
                        let k = head.len();
                        inner.consume(k);
                    }
                    Some(0) => break,
                    Some(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "data after zero padding at the end of the gzip stream",
                        ))
                    }
                }
            }
            self.member = Some(GzDecoder::new(inner));
        }
    }
}

/// Bytes hashed by [`Corpus::fingerprint`].
const FINGERPRINT_HEAD: u64 = 1 << 20;

/// Size and head hash of a corpus, as a checkpoint records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Total size of the corpus files.
    pub bytes: u64,
    /// CRC-32 of the first MiB (of the first file that has bytes).
    pub head_crc32: u32,
}

/// One file of a corpus.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size on disk (compressed, for gzip).
    pub len: u64,
    /// Plain or gzip.
    pub compression: Compression,
}

/// Where a corpus's text comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A file (or a file found in a folder).
    File(InputFile),
    /// Read once, front to back, by one thread: stdin (`-`), or a path that is not a regular
    /// file (a named pipe, `<(...)`, `/dev/stdin`), which cannot be measured, probed or re-read.
    Stream(PathBuf),
}

impl Source {
    fn name(&self) -> PathBuf {
        match self {
            Source::File(f) => f.path.clone(),
            Source::Stream(p) if p.as_os_str() == "-" => PathBuf::from("<stdin>"),
            Source::Stream(p) => p.clone(),
        }
    }

    /// The stream to read: stdin, or the pipe's path opened now.
    fn open_stream(&self) -> Result<Box<dyn Read + Send>> {
        match self {
            Source::Stream(p) if p.as_os_str() == "-" => Ok(Box::new(io::stdin())),
            Source::Stream(p) => Ok(Box::new(File::open(p).map_err(|e| Error::io(p, e))?)),
            Source::File(f) => Err(Error::Invalid(format!(
                "{} is a file, not a stream",
                f.path.display()
            ))),
        }
    }
}

/// What a worker does with each sentence. One sink per thread, so no sink needs a lock.
pub trait SentenceSink: Send {
    /// One sentence of tokens, in corpus order within this thread's share.
    fn sentence(&mut self, tokens: &[&str]);
    /// Called after each whole line read from a plain file, with the corpus offset (over all
    /// files, in order) where the next line starts: a position a checkpoint can resume from.
    fn line_end(&mut self, _next: u64) {}
    /// Called once when this thread has read all it will read.
    fn finish(&mut self) {}
    /// The reader stops early (at a line end) once this says so: the run was stopped.
    fn stopped(&self) -> bool {
        false
    }
}

/// Counts gathered while reading, summed over threads.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadStats {
    /// Uncompressed bytes of text read.
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Tokens read.
    pub tokens: u64,
    /// Invalid UTF-8 sequences, each replaced by U+FFFD.
    pub invalid_utf8: u64,
    /// Sentences that were cut off a longer line.
    pub cut_lines: u64,
}

impl ReadStats {
    fn add(&mut self, o: &ReadStats) {
        self.bytes += o.bytes;
        self.lines += o.lines;
        self.tokens += o.tokens;
        self.invalid_utf8 += o.invalid_utf8;
        self.cut_lines += o.cut_lines;
    }
}

/// A set of inputs, resolved and checked up front so that errors surface before hours of work.
#[derive(Clone, Debug)]
pub struct Corpus {
    sources: Vec<Source>,
    options: CorpusOptions,
}

impl Corpus {
    /// Resolves paths (`-` is stdin; folders are read recursively in sorted order), detects gzip by
    /// its magic bytes, and refuses missing paths, empty folders and binary files.
    pub fn open<P: AsRef<Path>>(paths: &[P], options: CorpusOptions) -> Result<Corpus> {
        if paths.is_empty() {
            return Err(Error::Invalid("no corpus path given".into()));
        }
        if options.max_sentence_tokens == 0 {
            return Err(Error::Invalid(
                "max sentence length must be positive".into(),
            ));
        }
        let mut sources = Vec::new();
        let mut stdin_seen = false;
        for p in paths {
            let p = p.as_ref();
            if p.as_os_str() == "-" {
                if stdin_seen {
                    return Err(Error::Invalid("stdin (-) given twice".into()));
                }
                stdin_seen = true;
                sources.push(Source::Stream(p.to_path_buf()));
                continue;
            }
            let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
            if !meta.is_dir() && !meta.is_file() {
                // Probing would consume what a pipe holds: it is read as a stream instead.
                sources.push(Source::Stream(p.to_path_buf()));
                continue;
            }
            if meta.is_dir() {
                let mut files = Vec::new();
                walk(p, &mut files)?;
                if files.is_empty() {
                    return Err(Error::EmptyFolder(p.to_path_buf()));
                }
                files.sort();
                for f in files {
                    sources.push(Source::File(probe(&f)?));
                }
            } else {
                sources.push(Source::File(probe(p)?));
            }
        }
        Ok(Corpus { sources, options })
    }

    /// The files and streams, in reading order.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The tokenisation the corpus was opened with.
    pub fn options(&self) -> &CorpusOptions {
        &self.options
    }

    /// Whether the corpus can be read again (needed by any trainer that makes more than one pass).
    pub fn rereadable(&self) -> bool {
        self.sources.iter().all(|s| matches!(s, Source::File(_)))
    }

    /// Input size on disk (compressed bytes for gzip), the unit of progress; `None` with stdin.
    pub fn total_bytes(&self) -> Option<u64> {
        self.sources
            .iter()
            .map(|s| match s {
                Source::File(f) => Some(f.len),
                Source::Stream(_) => None,
            })
            .sum()
    }

    /// What identifies the corpus when it is named again (a resume from a moved copy): its size on
    /// disk and a CRC-32 of its first MiB as stored. `None` with stdin.
    pub fn fingerprint(&self) -> Result<Option<Fingerprint>> {
        let Some(bytes) = self.total_bytes() else {
            return Ok(None);
        };
        let mut hasher = crc32fast::Hasher::new();
        let mut left = FINGERPRINT_HEAD;
        let mut buf = vec![0u8; 64 << 10];
        for s in &self.sources {
            let Source::File(f) = s else { continue };
            let file = std::fs::File::open(&f.path).map_err(|e| Error::io(&f.path, e))?;
            let mut r = file.take(left);
            loop {
                let n = r.read(&mut buf).map_err(|e| Error::io(&f.path, e))?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            if left == 0 {
                break;
            }
        }
        Ok(Some(Fingerprint {
            bytes,
            head_crc32: hasher.finalize(),
        }))
    }

    /// A label for messages: the single path, or the first one and a count.
    pub fn describe(&self) -> String {
        match self.sources.len() {
            1 => self.sources[0].name().display().to_string(),
            n => format!("{} and {} more", self.sources[0].name().display(), n - 1),
        }
    }

    /// True for plain files only: they can be split by byte range and read from a saved offset.
    pub fn seekable(&self) -> bool {
        self.sources
            .iter()
            .all(|s| matches!(s, Source::File(f) if f.compression == Compression::Plain))
    }

    /// Reads the whole corpus once on `threads` workers; `make(i)` builds worker i's sink, and the
    /// sinks come back (in thread order) for the caller to merge.
    pub fn for_each_parallel<S, F>(
        &self,
        threads: usize,
        progress: &Progress,
        make: F,
    ) -> Result<(Vec<S>, ReadStats)>
    where
        S: SentenceSink,
        F: Fn(usize) -> S + Sync,
    {
        self.for_each_parallel_from(threads, progress, None, make)
    }

    /// As `for_each_parallel`, but on plain files thread t starts at `resume[t]` (a `line_end`
    /// offset inside its range) instead of the start of its range. Corpora that cannot seek
    /// (gzip, stdin) always start from the beginning.
    pub fn for_each_parallel_from<S, F>(
        &self,
        threads: usize,
        progress: &Progress,
        resume: Option<&[u64]>,
        make: F,
    ) -> Result<(Vec<S>, ReadStats)>
    where
        S: SentenceSink,
        F: Fn(usize) -> S + Sync,
    {
        let threads = threads.max(1);
        if self.seekable() {
            self.read_ranges((threads, progress), resume, &make)
        } else {
            self.read_channel((threads, progress), &make)
        }
    }

    /// Plain files: thread t reads the lines that start in its share of the bytes.
    fn read_ranges<S: SentenceSink>(
        &self,
        (threads, progress): (usize, &Progress),
        resume: Option<&[u64]>,
        make: &(dyn Fn(usize) -> S + Sync),
    ) -> Result<(Vec<S>, ReadStats)> {
        let files: Vec<&InputFile> = self
            .sources
            .iter()
            .filter_map(|s| match s {
                Source::File(f) => Some(f),
                Source::Stream(_) => None,
            })
            .collect();
        let total: u64 = files.iter().map(|f| f.len).sum();
        let results: Vec<Result<(S, ReadStats)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let files = &files;
                    let make = &make;
                    scope.spawn(move || {
                        let mut start = total * t as u64 / threads as u64;
                        let end = total * (t as u64 + 1) / threads as u64;
                        if let Some(&at) = resume.and_then(|r| r.get(t)) {
                            start = start.max(at);
                        }
                        let mut sink = make(t);
                        let mut worker = Worker::new(&self.options);
                        let mut base = 0u64;
                        for f in files.iter() {
                            let (lo, hi) = (start.max(base), end.min(base + f.len));
                            if lo < hi && !sink.stopped() {
                                read_range(
                                    f,
                                    (lo - base, hi - base, base),
                                    &mut worker,
                                    &mut sink,
                                    progress,
                                )?;
                            }
                            base += f.len;
                        }
                        sink.finish();
                        Ok((sink, worker.stats))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        collect(results)
    }

    /// Streams (gzip, stdin): one thread decodes into batches that the others take in turn.
    fn read_channel<S: SentenceSink>(
        &self,
        (threads, progress): (usize, &Progress),
        make: &(dyn Fn(usize) -> S + Sync),
    ) -> Result<(Vec<S>, ReadStats)> {
        let (tx, rx) = crossbeam_channel::bounded::<Batch>(2 * threads);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || -> Result<()> {
                for src in &self.sources {
                    if !fill_batches(src, &tx, progress)? {
                        break; // workers are gone
                    }
                }
                Ok(())
            });
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let rx = rx.clone();
                    let make = &make;
                    scope.spawn(move || -> Result<(S, ReadStats)> {
                        let mut sink = make(t);
                        let mut worker = Worker::new(&self.options);
                        for batch in rx.iter() {
                            if sink.stopped() {
                                break;
                            }
                            let mut start = 0;
                            for &(end, ends_line) in &batch.pieces {
                                let end = end as usize;
                                worker.piece(&batch.data[start..end], ends_line, &mut sink);
                                start = end;
                            }
                            progress.inc(0, batch.pieces.len() as u64);
                        }
                        sink.finish();
                        Ok((sink, worker.stats))
                    })
                })
                .collect();
            drop(rx);
            let results: Vec<Result<(S, ReadStats)>> = handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect();
            reader
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            collect(results)
        })
    }
}

fn collect<S>(results: Vec<Result<(S, ReadStats)>>) -> Result<(Vec<S>, ReadStats)> {
    let mut stats = ReadStats::default();
    let mut sinks = Vec::with_capacity(results.len());
    for r in results {
        let (s, st) = r?;
        stats.add(&st);
        sinks.push(s);
    }
    Ok((sinks, stats))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Opens a file, tells gzip from plain text by the magic bytes, and rejects binary content (a NUL
/// byte in the first 8 KiB of the text, the test grep and git use).
fn probe(path: &Path) -> Result<InputFile> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = Vec::with_capacity(PROBE_BYTES);
    file.take(PROBE_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else {
        Compression::Plain
    };
    let text = match compression {
        Compression::Plain => head,
        Compression::Gzip => {
            let file = File::open(path).map_err(|e| Error::io(path, e))?;
            let mut text = Vec::with_capacity(PROBE_BYTES);
            Gunzip::new(BufReader::new(file))
                .take(PROBE_BYTES as u64)
                .read_to_end(&mut text)
                .map_err(|e| gzip_error(path, e))?;
            text
        }
    };
    if memchr::memchr(0, &text).is_some() {
        return Err(Error::Binary(path.to_path_buf()));
    }
    Ok(InputFile {
        path: path.to_path_buf(),
        len,
        compression,
    })
}

fn gzip_error(path: &Path, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            Error::Gzip {
                path: path.to_path_buf(),
                err: e,
            }
        }
        _ => Error::io(path, e),
    }
}

/// Reads lines, cutting any longer than [`MAX_LINE_BYTES`] at whitespace so a line buffer stays
/// bounded. `pos` counts the bytes taken from the stream, which range sharding needs.
struct LineReader<R> {
    inner: R,
    line: Vec<u8>,
    tail: Vec<u8>,
    pos: u64,
}

impl<R: BufRead> LineReader<R> {
    fn new(inner: R, pos: u64) -> Self {
        LineReader {
            inner,
            line: Vec::new(),
            tail: Vec::new(),
            pos,
        }
    }

    /// Reads the next piece into `self.line`: `Some(true)` for the end of a line, `Some(false)` for
    /// a cut-off piece of a longer line, `None` at the end of input.
    fn next_piece(&mut self) -> io::Result<Option<bool>> {
        self.line.clear();
        self.line.append(&mut self.tail);
        loop {
            let avail = self.inner.fill_buf()?;
            if avail.is_empty() {
                return Ok(if self.line.is_empty() {
                    None
                } else {
                    Some(true)
                });
            }
            let room = MAX_LINE_BYTES.saturating_sub(self.line.len()).max(1);
            let take = avail.len().min(room);
            if let Some(i) = memchr::memchr(b'\n', &avail[..take]) {
                self.line.extend_from_slice(&avail[..=i]);
                self.inner.consume(i + 1);
                self.pos += i as u64 + 1;
                return Ok(Some(true));
            }
            self.line.extend_from_slice(&avail[..take]);
            self.inner.consume(take);
            self.pos += take as u64;
            if self.line.len() >= MAX_LINE_BYTES {
                let cut = self
                    .line
                    .iter()
                    .rposition(|b| b.is_ascii_whitespace())
                    .map_or(self.line.len(), |p| p + 1);
                self.tail.extend_from_slice(&self.line[cut..]);
                self.line.truncate(cut);
                return Ok(Some(false));
            }
        }
    }
}

/// Reads the lines of `file` that start in [lo, hi): the owner of a line is the range holding its
/// first byte, so ranges laid end to end read every line exactly once.
/// Reads the lines that start in `lo..hi` of `file`, whose first byte is at corpus offset `base`.
fn read_range<S: SentenceSink>(
    file: &InputFile,
    (lo, hi, base): (u64, u64, u64),
    worker: &mut Worker,
    sink: &mut S,
    progress: &Progress,
) -> Result<()> {
    let path = &file.path;
    let mut f = File::open(path).map_err(|e| Error::io(path, e))?;
    let seek_to = lo.saturating_sub(1);
    f.seek(SeekFrom::Start(seek_to))
        .map_err(|e| Error::io(path, e))?;
    let mut r = LineReader::new(BufReader::with_capacity(256 << 10, f), seek_to);
    let io = |e| Error::io(path, e);
    if lo > 0 {
        // We stand one byte before `lo`: if it ends a line, the line at `lo` is ours; otherwise the
        // line under way belongs to the previous range, so skip to its end.
        let mut ends_line = false;
        while !ends_line {
            match r.next_piece().map_err(io)? {
                None => return Ok(()),
                Some(e) => ends_line = e,
            }
        }
    }
    let mut reported = r.pos;
    let mut tokens_before = worker.stats.tokens;
    while r.pos < hi && !sink.stopped() {
        let mut ends_line = false;
        while !ends_line {
            match r.next_piece().map_err(io)? {
                None => break,
                Some(e) => {
                    ends_line = e;
                    worker.piece(&r.line, e, sink);
                }
            }
        }
        if !ends_line {
            break;
        }
        sink.line_end(base + r.pos);
        if r.pos - reported >= 1 << 18 {
            let step = r.pos.min(hi) - reported.min(hi);
            progress.inc(step, worker.stats.tokens - tokens_before);
            reported = r.pos;
            tokens_before = worker.stats.tokens;
        }
    }
    progress.inc(
        r.pos.min(hi).saturating_sub(reported.min(hi)),
        worker.stats.tokens - tokens_before,
    );
    Ok(())
}

/// Lines packed into one buffer: `pieces` holds each piece's end offset and whether it ends a line.
struct Batch {
    data: Vec<u8>,
    pieces: Vec<(u32, bool)>,
}

/// Counts bytes read from the underlying stream, for progress on compressed input.
struct Counted<R> {
    inner: R,
    n: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.n.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Reads one source into batches on the channel. Returns false when the workers hung up.
fn fill_batches(
    src: &Source,
    tx: &crossbeam_channel::Sender<Batch>,
    progress: &Progress,
) -> Result<bool> {
    let name = src.name();
    let consumed = Arc::new(AtomicU64::new(0));
    let mut stdin_gzip = false;
    let raw: Box<dyn Read + Send> = match src {
        Source::Stream(_) => {
            // Peek at the magic bytes, then put them back in front of the stream.
            let mut stdin = src.open_stream()?;
            let mut head = Vec::with_capacity(2);
            while head.len() < 2 {
                let mut b = [0u8; 2];
                let want = 2 - head.len();
                match stdin.read(&mut b[..want]) {
                    Ok(0) => break,
                    Ok(k) => head.extend_from_slice(&b[..k]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Error::io(&name, e)),
                }
            }
            stdin_gzip = head == [0x1f, 0x8b];
            let joined = io::Cursor::new(head).chain(stdin);
            if stdin_gzip {
                Box::new(Gunzip::new(BufReader::with_capacity(256 << 10, joined)))
            } else {
                Box::new(joined)
            }
        }
        Source::File(f) => {
            let file = File::open(&f.path).map_err(|e| Error::io(&f.path, e))?;
            let counted = Counted {
                inner: file,
                n: consumed.clone(),
            };
            match f.compression {
                Compression::Plain => Box::new(counted),
                Compression::Gzip => {
                    Box::new(Gunzip::new(BufReader::with_capacity(256 << 10, counted)))
                }
            }
        }
    };
    let is_gzip =
        stdin_gzip || matches!(src, Source::File(f) if f.compression == Compression::Gzip);
    let map_err = |e: io::Error| {
        if is_gzip {
            gzip_error(&name, e)
        } else {
            Error::io(&name, e)
        }
    };
    let mut r = LineReader::new(BufReader::with_capacity(256 << 10, raw), 0);
    let mut first = true;
    let mut reported = 0u64;
    loop {
        let mut batch = Batch {
            data: Vec::with_capacity(BATCH_BYTES + (64 << 10)),
            pieces: Vec::new(),
        };
        while batch.data.len() < BATCH_BYTES {
            match r.next_piece().map_err(map_err)? {
                None => break,
                Some(ends_line) => {
                    batch.data.extend_from_slice(&r.line);
                    batch.pieces.push((batch.data.len() as u32, ends_line));
                }
            }
        }
        if first {
            first = false;
            // Files were probed when the corpus was opened; stdin can only be checked here.
            let head = &batch.data[..batch.data.len().min(PROBE_BYTES)];
            if matches!(src, Source::Stream(_)) && memchr::memchr(0, head).is_some() {
                return Err(Error::Binary(name));
            }
        }
        let now = match src {
            Source::Stream(_) => r.pos,
            Source::File(_) => consumed.load(Ordering::Relaxed),
        };
        progress.inc(now - reported, 0);
        reported = now;
        if batch.pieces.is_empty() {
            return Ok(true);
        }
        if tx.send(batch).is_err() {
            return Ok(false);
        }
    }
}

/// Turns raw line bytes into token slices and hands them to the sink, keeping its buffers between
/// lines so the steady state allocates nothing.
struct Worker {
    lowercase: bool,
    max_tokens: usize,
    text: String,
    spare: Vec<&'static str>,
    stats: ReadStats,
}

impl Worker {
    fn new(options: &CorpusOptions) -> Self {
        Worker {
            lowercase: options.lowercase,
            max_tokens: options.max_sentence_tokens,
            text: String::new(),
            spare: Vec::new(),
            stats: ReadStats::default(),
        }
    }

    fn piece<S: SentenceSink>(&mut self, raw: &[u8], ends_line: bool, sink: &mut S) {
        self.stats.bytes += raw.len() as u64;
        if ends_line {
            self.stats.lines += 1;
        }
        let text: &str = match std::str::from_utf8(raw) {
            Ok(s) if !self.lowercase || !s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) => {
                s
            }
            Ok(s) => {
                self.text.clear();
                lowercase_into(s, &mut self.text);
                &self.text
            }
            Err(_) => {
                let mut lossy = String::with_capacity(raw.len() + 16);
                for chunk in raw.utf8_chunks() {
                    lossy.push_str(chunk.valid());
                    if !chunk.invalid().is_empty() {
                        lossy.push(char::REPLACEMENT_CHARACTER);
                        self.stats.invalid_utf8 += 1;
                    }
                }
                self.text.clear();
                if self.lowercase {
                    lowercase_into(&lossy, &mut self.text);
                } else {
                    self.text = lossy;
                }
                &self.text
            }
        };
        let mut tokens = recycle(std::mem::take(&mut self.spare));
        tokens.extend(text.split_whitespace());
        self.stats.tokens += tokens.len() as u64;
        if !ends_line && !tokens.is_empty() {
            self.stats.cut_lines += 1;
        }
        let mut chunks = tokens.chunks(self.max_tokens);
        if tokens.len() > self.max_tokens {
            self.stats.cut_lines += (tokens.len() as u64 - 1) / self.max_tokens as u64;
        }
        for chunk in &mut chunks {
            sink.sentence(chunk);
        }
        self.spare = recycle(tokens);
    }
}

fn lowercase_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        out.push_str(&s.to_lowercase());
    }
}

/// Reuses a vector's allocation for references of another lifetime. The vector is emptied first, so
/// no reference outlives its data; in-place `collect` keeps the buffer.
fn recycle<'b>(mut v: Vec<&str>) -> Vec<&'b str> {
    v.clear();
    v.into_iter()
        .map(|_| -> &'b str { unreachable!() })
        .collect()
}
