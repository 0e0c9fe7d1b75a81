//! The credentials file as the sidecar holds it: loaded at start (a file that cannot be read stops
//! the start), re-read when it may have changed (its inode, length or time, or for a recent write
//! its content: [`Stamp`]), swapped atomically; a broken new version keeps the last good one, as
//! the identity store does.

use super::file::{read, Stamp};
use super::{Credentials, CredentialsError};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The current credentials and where they come from.
#[derive(Debug)]
pub struct WatchedCredentials {
    path: PathBuf,
    current: ArcSwap<Credentials>,
    /// What was read last (`None`: the file did not exist).
    stamp: Mutex<Option<Stamp>>,
}

impl WatchedCredentials {
    /// Loads the file.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, CredentialsError> {
        let path = path.into();
        let (credentials, stamp) = match read(&path)? {
            Some((c, s)) => (c, Some(s)),
            None => (Credentials::default(), None),
        };
        Ok(WatchedCredentials {
            current: ArcSwap::from_pointee(credentials),
            stamp: Mutex::new(stamp),
            path,
        })
    }

    /// The credentials now.
    pub fn current(&self) -> Arc<Credentials> {
        self.current.load_full()
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file if it may have changed (its inode, length or time differ, or it was
    /// written too recently for them to tell and its content differs). `Ok(true)` when a new
    /// version was swapped in; on an error the last good version stays.
    pub fn refresh(&self) -> Result<bool, CredentialsError> {
        let mut stamp = self.stamp.lock().map_err(|_| CredentialsError::Poisoned)?;
        let maybe_changed = match stamp.as_ref() {
            Some(s) => s.changed(&self.path),
            None => self.path.exists(),
        };
        if !maybe_changed {
            return Ok(false);
        }
        let (credentials, fresh) = match read(&self.path)? {
            Some((c, s)) => (c, Some(s)),
            None => (Credentials::default(), None),
        };
        let same = *self.current.load_full() == credentials;
        *stamp = fresh;
        if same {
            return Ok(false);
        }
        self.current.store(Arc::new(credentials));
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_swapped_in_and_a_broken_one_kept_out() {
        let dir = std::env::temp_dir().join(format!("iamlet-cred-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.json");
        let mut c = Credentials::default();
        let first = c
            .create_key("arn:aws:iam::111122223333:user/alice", chrono::Utc::now())
            .unwrap();
        c.save(&path).unwrap();
        let watched = WatchedCredentials::open(&path).unwrap();
        assert!(watched.current().key(&first.access_key_id).is_some());
        assert!(!watched.refresh().unwrap());

        let second = c
            .create_key("arn:aws:iam::111122223333:user/alice", chrono::Utc::now())
            .unwrap();
        c.save(&path).unwrap();
        assert!(watched.refresh().unwrap());
        assert!(watched.current().key(&second.access_key_id).is_some());

        std::fs::write(&path, "{not json").unwrap();
        assert!(watched.refresh().is_err());
        assert!(watched.current().key(&second.access_key_id).is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
