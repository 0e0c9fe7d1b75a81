//! The credentials file on disk: read (refused when group or other may access it), written
//! atomically, and changed only under a lock, so that concurrent writers — `iamlet keys` run twice
//! at once, STS replicas recording MFA attempts — never lose each other's updates.
//!
//! - A change is a read-modify-write under an exclusive lock on `FILE.lock` beside the file (the
//!   file itself is replaced on every write, so it cannot hold the lock). The lock is the operating
//!   system's (`flock`): a process that dies releases it.
//! - A write goes to a temporary file with a name of its own (so two writers never share one),
//!   mode 0600, synced, renamed over the file, and the directory synced: after the rename returns,
//!   the new version survives a crash, and a reader sees the old version or the new one, never half.
//! - [`Stamp`] tells a reader whether the file may have changed: its inode, length and modification
//!   time, and for a file modified within the last [`RACY_SECONDS`] also its content's digest (two
//!   writes within one tick of the file system's clock leave the same time and, often, length).

use super::{Credentials, CredentialsError};
use ring::digest;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A file modified this recently may be modified again within the same clock tick: its stamp
/// includes a digest of its content.
pub(crate) const RACY_SECONDS: u64 = 2;

impl Credentials {
    /// Reads the file; a file that does not exist is an empty store. Refuses a file that group or
    /// other may access.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        Ok(read(path)?.map(|(c, _)| c).unwrap_or_default())
    }

    /// Writes the file atomically: a temporary file of its own (mode 0600) beside it, synced, then
    /// renamed over it, and the directory synced. Use [`Credentials::update`] to change a file
    /// others may be changing too.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| CredentialsError::Format {
            path: path.to_owned(),
            message: e.to_string(),
        })? + "\n";
        let (tmp, mut file) = create_temporary(path)?;
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(path, e));
        }
        sync_directory(path)
    }

    /// Changes the file under its lock: reads the newest version, applies `change`, and writes the
    /// result back when `change` altered it. Whatever `change` returns is returned, so a change can
    /// record a failure (an MFA attempt) and still report it.
    pub fn update<T>(
        path: &Path,
        change: impl FnOnce(&mut Credentials) -> T,
    ) -> Result<T, CredentialsError> {
        let _lock = Lock::exclusive(path)?;
        let before = Credentials::load(path)?;
        let mut after = before.clone();
        let out = change(&mut after);
        if after != before {
            after.save(path)?;
        }
        Ok(out)
    }
}

/// Reads and parses the file and stamps what was read; `None` when it does not exist.
pub(crate) fn read(path: &Path) -> Result<Option<(Credentials, Stamp)>, CredentialsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(io(path, source)),
    };
    check_permissions(path)?;
    let stamp = Stamp::of_text(path, &text);
    let mut de = serde_json::Deserializer::from_str(&text);
    let credentials: Credentials =
        serde_path_to_error::deserialize(&mut de).map_err(|e| CredentialsError::Format {
            path: path.to_owned(),
            message: format!("{}: {}", e.path(), e.inner()),
        })?;
    Ok(Some((credentials, stamp)))
}

/// What a reader remembers of the version it read, to tell whether the file changed since.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stamp {
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
    /// The content's SHA-256; compared only when the metadata cannot rule a change out.
    digest: Vec<u8>,
}

impl Stamp {
    fn of_text(path: &Path, text: &str) -> Stamp {
        let meta = std::fs::metadata(path).ok();
        Stamp {
            inode: meta.as_ref().map_or(0, inode),
            len: text.len() as u64,
            modified: meta.and_then(|m| m.modified().ok()),
            digest: digest::digest(&digest::SHA256, text.as_bytes())
                .as_ref()
                .to_vec(),
        }
    }

