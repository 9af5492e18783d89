//! Raw append probe: sequential 1 MiB appends into new page-cache pages, by write() or through
//! a shared mapping extended with fallocate ahead of the write position (the broker's two append
//! modes, without the broker). Files roll at `segment_bytes` like log segments and are deleted
//! at the end; their dirty pages are dropped with them, never written back on our account.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::{Error, IoContext, Result};
use crate::stats::{
    current_tid, process_usage, thread_usage, threads_delta_json, usage_delta_json,
};
use crate::window::{Counter, Phase, run_window};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendMode {
    Write,
    Mmap,
}

impl FromStr for AppendMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "write" | "pwrite" => Ok(Self::Write),
            "mmap" => Ok(Self::Mmap),
            _ => Err(Error::Usage(format!(
                "append mode {s:?} (expected write or mmap)"
            ))),
        }
    }
}

impl AppendMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Write => "write",
            Self::Mmap => "mmap",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppendProbe {
    pub mode: AppendMode,
    pub dir: PathBuf,
    pub chunk_bytes: usize,
    pub segment_bytes: u64,
    /// mmap: how far ahead of the write position the file is extended per fallocate.
    pub preallocate_step_bytes: u64,
    /// Stop after this many bytes even if the window is not over (bounds disk use).
    pub max_bytes: u64,
}

fn os_err(what: &str) -> Error {
    Error::Io {
        context: what.to_string(),
        source: io::Error::last_os_error(),
    }
}

/// One segment being appended to.
struct Segment {
    file: File,
    map: Option<(*mut u8, usize)>,
    allocated: u64,
    pos: u64,
}

impl Segment {
    fn create(cfg: &AppendProbe, path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .context(|| format!("create {}", path.display()))?;
        let map = if cfg.mode == AppendMode::Mmap {
            let len = cfg.segment_bytes as usize;
            // SAFETY: a fresh shared mapping of our own file; pages are only touched below the
            // fallocated size, so no access can fault past end of file.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    file.as_raw_fd(),
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                return Err(os_err("mmap segment"));
            }
            Some((p.cast::<u8>(), len))
        } else {
            None
        };
        Ok(Self {
            file,
            map,
            allocated: 0,
            pos: 0,
        })
    }

    fn append(&mut self, cfg: &AppendProbe, chunk: &[u8]) -> Result<()> {
        let end = self.pos + chunk.len() as u64;
        match self.map {
            None => self
                .file
                .write_all(chunk)
                .context(|| "append write".into())?,
            Some((base, len)) => {
                assert!(end as usize <= len, "append past the mapped segment");
                while self.allocated < end {
                    let step = cfg
                        .preallocate_step_bytes
                        .min(cfg.segment_bytes - self.allocated);
                    // SAFETY: fallocate on our own fd; extends the file so the pages we are
                    // about to touch are inside it (ENOSPC here, not SIGBUS later).
                    if unsafe {
                        libc::fallocate(
                            self.file.as_raw_fd(),
                            0,
                            self.allocated as libc::off_t,
                            step as libc::off_t,
                        )
                    } != 0
                    {
                        return Err(os_err("fallocate"));
                    }
                    self.allocated += step;
                }
                // SAFETY: [pos, end) lies inside both the mapping and the allocated file.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        chunk.as_ptr(),
                        base.add(self.pos as usize),
                        chunk.len(),
                    )
                };
            }
        }
        self.pos = end;
        Ok(())
    }

    /// Unmaps and trims the file to what was written (a segment roll).
    fn close(mut self) -> Result<()> {
        if let Some((base, len)) = self.map.take() {
            // SAFETY: unmapping the mapping created in `create`, exactly once.
            unsafe { libc::munmap(base.cast(), len) };
            self.file
                .set_len(self.pos)
                .context(|| "trim segment".into())?;
        }
        Ok(())
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        if let Some((base, len)) = self.map.take() {
            // SAFETY: as in close(); reached only when close() was not called (an error path).
            unsafe { libc::munmap(base.cast(), len) };
        }
    }
}

fn append_loop(
    cfg: &AppendProbe,
    phase: &Phase,
    bytes: &Counter,
    paths: &mut Vec<PathBuf>,
) -> Result<()> {
    let chunk = vec![0x5au8; cfg.chunk_bytes];
    let mut seg: Option<Segment> = None;
    while !phase.done() {
        if bytes.get() >= cfg.max_bytes {
            phase.finish();
            break;
        }
        if seg
            .as_ref()
            .is_some_and(|s| s.pos + cfg.chunk_bytes as u64 > cfg.segment_bytes)
        {
            seg.take().expect("checked").close()?;
        }
        if seg.is_none() {
            let path = cfg.dir.join(format!(
                ".loadgen-append-{}-{}",
                std::process::id(),
                paths.len()
            ));
            paths.push(path.clone());
            seg = Some(Segment::create(cfg, &path)?);
        }
        seg.as_mut().expect("opened above").append(cfg, &chunk)?;
        bytes.add(cfg.chunk_bytes as u64);
    }
    if let Some(s) = seg {
        s.close()?;
    }
    Ok(())
}

