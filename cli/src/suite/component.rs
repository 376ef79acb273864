//! Components: the processes a suite starts (backends, collectors), each in its own process
//! group so that stopping it stops its workers too, with its output in a log file, waited for
//! until healthy, and stopped (signal, grace period, then SIGKILL) when dropped, so every exit
//! path (an error, Ctrl-C, a panic) stops what was started.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::file::{ComponentSpec, StopSignalKind};

/// A component that failed: its name, what happened and the end of its log.
#[derive(Debug)]
pub struct ComponentError {
    pub name: String,
    pub reason: String,
    pub log: PathBuf,
    pub last_lines: Vec<String>,
}

impl std::fmt::Display for ComponentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "component `{}` {}", self.name, self.reason)?;
        if self.last_lines.is_empty() {
            write!(f, " (its log {} is empty)", self.log.display())
        } else {
            writeln!(f, "; last lines of its log {}:", self.log.display())?;
            for line in &self.last_lines {
                writeln!(f, "  | {line}")?;
            }
            Ok(())
        }
    }
}

/// Lines of a component's log shown when it fails.
pub const LOG_LINES: usize = 20;

/// The last `n` lines of a file (empty if unreadable).
pub fn last_lines(path: &Path, n: usize) -> Vec<String> {
    let text =
        std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].iter().map(|l| (*l).to_owned()).collect()
}

/// A started component; stopped when dropped.
#[derive(Debug)]
pub struct Running {
    pub spec: ComponentSpec,
    child: Option<Child>,
    pub pid: u32,
    pub log: PathBuf,
}

impl Running {
    /// Starts `spec` with its output appended to `log`.
    pub fn start(spec: &ComponentSpec, log: &Path) -> Result<Running, ComponentError> {
        let fail = |reason: String| ComponentError {
            name: spec.name.clone(),
            reason,
            log: log.to_owned(),
            last_lines: last_lines(log, LOG_LINES),
        };
        let out = File::options().create(true).append(true).open(log).map_err(|e| {
            fail(format!("could not start: cannot open its log {}: {e}", log.display()))
        })?;
        let err = out.try_clone().map_err(|e| fail(format!("could not start: {e}")))?;
        let mut command = Command::new(&spec.command[0]);
        command
            .args(&spec.command[1..])
            .envs(spec.env.iter().cloned())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(dir) = &spec.cwd {
            command.current_dir(dir);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // Its own process group: one signal reaches its workers too, and a Ctrl-C in the
            // terminal reaches scaletest only, which then stops it in order.
            command.process_group(0);
        }
        let child = command
            .spawn()
            .map_err(|e| fail(format!("could not start `{}`: {e}", spec.command[0])))?;
        let pid = child.id();
        Ok(Running { spec: spec.clone(), child: Some(child), pid, log: log.to_owned() })
    }

    /// The failure of this component, with the end of its log.
    pub fn error(&self, reason: impl Into<String>) -> ComponentError {
        ComponentError {
            name: self.spec.name.clone(),
            reason: reason.into(),
            log: self.log.clone(),
            last_lines: last_lines(&self.log, LOG_LINES),
        }
    }

    /// `Some(description)` if the process has exited.
    pub fn exited(&mut self) -> Option<String> {
        let child = self.child.as_mut()?;
        match child.try_wait() {
            Ok(Some(status)) => Some(describe_exit(status)),
            Ok(None) => None,
            Err(e) => Some(format!("could not be watched: {e}")),
        }
    }

    /// Waits until the health URL answers 2xx (or, without one, until the process has run
    /// for a moment), bounded by the readiness timeout; fails early if the process exits.
    pub async fn wait_healthy(
        &mut self,
        client: &reqwest::Client,
    ) -> Result<Duration, ComponentError> {
        let began = Instant::now();
        let deadline = began + self.spec.ready_timeout;
        loop {
            if let Some(how) = self.exited() {
                return Err(self.error(format!("exited before it was healthy ({how})")));
            }
            let healthy = match &self.spec.health_url {
                Some(url) => client
                    .get(url)
                    .timeout(Duration::from_secs(2))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success()),
                None => began.elapsed() >= Duration::from_millis(500),
            };
            if healthy {
                return Ok(began.elapsed());
            }
            if Instant::now() >= deadline {
                let what = self.spec.health_url.as_deref().map_or("started".to_owned(), |u| {
                    format!("healthy at {}", crate::config::redact_url(u))
                });
                return Err(self.error(format!(
                    "was not {what} within its ready_timeout of {}s",
                    self.spec.ready_timeout.as_secs_f64()
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Stops the process group: the stop signal, up to the grace period, then SIGKILL.
    /// Returns how it ended.
    pub fn stop(&mut self) -> Option<String> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            // Workers may outlive their leader; the group still gets the signal.
            signal_group(self.pid, StopSignalKind::Kill);
            return Some(describe_exit(status));
        }
        signal_group(self.pid, self.spec.stop_signal);
        let deadline = Instant::now() + self.spec.stop_grace;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    signal_group(self.pid, StopSignalKind::Kill);
                    return Some(describe_exit(status));
                }
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    signal_group(self.pid, StopSignalKind::Kill);
                    let status = child.wait().ok();
                    return Some(format!(
                        "killed after its stop_grace of {}s{}",
                        self.spec.stop_grace.as_secs_f64(),
                        status.map(|s| format!(" ({})", describe_exit(s))).unwrap_or_default()
                    ));
                }
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "exited".to_owned(),
    }
}

/// Sends `signal` to the process group `pgid` (errors ignored: the group may be gone).
#[cfg(unix)]
fn signal_group(pgid: u32, signal: StopSignalKind) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let signal = match signal {
        StopSignalKind::Term => Signal::SIGTERM,
        StopSignalKind::Int => Signal::SIGINT,
        StopSignalKind::Quit => Signal::SIGQUIT,
        StopSignalKind::Hup => Signal::SIGHUP,
        StopSignalKind::Kill => Signal::SIGKILL,
    };
    if let Ok(pgid) = i32::try_from(pgid) {
        let _ = killpg(Pid::from_raw(pgid), signal);
    }
}

#[cfg(not(unix))]
fn signal_group(_pgid: u32, _signal: StopSignalKind) {}
