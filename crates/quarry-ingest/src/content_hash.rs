//! The content hash that names an input in the manifest, so that ingesting the same file again
//! adds nothing.
//!
//! Inputs are hashed with BLAKE3 while they are read (several times faster than SHA-256, which
//! was a tenth of an ingest's work) and recorded as `blake3:<hex>`. Workspaces written before
//! recorded a bare SHA-256 hex: of the file for text formats, of that hex text for Parquet and
//! `.evtx`. [`legacy_keys`] gives both, so that those inputs are still recognised.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

/// The prefix of the keys [`ContentHasher`] makes.
const PREFIX: &str = "blake3:";

/// Hashes an input's bytes as they are read.
#[derive(Default)]
pub(crate) struct ContentHasher(blake3::Hasher);

impl ContentHasher {
    /// A hasher that has seen nothing.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes`.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Adds everything `reader` gives.
    pub(crate) fn update_from(&mut self, reader: impl Read) -> std::io::Result<()> {
        let mut buffered = BufReader::with_capacity(1 << 20, reader);
        std::io::copy(&mut buffered, self)?;
        Ok(())
    }

    /// The manifest key of what was added.
    pub(crate) fn key(&self) -> String {
        format!("{PREFIX}{}", self.0.finalize().to_hex())
    }
}

impl Write for ContentHasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The manifest key of a file's content (what an ingest of it records).
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut hasher = ContentHasher::new();
    hasher.update_from(File::open(path)?)?;
    Ok(hasher.key())
}

/// True for a key recorded by an older Quarry (bare SHA-256 hex).
pub(crate) fn is_legacy_key(key: &str) -> bool {
    !key.starts_with(PREFIX)
}

/// The keys an older Quarry may have recorded for this file: the SHA-256 of its content (text
/// formats) and the SHA-256 of that hex text (Parquet and `.evtx`).
pub(crate) fn legacy_keys(path: &Path) -> std::io::Result<[String; 2]> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    let content = format!("{:x}", hasher.finalize());
    let of_hex = format!("{:x}", Sha256::digest(content.as_bytes()));
    Ok([content, of_hex])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_algorithm_and_depend_on_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.ndjson");
        std::fs::write(&path, b"{\"a\":1}\n{\"a\":2}\n").unwrap();
        let key = hash_file(&path).unwrap();
        assert!(key.starts_with("blake3:") && key.len() == PREFIX.len() + 64);
        assert!(!is_legacy_key(&key));

        let mut streamed = ContentHasher::new();
        streamed.update(b"{\"a\":1}\n");
        streamed.update(b"{\"a\":2}\n");
        assert_eq!(streamed.key(), key);

        std::fs::write(&path, b"{\"a\":1}\n{\"a\":3}\n").unwrap();
        assert_ne!(hash_file(&path).unwrap(), key);
    }

    #[test]
    fn legacy_keys_are_the_sha256_an_older_manifest_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv");
        std::fs::write(&path, b"abc").unwrap();
        let [content, of_hex] = legacy_keys(&path).unwrap();
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            content,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(of_hex, format!("{:x}", Sha256::digest(content.as_bytes())));
        assert!(is_legacy_key(&content));
    }
}
