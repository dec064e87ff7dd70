//! Append-only segment files shared by the spool and the filesystem archive:
//! the framing, reading a segment back with its torn tail found, and an
//! appender that group-commits a buffer of frames with one write and one
//! `fdatasync`.
//!
//! The framing is the journal's (`host/crates/journal/src/format.rs`), copied
//! rather than shared because the journal already depends on the archive
//! (for `PluginRef`) and keeps its format private. A segment starts with an
//! 8-byte header: a 4-byte magic naming the kind of file, the format
//! version (u16 LE) and two reserved bytes. Frames follow, each
//! `len: u32 LE | crc32: u32 LE | payload: len bytes`, the CRC-32 covering
//! the payload. A frame cut short or failing its checksum ends the valid
//! data (a write torn by a crash before its sync).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub const HEADER_LEN: usize = 8;
pub const FRAME_LEN: usize = 8;
/// Frames larger than this are treated as damage (records are KiB-sized).
pub const MAX_FRAME: usize = 256 << 20;

/// What a kind of segment file is called and starts with.
#[derive(Clone, Copy, Debug)]
pub struct Kind {
    pub magic: [u8; 4],
    pub version: u16,
    /// File-name extension, without the dot.
    pub extension: &'static str,
}

impl Kind {
    pub fn header(&self) -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&self.magic);
        h[4..6].copy_from_slice(&self.version.to_le_bytes());
        h
    }

    /// `<id:016>.<extension>` in `dir`.
    pub fn path(&self, dir: &Path, id: u64) -> PathBuf {
        dir.join(format!("{id:016}.{}", self.extension))
    }

    /// Ids of this kind's segments in `dir`, ascending.
    pub fn list(&self, dir: &Path) -> io::Result<Vec<u64>> {
        let suffix = format!(".{}", self.extension);
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok()?.strip_suffix(&suffix)?.parse().ok())
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

/// Appends one frame around `payload` to `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Appends a frame whose payload is the concatenation of `parts`.
pub fn frame_parts(parts: &[&[u8]], out: &mut Vec<u8>) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut crc = crc32fast::Hasher::new();
    parts.iter().for_each(|p| crc.update(p));
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    parts.iter().for_each(|p| out.extend_from_slice(p));
}

/// Why the valid data of a segment ends before its end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    BadHeader,
    TornFrame,
    ChecksumMismatch,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Damage::BadHeader => "missing or unknown segment header",
            Damage::TornFrame => "frame cut short (torn write)",
            Damage::ChecksumMismatch => "frame checksum mismatch",
        })
    }
}

/// One valid frame of a scanned segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameAt {
    /// Where the frame (its length field) starts in the file.
    pub offset: u64,
    /// Frame length including its 8-byte prefix.
    pub len: u32,
}

impl FrameAt {
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.len)
    }

    /// The payload inside `bytes`, which start at file offset `base`.
    pub fn payload<'a>(&self, bytes: &'a [u8], base: u64) -> &'a [u8] {
        let start = (self.offset - base) as usize + FRAME_LEN;
        &bytes[start..(self.end() - base) as usize]
    }
}

/// The valid frames of `bytes` (file contents from offset `base`; `base`
/// 0 means the header is checked), and where and why the valid data ends
/// early, if it does.
pub fn scan(kind: &Kind, bytes: &[u8], base: u64) -> (Vec<FrameAt>, Option<(u64, Damage)>) {
    let mut at = 0usize;
    if base == 0 {
        if bytes.len() < HEADER_LEN || bytes[..HEADER_LEN] != kind.header() {
            return (Vec::new(), Some((0, Damage::BadHeader)));
        }
        at = HEADER_LEN;
    }
    let mut frames = Vec::new();
    while at < bytes.len() {
        let rest = &bytes[at..];
        let offset = base + at as u64;
        if rest.len() < FRAME_LEN {
            return (frames, Some((offset, Damage::TornFrame)));
        }
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        if len > MAX_FRAME || rest.len() < FRAME_LEN + len {
            return (frames, Some((offset, Damage::TornFrame)));
        }
        if crc32fast::hash(&rest[FRAME_LEN..FRAME_LEN + len]) != crc {
            return (frames, Some((offset, Damage::ChecksumMismatch)));
        }
        frames.push(FrameAt { offset, len: (FRAME_LEN + len) as u32 });
        at += FRAME_LEN + len;
    }
    (frames, None)
}

