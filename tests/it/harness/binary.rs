//! Finding the `prometheus` and `promtool` executables.
//!
//! Owns: the search path (PATH, then /usr/bin) and the "not found" message
//! that tells the developer how to install them. The search path is a
//! parameter so a test can search a directory without them, without touching
//! the process environment that parallel tests share.
//!
//! Must not: install anything or skip a test: a missing binary is an error.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::HarnessError;

/// Paths of the two executables the harness runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Binaries {
    /// The Prometheus server.
    pub prometheus: PathBuf,
    /// Prometheus's tool, for `tsdb create-blocks-from openmetrics`.
    pub promtool: PathBuf,
}

impl Binaries {
    /// Finds both executables in `search_path`, in order.
    pub fn locate(search_path: &[PathBuf]) -> Result<Self, HarnessError> {
        Ok(Self {
            prometheus: find_binary("prometheus", search_path)?,
            promtool: find_binary("promtool", search_path)?,
        })
    }
}

/// The directories of `$PATH`, then `/usr/bin` (where the Debian package puts
/// them) when PATH lacks it.
pub fn default_search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let usr_bin = PathBuf::from("/usr/bin");
    if !dirs.contains(&usr_bin) {
        dirs.push(usr_bin);
    }
    dirs
}

/// The first executable file called `name` in `search_path`.
pub fn find_binary(name: &str, search_path: &[PathBuf]) -> Result<PathBuf, HarnessError> {
    search_path
        .iter()
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| HarnessError::BinaryNotFound {
            name: name.to_owned(),
            searched: search_path
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(":"),
        })
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
