//! `External`: credentials printed by a command (`process_command`), run as the aliyun CLI runs
//! it: split into words and executed directly, with no shell, its standard error passed through
//! to ours.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rkvstore_core::sts::{parse_external_output, TemporaryCredentials};

use super::{CredentialsError, CredentialsProvider};

/// How long output without `expiration` is used before the command runs again. The official
/// library treats such output as stale at once and runs the command before every request; a
/// minute keeps long waits alive (the command is asked again, so rotated keys are picked up)
/// without a process per request.
pub(super) const DEFAULT_REUSE: Duration = Duration::from_secs(60);

/// How long the command may run, as in the official libraries.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The most output read from the command.
const MAX_OUTPUT: u64 = 1024 * 1024;

/// Credentials from a command's output.
pub struct ExternalProvider {
    command: String,
    timeout: Duration,
    reuse: Duration,
    origin: String,
}

impl ExternalProvider {
    /// Runs `command`, split into words as the aliyun CLI splits it (see [`split_words`]);
    /// no shell runs. Its standard input and error are this process's.
    pub fn new(command: impl Into<String>) -> Self {
        ExternalProvider {
            command: command.into(),
            timeout: DEFAULT_TIMEOUT,
            reuse: DEFAULT_REUSE,
            origin: "code".to_owned(),
        }
    }

    /// Stops the command after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the command again after `reuse` when its output has no `expiration` (a minute by
    /// default); output with one is used until shortly before it expires.
    pub fn reuse_for(mut self, reuse: Duration) -> Self {
        self.reuse = reuse;
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

/// Splits a command line into words exactly as the aliyun CLI splits `process_command`
/// (`splitProcessCommand` in its `config/command_split.go`): blanks (any Unicode space, `\r`
/// included) separate words outside quotes; `'…'` keeps everything literal; inside `"…"` a
/// backslash escapes only `"`, `\`, `$`, `` ` `` and a newline and is kept before anything
/// else; outside quotes a backslash escapes the next character. Quoted empty words are kept.
/// `Err` names the problem: an unclosed quote, a trailing backslash, an empty command.
pub(crate) fn split_words(line: &str) -> Result<Vec<String>, &'static str> {
    let chars: Vec<char> = line.trim().chars().collect();
    if chars.is_empty() {
        return Err("process_command is empty");
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut in_single, mut in_double, mut has_word) = (false, false, false);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if in_single {
            if c == '\'' {
                in_single = false;
            } else {
                word.push(c);
            }
            continue;
        }
        if in_double {
            if c == '"' {
                in_double = false;
                continue;
            }
            if c == '\\' {
                if let Some(&next) = chars.get(i).filter(|n| "\"\\$`\n".contains(**n)) {
                    word.push(next);
                    i += 1;
                    continue;
                }
            }
            word.push(c);
            continue;
        }
        match c {
            '\\' => {
                let Some(&next) = chars.get(i) else {
                    return Err("process_command ends with a backslash");
                };
                has_word = true;
                word.push(next);
                i += 1;
            }
            '\'' => {
                in_single = true;
                has_word = true;
            }
            '"' => {
                in_double = true;
                has_word = true;
            }
            c if c.is_whitespace() => {
                if has_word {
                    words.push(std::mem::take(&mut word));
                    has_word = false;
                }
            }
            c => {
                has_word = true;
                word.push(c);
            }
        }
    }
    if in_single || in_double {
        return Err("process_command has an unclosed quote");
    }
    if has_word {
        words.push(word);
    }
    if words.first().is_none_or(String::is_empty) {
        return Err("process_command is empty");
    }
    Ok(words)
}

impl CredentialsProvider for ExternalProvider {
    fn fetch(&self) -> Result<TemporaryCredentials, CredentialsError> {
        let fix_command = "check process_command in the profile: it must print JSON such as \
                           {\"mode\":\"StsToken\",\"access_key_id\":…,\"access_key_secret\":…,\
                           \"sts_token\":…} and exit 0";
        let words = split_words(&self.command).map_err(|e| self.failed(e.into(), fix_command))?;
        let Some((program, args)) = words.split_first() else {
            return Err(self.failed("process_command is empty".into(), fix_command));
        };
        let mut child = Command::new(program)
            .args(args)
            // As the aliyun CLI does: a command may ask for an MFA code on the terminal.
            .stdin(Stdio::inherit())
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

    fn reuse_without_expiration(&self) -> Option<Duration> {
        Some(self.reuse)
    }
}

#[cfg(test)]
mod tests {
    use super::split_words;

    fn words(line: &str) -> Vec<String> {
        split_words(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn words_split_like_the_aliyun_cli() {
        assert_eq!(
            words(r#"/bin/get-creds --role 'ops team' "a \"b\"" c\ d"#),
            vec!["/bin/get-creds", "--role", "ops team", "a \"b\"", "c d"]
        );
        // Inside double quotes a backslash is kept unless it escapes " \ $ ` or a newline.
        assert_eq!(
            words(r#"tool "C:\Program Files\x.exe" "\$HOME \` \\ \n""#),
            vec!["tool", r"C:\Program Files\x.exe", r"$HOME ` \ \n"]
        );
        assert_eq!(words("tool \"\\\nx\""), vec!["tool", "\nx"]);
        // Single quotes keep everything; quoted empty words stay; \r is a blank.
        assert_eq!(words(r"tool '\n\' '' a"), vec!["tool", r"\n\", "", "a"]);
        assert_eq!(words("tool\r\na\tb"), vec!["tool", "a", "b"]);
        assert_eq!(words("a\\\\b"), vec![r"a\b"]);
        assert_eq!(split_words("  "), Err("process_command is empty"));
        assert_eq!(split_words("'' x"), Err("process_command is empty"));
        assert_eq!(
            split_words("x 'open"),
            Err("process_command has an unclosed quote")
        );
        assert_eq!(
            split_words("x \"open\\\""),
            Err("process_command has an unclosed quote")
        );
        assert_eq!(
            split_words("x \\"),
            Err("process_command ends with a backslash")
        );
    }
}
