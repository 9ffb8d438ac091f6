//! Ctrl-C while waiting: the job goes on at the server, so say how to follow it again, and exit
//! with 130 as a shell does for a program stopped by SIGINT. The signal is handled by the
//! `ctrlc` crate; the handler runs on its own thread, so it only reads the hint set here.

use std::sync::{Mutex, Once};

static HINT: Mutex<Option<String>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// The exit status after Ctrl-C: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: i32 = 130;

/// Sets what Ctrl-C prints (`None`: nothing but the exit), installing the handler the first
/// time.
pub fn set_hint(hint: Option<String>) {
    if let Ok(mut h) = HINT.lock() {
        *h = hint;
    }
    INSTALL.call_once(|| {
        // If a handler cannot be installed, Ctrl-C keeps its default effect (the process ends
        // at once), which loses only the hint.
        let _ = ctrlc::set_handler(|| {
            crate::progress::clear();
            let hint = HINT.lock().ok().and_then(|h| h.clone());
            let text = match hint {
                Some(h) => format!("\n{h}\n"),
                None => "\n".to_owned(),
            };
            crate::term::last_words(&text);
            std::process::exit(INTERRUPTED);
        });
    });
}
