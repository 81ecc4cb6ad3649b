//! The log's local files in its data directory: the deduplication index, the roots,
//! the key and the lock, each written durably.

use super::*;

/// The deduplication index in memory, and its file.
pub(super) struct Index {
    pub(super) by_key: HashMap<[u8; 32], (u64, u64)>,
    pub(super) by_hash: HashMap<[u8; 32], u64>,
    pub(super) next: u64,
    pub(super) path: PathBuf,
}

impl Index {
    pub(super) fn load(path: PathBuf) -> Result<Self, LogError> {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(LogError::Io(format!("{}: {e}", path.display()))),
        };
        let (records, whole) = IndexRecord::decode_all(&bytes);
        if whole != bytes.len() {
            truncate(&path, whole as u64)?;
        }
        let mut index = Index {
            by_key: HashMap::new(),
            by_hash: HashMap::new(),
            next: 0,
            path,
        };
        index.insert(&records);
        Ok(index)
    }

    pub(super) fn insert(&mut self, records: &[IndexRecord]) {
        for r in records {
            self.by_key.insert(r.key, (r.leaf_index, r.timestamp));
            self.by_hash.insert(r.leaf_hash.0, r.leaf_index);
            self.next = self.next.max(r.leaf_index + 1);
        }
    }

    /// Appends records durably, then adds them in memory.
    pub(super) fn append(&mut self, records: &[IndexRecord]) -> Result<(), LogError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(records.len() * INDEX_RECORD_LEN);
        for r in records {
            r.encode(&mut bytes);
        }
        let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", self.path.display()));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_data().map_err(io)?;
        self.insert(records);
        Ok(())
    }

    pub(super) fn reset(&mut self) -> Result<(), LogError> {
        truncate(&self.path, 0)?;
        self.by_key.clear();
        self.by_hash.clear();
        self.next = 0;
        Ok(())
    }
}

pub(super) fn truncate(path: &Path, len: u64) -> Result<(), LogError> {
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(io)?;
    f.set_len(len).map_err(io)?;
    f.sync_all().map_err(io)
}

pub(super) fn load_roots(path: &Path) -> Result<Roots, LogError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Roots::from_pem(&text).map_err(LogError::Roots),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Roots::new()),
        Err(e) => Err(LogError::Io(format!("{}: {e}", path.display()))),
    }
}

/// Appends PEM roots to a log's `roots.pem` durably (what `zdns ct roots add` does); a
/// running log picks them up within a sequencing period. Returns how many were new.
pub fn add_roots_file(data_dir: &Path, pem: &str) -> Result<usize, LogError> {
    let path = data_dir.join(ROOTS_FILE);
    let mut roots = load_roots(&path)?;
    let added = roots.add_pem(pem).map_err(LogError::Roots)?;
    if added == 0 {
        return Ok(0);
    }
    let mut text = String::new();
    for der in roots.certs() {
        text.push_str(
            &pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der)
                .map_err(|e| LogError::Io(e.to_string()))?,
        );
    }
    write_durably(&path, text.as_bytes())?;
    Ok(added)
}

pub(super) fn load_crls(path: &Path) -> Result<Crls, LogError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Crls::from_pem(&text).map_err(LogError::Crl),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Crls::new()),
        Err(e) => Err(LogError::Io(format!("{}: {e}", path.display()))),
    }
}

/// Adds CRLs (PEM `X509 CRL` blocks, or one DER CRL) to a log's `crls.pem` durably (what
/// `zdns ct crl add` does); a running log picks them up within a sequencing period.
/// Returns how many were new.
pub fn add_crls_file(data_dir: &Path, data: &[u8]) -> Result<usize, LogError> {
    let path = data_dir.join(CRLS_FILE);
    let mut crls = load_crls(&path)?;
    // A DER CertificateList starts with a SEQUENCE tag; PEM is text.
    let added = if data.first() == Some(&0x30) {
        usize::from(crls.add(crate::crl::Crl::parse(data.to_vec()).map_err(LogError::Crl)?))
    } else {
        let text = std::str::from_utf8(data)
            .map_err(|_| LogError::Crl(CrlError("neither DER nor PEM".into())))?;
        if !text.contains("-----BEGIN X509 CRL-----") {
            return Err(LogError::Crl(CrlError("no X509 CRL block".into())));
        }
        crls.add_pem(text).map_err(LogError::Crl)?
    };
    if added == 0 {
        return Ok(0);
    }
    let mut text = String::new();
    for crl in crls.iter() {
        text.push_str(
            &pem_rfc7468::encode_string("X509 CRL", pem_rfc7468::LineEnding::LF, crl.der())
                .map_err(|e| LogError::Io(e.to_string()))?,
        );
    }
    write_durably(&path, text.as_bytes())?;
    Ok(added)
}

/// Writes a local file: temporary file, fsync, rename, fsync the directory.
pub(super) fn write_durably(path: &Path, data: &[u8]) -> Result<(), LogError> {
    let dir = path
        .parent()
        .ok_or_else(|| LogError::Io(format!("{} has no directory", path.display())))?;
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let nonce = getrandom::u64().map_err(|e| LogError::Io(e.to_string()))?;
    let tmp = dir.join(format!(".{file}.{nonce:016x}.tmp"));
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(data).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

/// Locks the data directory's lock file, waiting a few seconds for a log that is
/// closing in this process to release it.
pub(super) async fn lock_dir(dir: &Path) -> Result<std::fs::File, LogError> {
    let path = dir.join(LOCK_FILE);
    let io = |e: std::io::Error| LogError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    for _ in 0..500 {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
    }
    Err(LogError::Io(format!(
        "{} is locked: another process runs this log",
        path.display()
    )))
}

/// Loads the log key from `data_dir/log.key`, generating it if allowed and missing.
pub(super) fn load_key(config: &LogConfig) -> Result<LogKey, LogError> {
    let path = config.data_dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(der) => LogKey::from_pkcs8_der(&der).map_err(|e| LogError::Key(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && config.generate_key => {
            let key = generate_key()?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| LogError::Key(e.to_string()))?;
            write_durably(&path, &der)?;
            Ok(key)
        }
        Err(e) => Err(LogError::Key(format!("{}: {e}", path.display()))),
    }
}

/// The public key of the log whose data directory is `data_dir` (its key must exist).
pub fn public_key(data_dir: &Path) -> Result<crate::keys::LogPublicKey, LogError> {
    let path = data_dir.join(KEY_FILE);
    let der =
        std::fs::read(&path).map_err(|e| LogError::Key(format!("{}: {e}", path.display())))?;
    let key = LogKey::from_pkcs8_der(&der).map_err(|e| LogError::Key(e.to_string()))?;
    Ok(key.public().clone())
}

/// A new key from the operating system's random source.
pub(super) fn generate_key() -> Result<LogKey, LogError> {
    let mut last = String::new();
    // A random 32-byte string is a valid P-256 scalar but with negligible probability.
    for _ in 0..8 {
        let mut scalar = [0u8; 32];
        getrandom::fill(&mut scalar).map_err(|e| LogError::Key(e.to_string()))?;
        match LogKey::from_scalar(&scalar) {
            Ok(key) => return Ok(key),
            Err(e) => last = e.to_string(),
        }
    }
    Err(LogError::Key(last))
}
