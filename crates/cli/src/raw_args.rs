//! The command line as aliyun users type it, rewritten into what clap parses.
//!
//! Two habits of the `aliyun` CLI do not fit clap as they are. Its `--output`, `--pager` and
//! `--waiter` take several `key=value` words (`--output cols=A,B rows=Items[]`); here those words
//! are joined into the flag's one value. And `aliyun ecs DescribeRegions --region cn-hangzhou`
//! takes the global flags anywhere, even among the API parameters; after `call ACTION` the
//! parameters are a free-form list, so the flags that are ours (lower-case, like `--region`) are
//! moved out of it to where clap looks for them. API parameters start with a capital letter, so
//! the two never clash.

use std::ffi::OsString;

/// Flags that take `key=value` words, aliyun style.
const FIELD_FLAGS: &[&str] = &["--output", "-o", "--pager", "--waiter"];

/// The global flags that take a value.
const GLOBAL_WITH_VALUE: &[&str] = &[
    "--profile",
    "--region",
    "--endpoint",
    "--signature-version",
    "--format",
    "--output",
    "-o",
    "--cli-query",
    "--connect-timeout",
    "--read-timeout",
    "--retries",
    "--retry-count",
];

/// The global flags that take no value.
const GLOBAL_SWITCHES: &[&str] = &[
    "--json",
    "--quiet",
    "-q",
    "--dry-run",
    "--dryrun",
    "--verbose",
    "-v",
    "--help",
    "-h",
];

/// The options of `call` itself, which must stand before its action for clap.
const CALL_WITH_VALUE: &[&str] = &["--product", "--api-version", "--pager", "--waiter"];

/// `argv` with field flags joined and, after `call ACTION`, our own flags moved before the
/// action.
pub fn normalize(argv: Vec<OsString>) -> Vec<OsString> {
    let joined = join_fields(argv);
    hoist_call_flags(joined)
}

