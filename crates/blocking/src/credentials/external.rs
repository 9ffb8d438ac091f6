//! `External`: credentials printed by a command (`process_command`), run as the aliyun CLI runs
//! it: split into words and executed directly, with no shell, its standard error passed through
//! to ours.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rkvstore_core::sts::{parse_external_output, TemporaryCredentials};

use super::{CredentialsError, CredentialsProvider};

/// How long the command may run, as in the official libraries.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most output read from the command.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// Credentials from a command's output.
pub struct ExternalProvider {
    command: String,
    timeout: Duration,
    origin: String,
}

impl ExternalProvider {
    /// Runs `command` (words separated by spaces; `'…'` and `"…"` group words, as a shell
    /// would, though no shell runs).
    pub fn new(command: impl Into<String>) -> Self {
        ExternalProvider {
            command: command.into(),
            timeout: DEFAULT_TIMEOUT,
            origin: "code".to_owned(),
        }
    }

    /// Stops the command after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub(super) fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = origin.into();
        self
    }

    fn failed(&self, problem: String, fix: &str) -> CredentialsError {
        CredentialsError::Provider {
            mode: "External".to_owned(),
            origin: self.origin.clone(),
            problem,
            fix: fix.to_owned(),
        }
    }
}

/// Splits a command line into words: blanks separate words, quotes group them, a backslash
/// outside single quotes escapes the next character. `None` for an unclosed quote.
pub(super) fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => word.push(chars.next()?),
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next()?);
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

impl CredentialsProvider for ExternalProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        let fix_command = "check process_command in the profile: it must print JSON such as \
                           {\"mode\":\"StsToken\",\"access_key_id\":…,\"access_key_secret\":…,\
                           \"sts_token\":…} and exit 0";
        let words = split_words(&self.command).ok_or_else(|| {
            self.failed("process_command has an unclosed quote".into(), fix_command)
        })?;
        let Some((program, args)) = words.split_first() else {
            return Err(self.failed("process_command is empty".into(), fix_command));
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                self.failed(
                    format!("cannot run {program:?}: {e}"),
                    "check that process_command names a program that exists and is executable",
                )
            })?;
        // Read on another thread, so that a command printing more than a pipe holds does not
        // block while this one waits for it to exit.
        let stdout = child.stdout.take();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            if let Some(s) = stdout {
                let _ = s.take(MAX_OUTPUT).read_to_end(&mut out);
            }
            out
        });
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= self.timeout => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failed(
                        format!(
                            "{program:?} did not finish within {} s and was stopped",
                            self.timeout.as_secs()
                        ),
                        "check why the command hangs (does it wait for input?)",
                    ));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => {
                    return Err(self.failed(format!("waiting for {program:?}: {e}"), fix_command))
                }
            }
        };
        let out = reader.join().unwrap_or_default();
        if !status.success() {
            let how = status.code().map_or_else(
                || "was killed by a signal".to_owned(),
                |c| format!("exited with status {c}"),
            );
            return Err(self.failed(
                format!("{program:?} {how} (its error output is above)"),
                fix_command,
            ));
        }
        parse_external_output(&out).map_err(|e| self.failed(e.to_string(), fix_command))
    }

    fn describe(&self) -> String {
        format!("External ({})", self.origin)
    }
}

#[cfg(test)]
mod tests {
    use super::split_words;

    #[test]
    fn words_split_like_a_shell_without_one() {
        assert_eq!(
            split_words(r#"/bin/get-creds --role 'ops team' "a \"b\"" c\ d"#).unwrap_or_default(),
            vec!["/bin/get-creds", "--role", "ops team", "a \"b\"", "c d"]
        );
        assert_eq!(split_words("  "), Some(Vec::new()));
        assert_eq!(split_words("x 'open"), None);
    }
}
