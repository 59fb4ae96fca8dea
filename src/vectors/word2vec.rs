//! word2vec formats (the C tool's `-binary 1` and `-binary 0` output, also fastText's `.vec`), and
//! GloVe's text format, which is word2vec text without the header line.
//!
//! Binary: `"V dim\n"`, then per word the word, a space, dim little-endian f32, and (by the C tool's
//! habit) a newline that readers must skip. Text: the header, then `word x1 ... xdim` per line.

use super::{Embeddings, Matrix, Rows};
use crate::error::{Error, Result};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

/// Writes word2vec binary through a temporary file renamed at the end.
pub fn write_binary(path: &Path, rows: &dyn Rows) -> Result<()> {
    crate::atomic::write_file(path, |f| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        writeln!(w, "{} {}", rows.len(), rows.dim())?;
        let mut row = vec![0f32; rows.dim()];
        for i in 0..rows.len() {
            rows.row_into(i, &mut row);
            w.write_all(rows.word(i).as_bytes())?;
            w.write_all(b" ")?;
            for x in &row {
                w.write_all(&x.to_le_bytes())?;
            }
            w.write_all(b"\n")?;
        }
        w.flush()
    })
}

/// Writes word2vec text (`header = true`, also fastText's `.vec`) or GloVe text (`false`), values
/// in shortest round-trip form so reading them back gives the same f32 bits.
/// `-` is stdout.
pub fn write_text(path: &Path, rows: &dyn Rows, header: bool) -> Result<()> {
    crate::atomic::write_text(path, |w| {
        if header {
            writeln!(w, "{} {}", rows.len(), rows.dim())?;
        }
        let mut row = vec![0f32; rows.dim()];
        for i in 0..rows.len() {
            rows.row_into(i, &mut row);
            w.write_all(rows.word(i).as_bytes())?;
            for x in &row {
                write!(w, " {x}")?;
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    })
    .map(drop)
}

fn bad(path: &Path, line: u64, msg: impl Into<String>) -> Error {
    Error::Format {
        path: path.to_path_buf(),
        line,
        msg: msg.into(),
    }
}

/// Longest line of a text vectors file: 65,536 values of 16 characters fit four times over.
const MAX_LINE: u64 = 16 << 20;

/// Parses a `V dim` header line.
fn parse_header(line: &str) -> Option<(usize, usize)> {
    let mut it = line.split_ascii_whitespace();
    let v = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    it.next().is_none().then_some((v, d))
}

/// Reads word2vec text or binary, or GloVe text, telling them apart from `head` (the first bytes).
pub fn read(path: &Path, head: &[u8]) -> Result<Embeddings> {
    let first_end = memchr::memchr(b'\n', head).unwrap_or(head.len());
    let first = String::from_utf8_lossy(&head[..first_end]);
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    // What the file really holds: a sparse file (`truncate -s 1T`) has a large length but no
    // data, and a header must not be believed beyond the bytes on disk.
    let file_len = {
        use std::os::unix::fs::MetadataExt;
        meta.len().min(meta.blocks().saturating_mul(512))
    };
    match parse_header(&first) {
        Some((v, d)) => {
            if d == 0 || v == 0 {
                return Err(bad(
                    path,
                    1,
                    format!("header claims {v} words of dimension {d}"),
                ));
            }
            // Every entry takes at least 2·dim + 2 bytes in either format (text: a digit and a
            // space per value; binary: 4 bytes per value): a header claiming more than the file
            // can hold is an error, never an allocation.
            if (v as u128) * (2 * d as u128 + 2) > file_len as u128 {
                return Err(bad(
                    path,
                    1,
                    format!("header claims {v} words of dimension {d}, more than the file's {file_len} bytes can hold"),
                ));
            }
            let rest = &head[(first_end + 1).min(head.len())..];
            let second_end = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
            let looks_text = std::str::from_utf8(&rest[..second_end]).is_ok_and(|l| {
                let mut it = l.split_ascii_whitespace();
                it.next().is_some()
                    && it.clone().count() == d
                    && it.all(|x| x.parse::<f32>().is_ok())
            });
            if looks_text {
                read_text(path, Some((v, d)))
            } else {
                read_binary(path, v, d)
            }
        }
        None => read_text(path, None),
    }
}

/// One line of a text vectors file: the word, and how many values it pushed onto `data` (`None`
/// for a blank line). `n` is the bytes read, to tell a line cut at `MAX_LINE`.
fn parse_line<'l>(
    buf: &'l [u8],
    n: usize,
    (path, line_no): (&Path, u64),
    data: &mut Vec<f32>,
) -> Result<Option<(&'l str, usize)>> {
    if n as u64 == MAX_LINE && !buf.ends_with(b"\n") {
        return Err(bad(
            path,
            line_no,
            format!(
                "line longer than {} MiB: not a vectors file",
                MAX_LINE >> 20
            ),
        ));
    }
    let line = std::str::from_utf8(buf).map_err(|e| {
        bad(
            path,
            line_no,
            format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
        )
    })?;
    // Split on ASCII whitespace only: some vocabularies hold words with U+00A0 and the like.
    let mut fields = line.split_ascii_whitespace();
    let Some(word) = fields.next() else {
        return Ok(None);
    };
    let before = data.len();
    for (k, x) in fields.enumerate() {
        let v: f32 = x.parse().map_err(|_| {
            bad(
                path,
                line_no,
                format!("value {} ({x:?}) is not a number", k + 1),
            )
        })?;
        data.push(v);
    }
    Ok(Some((word, data.len() - before)))
}

/// The row width: the first line's (`dim` is `None` until then), which every later line must have.
fn check_width(
    dim: Option<usize>,
    n: usize,
    headerless: bool,
    (path, line_no): (&Path, u64),
) -> Result<usize> {
    match dim {
        None if n == 0 => Err(bad(path, line_no, "no values after the word")),
        // Without a header, one number per word is a count list (a vocab.txt), never vectors:
        // reading it as 1-dimensional vectors would give meaningless scores.
        None if n == 1 && headerless => Err(bad(
            path,
            line_no,
            "one number after the word: a vocabulary (word<TAB>count), not vectors; give the model folder or a vectors file",
        )),
        None => Ok(n),
        Some(d) if d != n => Err(bad(path, line_no, format!("expected {d} values, found {n}"))),
        Some(d) => Ok(d),
    }
}

fn read_text(path: &Path, header: Option<(usize, usize)>) -> Result<Embeddings> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut dim = header.map(|h| h.1);
    let mut words = Vec::with_capacity(header.map_or(0, |h| h.0));
    let mut data = Vec::with_capacity(header.map_or(0, |h| h.0 * h.1));
    if header.is_some() {
        r.read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        line_no = 1;
    }
    loop {
        buf.clear();
        let n = (&mut r)
            .take(MAX_LINE)
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let at = (path, line_no);
        let Some((word, n)) = parse_line(&buf, n, at, &mut data)? else {
            continue;
        };
        dim = Some(check_width(dim, n, header.is_none(), at)?);
        words.push(word.to_string());
        if let Some((v, _)) = header {
            if words.len() > v {
                return Err(bad(
                    path,
                    line_no,
                    format!("more rows than the {v} the header claims"),
                ));
            }
        }
    }
    if let Some((v, _)) = header {
        if words.len() != v {
            return Err(bad(
                path,
                line_no,
                format!("header claims {v} rows, file has {}", words.len()),
            ));
        }
    }
    let Some(cols) = dim else {
        return Err(Error::bad_file(path, "no vectors in file"));
    };
    Ok(Embeddings {
        words,
        counts: None,
        matrix: Matrix::Owned { data, cols },
    })
}