    /// Whether the file may differ from the version this stamp was taken of: its metadata differs,
    /// or it was modified too recently for the metadata to tell (then its content is compared).
    pub(crate) fn changed(&self, path: &Path) -> bool {
        let Ok(meta) = std::fs::metadata(path) else {
            return true;
        };
        let modified = meta.modified().ok();
        if inode(&meta) != self.inode || meta.len() != self.len || modified != self.modified {
            return true;
        }
        let racy = modified
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_none_or(|age| age < Duration::from_secs(RACY_SECONDS));
        if !racy {
            return false;
        }
        match std::fs::read(path) {
            Ok(bytes) => digest::digest(&digest::SHA256, &bytes).as_ref() != self.digest.as_slice(),
            Err(_) => true,
        }
    }
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

/// An exclusive lock on `FILE.lock`, released when dropped (or when the process ends).
#[derive(Debug)]
struct Lock(File);

impl Lock {
    fn exclusive(path: &Path) -> Result<Lock, CredentialsError> {
        let lock_path = sibling(path, ".lock");
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&lock_path).map_err(|e| io(&lock_path, e))?;
        file.lock().map_err(|e| io(&lock_path, e))?;
        Ok(Lock(file))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// `FILE` + `suffix`, beside it.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// A new temporary file beside `path`, with a random name no other writer uses, mode 0600.
fn create_temporary(path: &Path) -> Result<(PathBuf, File), CredentialsError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    loop {
        let suffix = super::random_key_chars(super::BASE32, 12)?;
        let tmp = sibling(path, &format!(".{suffix}.tmp"));
        match options.open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(&tmp, e)),
        }
    }
}

/// Syncs the directory holding `path`, so that a rename into it survives a crash.
#[cfg(unix)]
fn sync_directory(path: &Path) -> Result<(), CredentialsError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io(dir, e))
}

#[cfg(not(unix))]
fn sync_directory(_path: &Path) -> Result<(), CredentialsError> {
    Ok(())
}

fn io(path: &Path, source: std::io::Error) -> CredentialsError {
    CredentialsError::Io {
        path: path.to_owned(),
        source,
    }
}

#[cfg(unix)]
fn check_permissions(path: &Path) -> Result<(), CredentialsError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| io(path, e))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(CredentialsError::LoosePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path) -> Result<(), CredentialsError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("iamlet-credfile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Found by the security review: two writers at once either failed on a shared temporary name
    /// or one's update (a deactivated key) was undone by the other's.
    #[test]
    fn concurrent_updates_are_never_lost() {
        let dir = temp_dir("concurrent");
        let path = dir.join("credentials.json");
        let threads: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let user = format!("arn:aws:iam::111122223333:user/u{i}");
                    Credentials::update(&path, |c| c.create_key(&user, chrono::Utc::now()))
                        .unwrap()
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let c = Credentials::load(&path).unwrap();
        assert_eq!(c.access_keys.len(), 16);
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(left.is_empty(), "{left:?}");

        // A deactivation racing with creations stays done.
        let key = c.access_keys[0].clone();
        let user = key.user_name().to_owned();
        let racers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                let (user, id) = (user.clone(), key.access_key_id.clone());
                std::thread::spawn(move || {
                    if i == 0 {
                        Credentials::update(&path, |c| {
                            c.set_status(&user, &id, super::super::KeyStatus::Inactive)
                        })
                        .unwrap()
                        .unwrap();
                    } else {
                        let other = format!("arn:aws:iam::111122223333:user/late{i}");
                        Credentials::update(&path, |c| c.create_key(&other, chrono::Utc::now()))
                            .unwrap()
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in racers {
            t.join().unwrap();
        }
        let c = Credentials::load(&path).unwrap();
        assert_eq!(c.access_keys.len(), 23);
        assert_eq!(
            c.key(&key.access_key_id).unwrap().status,
            super::super::KeyStatus::Inactive
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unchanged_update_does_not_write() {
        let dir = temp_dir("nowrite");
        let path = dir.join("credentials.json");
        let mut c = Credentials::default();
        c.create_key(ALICE, chrono::Utc::now()).unwrap();
        c.save(&path).unwrap();
        let (_, stamp) = read(&path).unwrap().unwrap();
        Credentials::update(&path, |_| ()).unwrap();
        let (_, again) = read(&path).unwrap().unwrap();
        assert_eq!(stamp, again, "the file was not rewritten");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Found by the security review: a rewrite of the same length within one tick of the file
    /// system's clock kept the same modification time, and a watcher comparing times missed it.
    #[test]
    fn a_rewrite_within_one_clock_tick_is_seen() {
        let dir = temp_dir("racy");
        let path = dir.join("credentials.json");
        std::fs::write(&path, "{\"accessKeys\": []} ").unwrap();
        set_mode_0600(&path);
        let (_, stamp) = read(&path).unwrap().unwrap();
        let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
        // Same length, same inode, and the old modification time put back.
        std::fs::write(&path, "{\"accessKeys\":[] }").unwrap();
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert!(stamp.changed(&path));
        let (_, fresh) = read(&path).unwrap().unwrap();
        assert!(!fresh.changed(&path));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn set_mode_0600(path: &Path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}