pub fn run(cfg: &AppendProbe, warmup: Duration, measure: Duration) -> Result<Value> {
    if cfg.chunk_bytes == 0
        || cfg.segment_bytes < cfg.chunk_bytes as u64
        || cfg.preallocate_step_bytes == 0
    {
        return Err(Error::Usage(
            "need chunk >= 1, segment >= chunk and a preallocation step >= 1".into(),
        ));
    }
    let phase = Arc::new(Phase::new());
    let bytes = Arc::new(Counter::default());
    let tid = Arc::new(AtomicI32::new(0));
    let worker = {
        let (cfg, phase, bytes, tid) = (cfg.clone(), phase.clone(), bytes.clone(), tid.clone());
        thread::spawn(move || {
            tid.store(current_tid(), Ordering::Relaxed);
            let mut paths = Vec::new();
            let r = append_loop(&cfg, &phase, &bytes, &mut paths);
            phase.finish();
            for p in &paths {
                let _ = std::fs::remove_file(p);
            }
            r
        })
    };
    while tid.load(Ordering::Relaxed) == 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let t = tid.load(Ordering::Relaxed);
    let span = run_window(&phase, warmup, measure, || {
        (bytes.get(), thread_usage(t), process_usage())
    });
    worker.join().expect("append thread panicked")?;
    let moved = span.end.0 - span.start.0;
    Ok(json!({
        "probe": "append",
        "mode": cfg.mode.name(),
        "chunk_bytes": cfg.chunk_bytes,
        "segment_bytes": cfg.segment_bytes,
        "preallocate_step_bytes": if cfg.mode == AppendMode::Mmap { json!(cfg.preallocate_step_bytes) } else { Value::Null },
        "window_s": span.seconds,
        "bytes": moved,
        "mb_per_s": moved as f64 / span.seconds / 1e6,
        "total_bytes": span.end.0,
        "hit_max_bytes": span.end.0 >= cfg.max_bytes,
        "thread": threads_delta_json(&[span.start.1], &[span.end.1]),
        "process": usage_delta_json(span.start.2, span.end.2),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(mode: AppendMode, dir: &Path) -> AppendProbe {
        AppendProbe {
            mode,
            dir: dir.to_path_buf(),
            chunk_bytes: 1 << 20,
            segment_bytes: 8 << 20,
            preallocate_step_bytes: 2 << 20,
            max_bytes: 24 << 20,
        }
    }

    #[test]
    fn both_modes_append_roll_and_clean_up() {
        for mode in [AppendMode::Write, AppendMode::Mmap] {
            let dir = tempfile::tempdir().unwrap();
            let v = run(
                &cfg(mode, dir.path()),
                Duration::ZERO,
                Duration::from_secs(20),
            )
            .unwrap();
            assert_eq!(
                v["total_bytes"].as_u64().unwrap(),
                24 << 20,
                "{mode:?} stops at max_bytes"
            );
            assert!(v["bytes"].as_u64().unwrap() > 0);
            assert_eq!(v["hit_max_bytes"], true);
            assert!(
                v["window_s"].as_f64().unwrap() < 20.0,
                "an early stop ends the window"
            );
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                0,
                "{mode:?} removed its segments"
            );
        }
    }

    #[test]
    fn mmap_segments_are_trimmed_to_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let c = AppendProbe {
            segment_bytes: 3 << 20,
            preallocate_step_bytes: 2 << 20,
            ..cfg(AppendMode::Mmap, dir.path())
        };
        let path = dir.path().join("seg");
        let mut s = Segment::create(&c, &path).unwrap();
        s.append(&c, &vec![1u8; 1 << 20]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            2 << 20,
            "extended one step ahead"
        );
        s.append(&c, &vec![2u8; 1 << 20]).unwrap();
        s.append(&c, &vec![3u8; 1 << 20]).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            3 << 20,
            "the last step is clamped to the segment"
        );
        s.close().unwrap();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(data.len(), 3 << 20);
        assert_eq!(
            (data[0], data[(1 << 20) + 5], data[(3 << 20) - 1]),
            (1, 2, 3)
        );
    }
}