/// Whether a valid frame starts somewhere after `from` in `bytes` (file
/// contents from offset `base`): data written after the damage, so the
/// damage is not a torn last write but lost acknowledged data.
pub fn valid_frame_after(bytes: &[u8], base: u64, from: u64) -> bool {
    let start = (from - base) as usize + 1;
    (start..bytes.len().saturating_sub(FRAME_LEN)).any(|at| {
        let rest = &bytes[at..];
        let len = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(rest[4..8].try_into().expect("4 bytes"));
        len > 0
            && len <= MAX_FRAME
            && rest.len() >= FRAME_LEN + len
            && crc32fast::hash(&rest[FRAME_LEN..][..len]) == crc
    })
}

/// Reads the frame at `at` from `file` and checks it; returns its payload.
pub fn read_frame(file: &File, at: FrameAt) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; at.len as usize];
    file.read_exact_at(&mut bytes, at.offset)?;
    let len = u32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    if FRAME_LEN + len != bytes.len() || crc32fast::hash(&bytes[FRAME_LEN..]) != crc {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "segment frame damaged (length or checksum)"));
    }
    bytes.drain(..FRAME_LEN);
    Ok(bytes)
}

/// Cuts a segment at `offset` (a torn tail) and syncs it.
pub fn truncate(path: &Path, offset: u64) -> io::Result<()> {
    let file = OpenOptions::new().write(true).open(path)?;
    file.set_len(offset)?;
    file.sync_all()
}

/// Makes entries created, renamed or removed in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The segment being appended to.
pub struct Appender {
    pub id: u64,
    file: File,
    /// Bytes in the file, all of them valid frames (or the header).
    len: u64,
}

impl Appender {
    /// Creates segment `id` in `dir` with its header, durably (file and
    /// directory entry).
    pub fn create(kind: &Kind, dir: &Path, id: u64) -> io::Result<Appender> {
        let mut file = OpenOptions::new().create_new(true).read(true).append(true).open(kind.path(dir, id))?;
        file.write_all(&kind.header())?;
        file.sync_all()?;
        sync_dir(dir)?;
        Ok(Appender { id, file, len: HEADER_LEN as u64 })
    }

    /// Continues an existing segment whose valid data is `len` bytes long
    /// (anything after it must have been cut already).
    pub fn reopen(kind: &Kind, dir: &Path, id: u64, len: u64) -> io::Result<Appender> {
        let mut appender = Appender::reopen_path(&kind.path(dir, id), len)?;
        appender.id = id;
        Ok(appender)
    }