fn is_field(word: &str) -> bool {
    // `cols=A,B`, `rows=Items[]`, `PageNumber=PageNumber`: a name, `=`, anything.
    match word.split_once('=') {
        Some((key, _)) => {
            !key.is_empty()
                && !key.starts_with('-')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// `--output cols=A rows=B` becomes `--output=cols=A\0rows=B` (the words kept apart by a NUL,
/// which no argument can hold); a bare `--pager` becomes
/// `--pager=` (every field at its default).
fn join_fields(argv: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut it = argv.into_iter().peekable();
    while let Some(arg) = it.next() {
        let Some(text) = arg.to_str().map(str::to_owned) else {
            out.push(arg);
            continue;
        };
        if text == "--" {
            out.push(arg);
            out.extend(it);
            break;
        }
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (text.clone(), None),
        };
        if !FIELD_FLAGS.contains(&flag.as_str()) {
            out.push(arg);
            continue;
        }
        let mut words: Vec<String> = inline.into_iter().collect();
        // `--output json` keeps its one plain word.
        if words.is_empty() && flag != "--pager" {
            if let Some(next) = it.peek().and_then(|n| n.to_str()) {
                if !next.starts_with('-') && !is_field(next) {
                    words.push(next.to_owned());
                    it.next();
                }
            }
        }
        while let Some(next) = it.peek().and_then(|n| n.to_str()) {
            if !is_field(next) {
                break;
            }
            words.push(next.to_owned());
            it.next();
        }
        let flag = if flag == "-o" {
            "--output".to_owned()
        } else {
            flag
        };
        if words.is_empty() && flag != "--pager" {
            // Left for clap to report the missing value.
            out.push(OsString::from(flag));
        } else {
            // Each word stays whole, spaces and all: aliyun takes every word as one field.
            let sep = crate::cols::WORD_SEPARATOR.to_string();
            out.push(OsString::from(format!("{flag}={}", words.join(&sep))));
        }
    }
    out
}

/// Moves our flags out of the parameters of `call ACTION …` to just before the action.
fn hoist_call_flags(argv: Vec<OsString>) -> Vec<OsString> {
    let Some(call) = subcommand_position(&argv).filter(|&i| argv[i] == "call") else {
        return argv;
    };
    // The action is the first word after `call` that is no flag of ours.
    let mut i = call + 1;
    while i < argv.len() {
        let Some(w) = argv[i].to_str() else { break };
        let name = w.split_once('=').map_or(w, |(f, _)| f);
        let takes_value = (GLOBAL_WITH_VALUE.contains(&name) || CALL_WITH_VALUE.contains(&name))
            && !w.contains('=');
        if GLOBAL_WITH_VALUE.contains(&name)
            || CALL_WITH_VALUE.contains(&name)
            || GLOBAL_SWITCHES.contains(&name)
        {
            i += if takes_value { 2 } else { 1 };
        } else {
            break;
        }
    }
    if i >= argv.len() {
        return argv;
    }
    let action = i;
    let mut head: Vec<OsString> = argv[..action].to_vec();
    let mut params = Vec::new();
    let mut rest = argv[action + 1..].iter().cloned();
    while let Some(arg) = rest.next() {
        let Some(w) = arg.to_str() else {
            params.push(arg);
            continue;
        };
        if w == "--" {
            params.push(arg);
            params.extend(rest.by_ref());
            break;
        }
        let name = w.split_once('=').map_or(w, |(f, _)| f);
        let ours = GLOBAL_WITH_VALUE.contains(&name)
            || CALL_WITH_VALUE.contains(&name)
            || GLOBAL_SWITCHES.contains(&name);
        if !ours {
            params.push(arg);
            continue;
        }
        head.push(arg.clone());
        if !w.contains('=') && !GLOBAL_SWITCHES.contains(&name) {
            if let Some(value) = rest.next() {
                head.push(value);
            }
        }
    }
    head.push(argv[action].clone());
    head.extend(params);
    head
}

/// The index of the subcommand: the first word after the program name that is neither a flag
/// nor the value of one.
fn subcommand_position(argv: &[OsString]) -> Option<usize> {
    let mut i = 1;
    while i < argv.len() {
        let w = argv[i].to_str()?;
        if !w.starts_with('-') {
            return Some(i);
        }
        let takes_value = GLOBAL_WITH_VALUE.contains(&w) && !w.contains('=');
        i += if takes_value { 2 } else { 1 };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &str) -> String {
        norm_words(&args.split(' ').collect::<Vec<_>>())
    }

    fn norm_words(args: &[&str]) -> String {
        let argv = std::iter::once("rkvstore")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        let out: Vec<String> = normalize(argv)
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap().replace('\0', " "))
            .collect();
        out.join(" | ")
    }

    #[test]
    fn field_flags_take_their_words() {
        assert_eq!(
            norm("--output cols=A,B rows=Items[] num=true backup-tasks --instance-id r"),
            "--output=cols=A,B rows=Items[] num=true | backup-tasks | --instance-id | r"
        );
        assert_eq!(norm("-o json backup-tasks"), "--output=json | backup-tasks");
        assert_eq!(norm("--output=table backups"), "--output=table | backups");
        assert_eq!(norm("call X --pager"), "call | --pager= | X");
    }

    #[test]
    fn words_with_spaces_stay_whole() {
        let argv = [
            "rkvstore",
            "call",
            "X",
            "--waiter",
            "expr=A | [0].B",
            "to=Normal Later",
        ]
        .map(OsString::from)
        .to_vec();
        let out = normalize(argv);
        assert_eq!(out[2], "--waiter=expr=A | [0].B\0to=Normal Later");
        assert_eq!(
            norm_words(&["--output", "cols=Id", "rows=I[?A == 'x']", "backups"]),
            "--output=cols=Id rows=I[?A == 'x'] | backups"
        );
    }

    #[test]
    fn our_flags_leave_the_parameters_of_call() {
        assert_eq!(
            norm("call DescribeBackups --InstanceId r-x --region cn-hangzhou --output table --quiet"),
            "call | --region | cn-hangzhou | --output=table | --quiet | DescribeBackups | --InstanceId | r-x"
        );
        assert_eq!(
            norm("--endpoint local call DescribeRegions --product Ecs --api-version 2014-05-26"),
            "--endpoint | local | call | --product | Ecs | --api-version | 2014-05-26 | DescribeRegions"
        );
        assert_eq!(
            norm("call --region x A --Note=--region"),
            "call | --region | x | A | --Note=--region"
        );
        assert_eq!(
            norm("call A --pager path=Backups.Backup PageSize=PageSize --Name v"),
            "call | --pager=path=Backups.Backup PageSize=PageSize | A | --Name | v"
        );
    }
}
