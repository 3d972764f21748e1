//! The open-files limit: every connection (an event stream held by a phone, say) is a file
//! descriptor, and the soft limit a process starts with (1,024 on most systems) is far below what
//! it may use (the hard limit). `frase serve` raises the soft limit to the hard limit at start,
//! keeps a reserve for its own files (the database, its WAL, the pool's connections, the
//! listener), and answers the connections past that with 503 and `Retry-After` instead of
//! failing to accept them.

/// File descriptors kept for the process itself: the database and its journal files for the
/// writer and every reader, the listener, the log, what a TLS reload or an export opens.
pub const RESERVED: u64 = 64;

/// The open-files limit, before and after raising it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    /// The soft limit the process started with.
    pub started_with: u64,
    /// The soft limit now.
    pub limit: u64,
}

impl OpenFiles {
    /// How many connections fit beside the reserve.
    pub fn connections(&self) -> usize {
        usize::try_from(self.limit.saturating_sub(RESERVED))
            .unwrap_or(usize::MAX)
            .max(1)
    }
}

/// Raises the soft open-files limit to the hard limit (on Unix; elsewhere there is nothing to
/// raise and the answer is `None`, as it is when the limit cannot be read).
pub fn raise_to_hard_limit() -> Option<OpenFiles> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own, and nothing else.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        let started_with = limit.rlim_cur;
        // "Unlimited" is not a number of connections: keep a large, real figure.
        let target = if limit.rlim_max == libc::RLIM_INFINITY {
            1_048_576
        } else {
            limit.rlim_max
        };
        if target > limit.rlim_cur {
            let raised = libc::rlimit {
                rlim_cur: target,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: setrlimit reads the struct we own. Raising the soft limit up to the hard
            // one is always allowed; if it fails, the limit is what it was.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit.rlim_cur = target;
            }
        }
        Some(OpenFiles {
            started_with,
            limit: limit.rlim_cur,
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_ends_at_the_hard_limit() {
        let files = raise_to_hard_limit().expect("the limit can be read");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(files.limit, limit.rlim_cur);
        assert!(files.limit >= files.started_with);
        if limit.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(limit.rlim_cur, limit.rlim_max);
        }
    }

    #[test]
    fn the_reserve_is_kept() {
        let files = OpenFiles {
            started_with: 1024,
            limit: 20_000,
        };
        assert_eq!(files.connections(), 20_000 - 64);
        let tiny = OpenFiles {
            started_with: 16,
            limit: 16,
        };
        assert_eq!(tiny.connections(), 1);
    }
}