    /// `reopen` for a file with a fixed name (its id is 0).
    pub fn reopen_path(path: &Path, len: u64) -> io::Result<Appender> {
        let file = OpenOptions::new().read(true).append(true).open(path)?;
        Ok(Appender { id: 0, file, len })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// A handle for positional reads of this segment.
    pub fn reader(&self) -> io::Result<File> {
        self.file.try_clone()
    }

    /// Appends `frames` (whole frames) with one write, syncs them with one
    /// `fdatasync` when `sync`, and returns the offset they start at. On
    /// failure the file is cut back to its previous length, so a later
    /// append never follows garbage; if even that fails the error says so
    /// and the caller must move to a new segment.
    pub fn append(&mut self, frames: &[u8], sync: bool) -> Result<u64, AppendError> {
        let at = self.len;
        let written = self.file.write_all(frames).and_then(|()| if sync { self.file.sync_data() } else { Ok(()) });
        match written {
            Ok(()) => {
                self.len += frames.len() as u64;
                Ok(at)
            }
            Err(e) => match self.file.set_len(at) {
                Ok(()) => Err(AppendError { source: e, segment_unusable: false }),
                Err(_) => Err(AppendError { source: e, segment_unusable: true }),
            },
        }
    }

    /// Makes everything appended so far durable.
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// Empties the segment back to its header (everything in it is done
    /// with), durably.
    pub fn reset(&mut self) -> io::Result<()> {
        self.file.set_len(HEADER_LEN as u64)?;
        self.file.sync_all()?;
        self.len = HEADER_LEN as u64;
        Ok(())
    }
}

#[derive(Debug)]
pub struct AppendError {
    pub source: io::Error,
    /// The failed write could not be cut off: append elsewhere.
    pub segment_unusable: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: Kind = Kind { magic: *b"TEST", version: 1, extension: "test" };

    fn segment(payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = KIND.header().to_vec();
        for p in payloads {
            frame(p, &mut bytes);
        }
        bytes
    }

    #[test]
    fn frames_round_trip_and_a_torn_tail_keeps_complete_frames() {
        let bytes = segment(&[b"one", b"two"]);
        let (frames, damage) = scan(&KIND, &bytes, 0);
        assert_eq!(damage, None);
        assert_eq!(frames.iter().map(|f| f.payload(&bytes, 0)).collect::<Vec<_>>(), [b"one", b"two"]);
        let first_end = frames[0].end() as usize;
        for cut in first_end + 1..bytes.len() {
            let (frames, damage) = scan(&KIND, &bytes[..cut], 0);
            assert_eq!(frames.len(), 1, "cut at {cut}");
            assert_eq!(damage, Some((first_end as u64, Damage::TornFrame)));
            assert!(!valid_frame_after(&bytes[..cut], 0, first_end as u64));
        }
        // A scan from the middle, as the archive does past its index.
        let (tail, damage) = scan(&KIND, &bytes[first_end..], first_end as u64);
        assert_eq!(
            (tail[0].offset, tail[0].payload(&bytes[first_end..], first_end as u64), damage),
            (first_end as u64, &b"two"[..], None)
        );
    }

    #[test]
    fn damage_before_valid_frames_is_told_apart_from_a_torn_tail() {
        let mut bytes = segment(&[b"one", b"two", b"three"]);
        let second = scan(&KIND, &bytes, 0).0[1];
        bytes[second.offset as usize + FRAME_LEN] ^= 0xff;
        let (frames, damage) = scan(&KIND, &bytes, 0);
        assert_eq!((frames.len(), damage), (1, Some((second.offset, Damage::ChecksumMismatch))));
        assert!(valid_frame_after(&bytes, 0, second.offset));
        assert_eq!(scan(&KIND, b"not a segment", 0).1, Some((0, Damage::BadHeader)));
    }

    #[test]
    fn appender_appends_reads_back_and_resets() {
        let dir = tempfile::tempdir().unwrap();
        let mut appender = Appender::create(&KIND, dir.path(), 7).unwrap();
        let mut buf = Vec::new();
        frame_parts(&[b"ab", b"cd"], &mut buf);
        let at = appender.append(&buf, true).unwrap();
        assert_eq!((at, appender.len()), (HEADER_LEN as u64, (HEADER_LEN + buf.len()) as u64));
        let reader = appender.reader().unwrap();
        assert_eq!(read_frame(&reader, FrameAt { offset: at, len: buf.len() as u32 }).unwrap(), b"abcd");
        assert_eq!(KIND.list(dir.path()).unwrap(), vec![7]);
        appender.reset().unwrap();
        assert_eq!(fs::read(KIND.path(dir.path(), 7)).unwrap(), KIND.header());
        assert!(read_frame(&reader, FrameAt { offset: at, len: buf.len() as u32 }).is_err());
    }
}
