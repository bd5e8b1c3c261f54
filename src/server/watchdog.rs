//! The software watchdog (`watchdog-period`, Redis's debug.c watchdog): a
//! timer the cron re-arms at every tick. When the loop does not get back
//! to its cron within the period (a slow command, a long script, a stall
//! in the kernel), the timer's SIGALRM interrupts the loop's thread and
//! the handler logs where it is, in Redis's shape ("--- WATCHDOG TIMER
//! EXPIRED ---", the instruction pointer and a stack trace), and the loop
//! goes on. For finding what holds the loop, as Redis's latency docs use
//! it.
//!
//! Where Redis arms a process-wide `setitimer` and blocks SIGALRM in its
//! helper threads, the timer here is a POSIX timer aimed at the loop's own
//! thread (`SIGEV_THREAD_ID`): the AOF, snapshot and lazy-free threads
//! never take the signal, and servers that tests run side by side in one
//! process each have their own. With the period 0, SIGALRM is ignored, as
//! in Redis.

use std::io;
use std::time::Duration;

/// The loop's watchdog timer (created on the first non-zero period, on
/// the thread that applies it: the loop's).
pub struct Watchdog {
    timer: Option<Timer>,
    period: Duration,
}

/// A POSIX timer's id.
struct Timer(libc::timer_t);

// SAFETY: a timer id is a handle the kernel checks; any thread may set or
// delete the timer (its signal still goes to the thread it was made for).
unsafe impl Send for Timer {}

impl Default for Watchdog {
    fn default() -> Watchdog {
        Watchdog { timer: None, period: Duration::ZERO }
    }
}

impl Watchdog {
    /// Redis's `applyWatchdogPeriod`: the period in ms after the shortest
    /// that works (two cron ticks at `hz`: a shorter one would fire between
    /// ticks of an idle loop), which is also what CONFIG GET then shows;
    /// 0 stops the timer and ignores SIGALRM.
    pub fn apply(&mut self, period_ms: u64, hz: u32) -> io::Result<u64> {
        if period_ms == 0 {
            self.period = Duration::ZERO;
            self.arm(Duration::ZERO)?;
            ignore_sigalrm();
            return Ok(0);
        }
        let period_ms = period_ms.max(u64::from(1000 / hz.max(1)) * 2);
        install_handler();
        if self.timer.is_none() {
            self.timer = Some(Timer(timer_for_this_thread()?));
        }
        self.period = Duration::from_millis(period_ms);
        self.arm(self.period)?;
        Ok(period_ms)
    }

    /// The cron's tick: the period starts again.
    pub fn tick(&mut self) {
        if !self.period.is_zero() {
            let _ = self.arm(self.period);
        }
    }

    /// Sets the timer to fire once after `after` (zero: disarmed).
    fn arm(&self, after: Duration) -> io::Result<()> {
        let Some(Timer(timer)) = self.timer else { return Ok(()) };
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: after.as_secs() as libc::time_t, tv_nsec: after.subsec_nanos() as _ },
        };
        // SAFETY: `timer` is a live timer of ours; `spec` is a valid value.
        if unsafe { libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(Timer(timer)) = self.timer.take() {
            // SAFETY: the timer is ours and deleted once.
            unsafe { libc::timer_delete(timer) };
        }
    }
}

/// A monotonic POSIX timer whose expiry sends SIGALRM to the calling thread.
fn timer_for_this_thread() -> io::Result<libc::timer_t> {
    // SAFETY: a zeroed sigevent is a valid value; the fields set are the
    // ones SIGEV_THREAD_ID reads; `timer` receives the new timer's id.
    unsafe {
        let mut ev: libc::sigevent = std::mem::zeroed();
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = libc::SIGALRM;
        ev.sigev_notify_thread_id = libc::gettid();
        let mut timer: libc::timer_t = std::mem::zeroed();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut timer) == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(timer)
    }
}

/// SIGALRM ignored (Redis's setting with the watchdog off; also drops a
/// pending one).
pub fn ignore_sigalrm() {
    // SAFETY: SIG_IGN for a signal the process does not otherwise use.
    unsafe { libc::signal(libc::SIGALRM, libc::SIG_IGN) };
}

fn install_handler() {
    // SAFETY: the first `backtrace` loads the unwinder, which allocates:
    // done here, not in the handler. Then a zeroed sigaction with a handler of the SA_SIGINFO
    // signature; SA_RESTART so that the loop's blocking calls other than
    // epoll_wait (whose EINTR the loop handles) go on after the handler.
    unsafe {
        let mut frames = [std::ptr::null_mut::<libc::c_void>(); 4];
        libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = on_alarm as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        libc::sigaction(libc::SIGALRM, &act, std::ptr::null_mut());
    }
}

/// The handler: Redis's `watchdogSignalHandler` lines, written with
/// async-signal-safe calls only (see `process::install_crash_signals`).
extern "C" fn on_alarm(_sig: libc::c_int, _info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: open, write, close, getpid, time, and backtrace (loaded by
    // `install_handler`) on buffers of this frame;
    // `ctx` is the kernel's ucontext for this signal.
    unsafe {
        let (fd, close) = crate::process::raw_log_fd();
        let put = |bytes: &[u8]| {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        };
        let header = || {
            let mut n = itoa::Buffer::new();
            put(n.format(libc::getpid()).as_bytes());
            put(b":signal-handler (");
            put(n.format(libc::time(std::ptr::null_mut())).as_bytes());
            put(b") ");
        };
        header();
        put(b"\n--- WATCHDOG TIMER EXPIRED ---\n");
        put(b"\n------ STACK TRACE ------\n");
        #[cfg(target_arch = "x86_64")]
        if !ctx.is_null() {
            let uc = ctx as *const libc::ucontext_t;
            let eip = (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as *mut libc::c_void;
            put(b"EIP:\n");
            libc::backtrace_symbols_fd(&eip, 1, fd);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = ctx;
        put(b"\nBacktrace:\n");
        let mut frames = [std::ptr::null_mut::<libc::c_void>(); 100];
        let n = libc::backtrace(frames.as_mut_ptr(), frames.len() as libc::c_int);
        libc::backtrace_symbols_fd(frames.as_ptr(), n, fd);
        header();
        put(b"--------\n\n");
        if close {
            libc::close(fd);
        }
    }
}
