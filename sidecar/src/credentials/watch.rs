//! The credentials file as the sidecar holds it: loaded at start (a file that cannot be read stops
//! the start), re-read when its modification time changes, swapped atomically; a broken new version
//! keeps the last good one, as the identity store does.

use super::{Credentials, CredentialsError};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// The current credentials and where they come from.
#[derive(Debug)]
pub struct WatchedCredentials {
    path: PathBuf,
    current: ArcSwap<Credentials>,
    modified: Mutex<Option<SystemTime>>,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl WatchedCredentials {
    /// Loads the file.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, CredentialsError> {
        let path = path.into();
        let stamp = modified(&path);
        let credentials = Credentials::load(&path)?;
        Ok(WatchedCredentials {
            current: ArcSwap::from_pointee(credentials),
            modified: Mutex::new(stamp),
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

    /// Re-reads the file if it changed. `Ok(true)` when a new version was swapped in; on an error
    /// the last good version stays.
    pub fn refresh(&self) -> Result<bool, CredentialsError> {
        let stamp = modified(&self.path);
        {
            let last = self
                .modified
                .lock()
                .map_err(|_| CredentialsError::Poisoned)?;
            if *last == stamp {
                return Ok(false);
            }
        }
        let credentials = Credentials::load(&self.path)?;
        self.current.store(Arc::new(credentials));
        *self
            .modified
            .lock()
            .map_err(|_| CredentialsError::Poisoned)? = stamp;
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

        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = c
            .create_key("arn:aws:iam::111122223333:user/alice", chrono::Utc::now())
            .unwrap();
        c.save(&path).unwrap();
        assert!(watched.refresh().unwrap());
        assert!(watched.current().key(&second.access_key_id).is_some());

        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, "{not json").unwrap();
        assert!(watched.refresh().is_err());
        assert!(watched.current().key(&second.access_key_id).is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
