//! Process hardening done once at start-up, before any secret is read: the process is made
//! non-dumpable and its core size limit is set to zero, so neither a crash, a `SIGQUIT`, nor
//! another process of the same user reading `/proc/PID/mem` can copy a secret out of memory.
//!
//! `PR_SET_DUMPABLE 0` also makes `/proc/PID/mem`, `/proc/PID/environ` and `ptrace` attach
//! refuse other unprivileged processes of the same user. `RLIMIT_CORE 0` covers systems where
//! a core pattern pipes dumps to a handler that ignores the dumpable flag.
//!
//! Secret-derived buffers are not `mlock`ed: the automaton grows to over 100 MB for 1,000
//! secrets, far past the usual 8 MiB `RLIMIT_MEMLOCK`, its tables live inside the
//! `aho-corasick` crate where they cannot be locked selectively, and `mlockall` would pin
//! every scan buffer too (measured; see docs/hygiene.md).

/// What could not be hardened; empty when both steps worked.
pub fn harden_process() -> Vec<String> {
    let mut problems = Vec::new();
    // SAFETY: prctl with PR_SET_DUMPABLE takes plain integer arguments and touches no memory.
    let dumpable = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if dumpable != 0 {
        problems.push(format!(
            "could not make the process non-dumpable: {}",
            std::io::Error::last_os_error()
        ));
    }
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit reads the struct we pass by reference and nothing else.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) } != 0 {
        problems.push(format!(
            "could not turn core dumps off: {}",
            std::io::Error::last_os_error()
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_no_core_limit_and_no_dumpable_flag() {
        assert!(harden_process().is_empty());
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) }, 0);
        assert_eq!((limit.rlim_cur, limit.rlim_max), (0, 0));
        // SAFETY: prctl PR_GET_DUMPABLE takes no pointers.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
    }
}
