//! The little-endian binary encoding of the files the report keeps under
//! `.git/incident/` (the per-commit cache and the snapshot): lengths before
//! contents, nothing that needs a parser. A file that does not decode to
//! its end is ignored and rewritten by its owner.

use std::io::{self, Write};

use git2::Oid;

/// Reads values back in the order they were written; `None` when the
/// bytes run out or do not make sense.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// Every byte was read.
    pub fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    pub fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    pub fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub fn i32(&mut self) -> Option<i32> {
        Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    pub fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    pub fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    pub fn oid(&mut self) -> Option<Oid> {
        Oid::from_bytes(self.take(20)?).ok()
    }

    /// A count written with [`put_len`], bounded by the bytes left so that
    /// a damaged count cannot make a caller reserve gigabytes.
    pub fn len(&mut self) -> Option<usize> {
        let n = self.u32()? as usize;
        (n <= self.bytes.len() - self.at).then_some(n)
    }

    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    /// An optional i64 written with [`put_opt_i64`].
    pub fn opt_i64(&mut self) -> Option<Option<i64>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.i64()?)),
            _ => None,
        }
    }
}

pub fn put_len(out: &mut impl Write, n: usize) -> io::Result<()> {
    let n = u32::try_from(n).map_err(|_| io::Error::other("too many entries for the format"))?;
    out.write_all(&n.to_le_bytes())
}

pub fn put_str(out: &mut impl Write, s: &str) -> io::Result<()> {
    put_len(out, s.len())?;
    out.write_all(s.as_bytes())
}

pub fn put_opt_i64(out: &mut impl Write, v: Option<i64>) -> io::Result<()> {
    match v {
        None => out.write_all(&[0]),
        Some(v) => {
            out.write_all(&[1])?;
            out.write_all(&v.to_le_bytes())
        }
    }
}

/// Write a file atomically: `write` fills a temporary file beside it,
/// which is then renamed over the old one.
pub fn write_atomically(
    path: &std::path::Path,
    write: impl FnOnce(&mut io::BufWriter<std::fs::File>) -> io::Result<()>,
) -> crate::error::Result<()> {
    crate::store::ownfiles::write_with(path, write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let mut out = Vec::new();
        put_str(&mut out, "héllo").unwrap();
        put_opt_i64(&mut out, Some(-5)).unwrap();
        put_opt_i64(&mut out, None).unwrap();
        let mut r = Reader::new(&out);
        assert_eq!(r.str(), Some("héllo"));
        assert_eq!(r.opt_i64(), Some(Some(-5)));
        assert_eq!(r.opt_i64(), Some(None));
        assert!(r.done());
        // A count larger than what is left is refused, not allocated.
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0x7f, 1]);
        assert_eq!(r.len(), None);
    }
}