fn read_binary(path: &Path, v: usize, d: usize) -> Result<Embeddings> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if (v as u128) * (4 * d as u128 + 2) > len as u128 {
        return Err(bad(
            path,
            1,
            format!("header claims {v} binary vectors of dimension {d}, more than the file's {len} bytes can hold"),
        ));
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut header = Vec::new();
    r.read_until(b'\n', &mut header)
        .map_err(|e| Error::io(path, e))?;
    let mut offset = header.len() as u64;
    let mut words = Vec::with_capacity(v);
    let mut data = vec![0f32; v * d];
    let mut word = Vec::new();
    let mut raw = vec![0u8; 4 * d];
    let at = |offset: u64, msg: String| Error::bad_file(path, format!("byte {offset}: {msg}"));
    for i in 0..v {
        word.clear();
        let start = offset;
        loop {
            let mut b = [0u8];
            match r.read(&mut b).map_err(|e| Error::io(path, e))? {
                0 => {
                    return Err(at(
                        offset,
                        format!("truncated: file ends in entry {} of {v}", i + 1),
                    ))
                }
                _ => offset += 1,
            }
            match b[0] {
                b' ' => break,
                b'\n' if word.is_empty() => {}
                _ if word.len() > 10_000 => {
                    return Err(at(
                        start,
                        "word longer than 10000 bytes: not word2vec binary".into(),
                    ))
                }
                c => word.push(c),
            }
        }
        let w = std::str::from_utf8(&word)
            .map_err(|_| at(start, format!("word of entry {} is not valid UTF-8", i + 1)))?;
        if w.is_empty() {
            return Err(at(start, format!("empty word in entry {}", i + 1)));
        }
        words.push(w.to_string());
        r.read_exact(&mut raw).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => at(
                offset,
                format!("truncated: vector of entry {} of {v} is short", i + 1),
            ),
            _ => Error::io(path, e),
        })?;
        offset += raw.len() as u64;
        for (x, b) in data[i * d..(i + 1) * d].iter_mut().zip(raw.chunks_exact(4)) {
            *x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    Ok(Embeddings {
        words,
        counts: None,
        matrix: Matrix::Owned { data, cols: d },
    })
}
