//! Running the chaos command of `verdict run` in its own process group, so
//! an abort stops it and everything it started.

use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

/// Why the chaos command could not be run or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("waiting for `{command}` failed: {source}")]
    Wait {
        command: String,
        source: std::io::Error,
    },
}

/// A running chaos command, leader of its own process group.
pub struct ChaosProcess {
    child: Child,
    pgid: Option<i32>,
    pub command: String,
}

impl ChaosProcess {
    /// Starts `program args…` with inherited stdin/stdout/stderr (its output
    /// streams through) in a new process group.
    pub fn spawn(program: &str, args: &[String]) -> Result<ChaosProcess, ChaosError> {
        let command = std::iter::once(program.to_string())
            .chain(args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ");
        let child = Command::new(program)
            .args(args)
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| ChaosError::Spawn {
                command: command.clone(),
                source,
            })?;
        let pgid = child.id().and_then(|id| i32::try_from(id).ok());
        Ok(ChaosProcess {
            child,
            pgid,
            command,
        })
    }

    /// Waits for the command to exit.
    pub async fn wait(&mut self) -> Result<ExitStatus, ChaosError> {
        self.child.wait().await.map_err(|source| ChaosError::Wait {
            command: self.command.clone(),
            source,
        })
    }

    /// Stops the whole process group: SIGTERM, then SIGKILL after `grace`.
    /// Returns the command's exit status.
    pub async fn stop(&mut self, grace: Duration) -> Result<ExitStatus, ChaosError> {
        if let Some(pgid) = self.pgid {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
            if let Ok(status) = tokio::time::timeout(grace, self.child.wait()).await {
                // The leader is gone; make sure nothing it started lingers.
                let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
                return status.map_err(|source| ChaosError::Wait {
                    command: self.command.clone(),
                    source,
                });
            }
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        } else {
            let _ = self.child.start_kill();
        }
        self.wait().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_kills_the_command_and_its_children() {
        // The shell starts a grandchild that would outlive a plain kill of
        // the shell; the group kill stops both.
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("sleep 30 & wait; touch {}", marker.display());
        let mut p = ChaosProcess::spawn("sh", &["-c".into(), script]).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let started = std::time::Instant::now();
        let status = p.stop(Duration::from_secs(2)).await.unwrap();
        assert!(!status.success());
        assert!(started.elapsed() < Duration::from_secs(3));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !marker.exists(),
            "the shell was killed before it could continue"
        );
    }

    #[tokio::test]
    async fn a_finished_command_reports_its_status() {
        let mut p = ChaosProcess::spawn("sh", &["-c".into(), "exit 3".into()]).unwrap();
        assert_eq!(p.wait().await.unwrap().code(), Some(3));
        let err = ChaosProcess::spawn("/nonexistent/chaos", &[])
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .starts_with("cannot start `/nonexistent/chaos`"),
            "{err}"
        );
    }
}
