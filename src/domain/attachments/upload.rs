//! Receiving a file: chunk-sized buffers filled as the bytes stream in, hashed on the way.

use sha2::{Digest, Sha256};

use super::{CHUNK_SIZE, content_type};
use crate::error::{AppError, AppResult};

/// A file as it streams in: chunk-sized buffers (exactly the rows it will be stored as)
/// and a running SHA-256. Refuses to grow past its limit.
pub struct Upload {
    chunks: Vec<Vec<u8>>,
    hasher: Sha256,
    size: usize,
    limit: usize,
}

impl Upload {
    pub fn new(limit: usize) -> Self {
        Upload {
            chunks: Vec::new(),
            hasher: Sha256::new(),
            size: 0,
            limit,
        }
    }

    /// Appends bytes; 413 as soon as the file would pass the limit.
    pub fn push(&mut self, mut data: &[u8]) -> AppResult<()> {
        if self.size + data.len() > self.limit {
            return Err(AppError::PayloadTooLarge { limit: self.limit });
        }
        self.hasher.update(data);
        self.size += data.len();
        while !data.is_empty() {
            if self.chunks.last().is_none_or(|c| c.len() == CHUNK_SIZE) {
                self.chunks.push(Vec::with_capacity(CHUNK_SIZE));
            }
            let Some(last) = self.chunks.last_mut() else {
                break;
            };
            let n = (CHUNK_SIZE - last.len()).min(data.len());
            last.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The digest and the detected type (CPU work: call it off the async workers).
    pub fn finish(self) -> Received {
        let head = self.chunks.first().map(Vec::as_slice).unwrap_or_default();
        let is_text = content_type::is_utf8_text(self.chunks.iter().map(Vec::as_slice));
        Received {
            content_type: content_type::detect(head, is_text),
            sha256: hex::encode(self.hasher.finalize()),
            size: self.size,
            chunks: self.chunks,
        }
    }
}

/// A whole file, ready to store.
pub struct Received {
    pub chunks: Vec<Vec<u8>>,
    pub size: usize,
    pub sha256: String,
    pub content_type: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_fill_whole_chunks_and_stop_at_the_limit() {
        let mut up = Upload::new(CHUNK_SIZE * 2 + 10);
        up.push(&vec![b'a'; CHUNK_SIZE - 1]).unwrap();
        up.push(&[b'b'; 3]).unwrap();
        up.push(&vec![b'c'; CHUNK_SIZE + 8]).unwrap();
        assert_eq!(up.len(), CHUNK_SIZE * 2 + 10);
        assert!(matches!(
            up.push(b"x"),
            Err(AppError::PayloadTooLarge { .. })
        ));
        let got = up.finish();
        let sizes: Vec<usize> = got.chunks.iter().map(Vec::len).collect();
        assert_eq!(sizes, [CHUNK_SIZE, CHUNK_SIZE, 10]);
        assert_eq!(got.content_type, content_type::TEXT);
        let mut whole = vec![b'a'; CHUNK_SIZE - 1];
        whole.extend([b'b'; 3]);
        whole.extend(vec![b'c'; CHUNK_SIZE + 8]);
        assert_eq!(got.sha256, hex::encode(Sha256::digest(&whole)));
    }
}
