//! CPU and memory of a component's process tree (its process and all descendants), read from
//! `/proc` with the `procfs` crate.
//!
//! CPU is counted per process between two samples (user + system ticks), so a worker that
//! exits or starts between samples neither subtracts nor adds time it did not use in the
//! interval (a new process's ticks all count: it started after the previous sample).

use std::collections::HashMap;

use scenario_runtime::engine::report::{ComponentResources, MinMeanMax, ResourceSample};

/// Samples one process tree.
#[derive(Debug)]
pub struct Sampler {
    pub name: String,
    pub root: u32,
    /// CPU ticks of each process at the previous sample.
    last_ticks: HashMap<i32, u64>,
    last_at: Option<std::time::Instant>,
    pub samples: Vec<ResourceSample>,
}

/// One reading of a tree: total ticks per process and resident bytes.
#[derive(Debug, Default)]
struct Reading {
    ticks: HashMap<i32, u64>,
    rss_bytes: u64,
}

impl Sampler {
    pub fn new(name: &str, root: u32) -> Sampler {
        Sampler {
            name: name.to_owned(),
            root,
            last_ticks: HashMap::new(),
            last_at: None,
            samples: Vec::new(),
        }
    }

    /// Takes one sample (the first one only sets the baseline for CPU, and is not kept).
    pub fn sample(&mut self) {
        let now = std::time::Instant::now();
        let Some(reading) = read_tree(self.root) else { return };
        if let Some(last_at) = self.last_at {
            let elapsed = now.duration_since(last_at).as_secs_f64();
            let used: u64 = reading
                .ticks
                .iter()
                .map(|(pid, t)| t.saturating_sub(self.last_ticks.get(pid).copied().unwrap_or(0)))
                .sum();
            let cpu_cores =
                if elapsed > 0.0 { used as f64 / ticks_per_second() / elapsed } else { 0.0 };
            let unix_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            self.samples.push(ResourceSample {
                unix_ms,
                cpu_cores,
                rss_bytes: reading.rss_bytes,
                processes: reading.ticks.len() as u32,
            });
        }
        self.last_ticks = reading.ticks;
        self.last_at = Some(now);
    }

    /// The samples so far, summarised; the samples are moved out.
    pub fn finish(&mut self) -> ComponentResources {
        let samples = std::mem::take(&mut self.samples);
        ComponentResources {
            name: self.name.clone(),
            pid: self.root,
            cpu_cores: MinMeanMax::of(samples.iter().map(|s| s.cpu_cores)),
            rss_bytes: MinMeanMax::of(samples.iter().map(|s| s.rss_bytes as f64)),
            samples,
        }
    }
}

#[cfg(target_os = "linux")]
fn ticks_per_second() -> f64 {
    procfs::ticks_per_second() as f64
}

#[cfg(not(target_os = "linux"))]
fn ticks_per_second() -> f64 {
    100.0
}

/// The tree under `root`: `None` when `root` is gone.
#[cfg(target_os = "linux")]
fn read_tree(root: u32) -> Option<Reading> {
    let root = i32::try_from(root).ok()?;
    let mut stats = Vec::new();
    for process in procfs::process::all_processes().ok()?.flatten() {
        if let Ok(stat) = process.stat() {
            stats.push(stat);
        }
    }
    if !stats.iter().any(|s| s.pid == root) {
        return None;
    }
    let page = procfs::page_size();
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, s) in stats.iter().enumerate() {
        children.entry(s.ppid).or_default().push(i);
    }
    let mut reading = Reading::default();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        if let Some(s) = stats.iter().find(|s| s.pid == pid) {
            reading.ticks.insert(pid, s.utime + s.stime);
            reading.rss_bytes += s.rss * page;
        }
        for &i in children.get(&pid).map_or(&[][..], Vec::as_slice) {
            queue.push(stats[i].pid);
        }
    }
    Some(reading)
}

/// Not sampled outside Linux.
#[cfg(not(target_os = "linux"))]
fn read_tree(_root: u32) -> Option<Reading> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A busy child (a shell loop) under a sleeping parent: the tree's CPU is about one core
    /// and includes the child, which a sample of the parent alone would miss.
    #[test]
    fn a_busy_child_counts_in_its_parents_tree() {
        use std::os::unix::process::CommandExt;
        let mut parent = std::process::Command::new("sh")
            .args(["-c", "sh -c 'while :; do :; done' & wait"])
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| unreachable!("sh: {e}"));
        let mut sampler = Sampler::new("busy", parent.id());
        for _ in 0..4 {
            sampler.sample();
            std::thread::sleep(std::time::Duration::from_millis(400));
        }
        sampler.sample();
        // The whole group: the shell and its busy child.
        let group = nix::unistd::Pid::from_raw(parent.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = parent.kill();
        let _ = parent.wait();
        let r = sampler.finish();
        assert_eq!(r.samples.len(), 4, "{r:?}");
        assert!(r.samples.iter().all(|s| s.processes >= 2), "parent and child: {r:?}");
        // A busy loop on a shared 2-core machine: well above idle, at most about one core.
        assert!(r.cpu_cores.max > 0.1 && r.cpu_cores.max < 1.5, "{r:?}");
        assert!(r.rss_bytes.min > 0.0, "{r:?}");
    }
}
