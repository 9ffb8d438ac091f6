//! Shell completion: clap_complete's scripts, with values that only exist at run time (profile
//! names from `~/.aliyun/config.json`, the instance IDs of the last listing) asked of
//! `rkvstore __complete WHAT` when the shell completes, and the fixed lists (regions, action
//! names) written into the script.

use std::io::Write;

use clap::builder::PossibleValuesParser;

/// How to install the script, as `aliyun auto-completion` tells it.
pub const INSTALL: &str = "\
Install completion:
  bash:  rkvstore completions bash > ~/.local/share/bash-completion/completions/rkvstore
  zsh:   rkvstore completions zsh > \"${fpath[1]}/_rkvstore\"   (then: compinit)
  fish:  rkvstore completions fish > ~/.config/fish/completions/rkvstore.fish";

/// Stands for the profile names in the generated script until [`dynamic`] replaces it.
const PROFILES: &str = "__RKVSTORE_PROFILES__";

/// The command as completion sees it: the region and action lists as possible values, and a
/// marker for profiles.
pub fn command() -> clap::Command {
    let regions: Vec<&'static str> = rkvstore_blocking::core::regions::PUBLIC_REGIONS.to_vec();
    let actions: Vec<&'static str> = rkvstore_blocking::core::actions::all().collect();
    crate::args::command()
        .mut_arg("region", |a| {
            a.value_parser(PossibleValuesParser::new(regions))
        })
        .mut_arg("profile", |a| {
            a.value_parser(PossibleValuesParser::new([PROFILES]))
        })
        .mut_subcommand("call", |c| {
            // `mut_arg` moves an argument to the end; the parameters, which take the rest of
            // the line, are moved back behind the action.
            c.mut_arg("action", |a| {
                a.value_parser(PossibleValuesParser::new(actions))
            })
            .mut_arg("params", |a| a)
        })
}

/// Lists bash profile candidates one a line, shell-quoted, so that a name with spaces
/// completes as one word.
const BASH_PROFILES: &str = r#"
__rkvstore_profiles() {
    local name
    while IFS= read -r name; do
        if [[ "$name" == "$1"* ]]; then
            printf '%q\n' "$name"
        fi
    done < <(rkvstore __complete profiles 2>/dev/null)
}
"#;

/// `script` with the profile marker replaced by a call to `rkvstore __complete profiles`, in
/// the syntax of `shell`, one name a line (names may hold spaces).
pub fn dynamic(shell: clap_complete::Shell, script: &str) -> String {
    let ask = "rkvstore __complete profiles 2>/dev/null";
    match shell {
        clap_complete::Shell::Bash => {
            let generated = format!(r#"COMPREPLY=($(compgen -W "{PROFILES}" -- "${{cur}}"))"#);
            let ours = r#"local IFS=$'\n'; COMPREPLY=($(__rkvstore_profiles "${cur}"))"#;
            format!("{BASH_PROFILES}{}", script.replace(&generated, ours))
        }
        clap_complete::Shell::Zsh => script.replace(
            &format!("({PROFILES})"),
            &format!("{{compadd -- ${{(f)\"$({ask})\"}}}}"),
        ),
        // fish splits a command's output at line breaks only, and quotes what it inserts.
        clap_complete::Shell::Fish => script.replace(PROFILES, &format!("({ask})")),
        _ => script.to_owned(),
    }
}

/// `rkvstore __complete WHAT`, which the completion scripts run: handled before the command line
/// is parsed, so that it is no subcommand the scripts would offer.
pub fn hidden_command(argv: &[std::ffi::OsString]) {
    if argv.get(1).is_none_or(|w| w != "__complete") {
        return;
    }
    let what = argv.get(2).and_then(|w| w.to_str()).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    // A completion must never print an error into the command line: failures are silent.
    let _ = candidates(&mut out, what).and_then(|()| out.flush());
    std::process::exit(0);
}

/// `rkvstore __complete WHAT`: one candidate a line. Nothing (and success) when there is
/// nothing to offer, since a completion must never print an error into the command line.
pub fn candidates(out: &mut impl Write, what: &str) -> std::io::Result<()> {
    match what {
        "profiles" => {
            for name in profiles() {
                writeln!(out, "{name}")?;
            }
        }
        "regions" => {
            for r in rkvstore_blocking::core::regions::PUBLIC_REGIONS {
                writeln!(out, "{r}")?;
            }
        }
        "actions" => {
            for a in rkvstore_blocking::core::actions::all() {
                writeln!(out, "{a}")?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The profile names of the aliyun CLI's `~/.aliyun/config.json`; none when it cannot be
/// read. Names with control characters (a line break would make two) are left out; the
/// scripts quote the rest, spaces included.
fn profiles() -> Vec<String> {
    let Some(home) = std::env::var_os("HOME") else {
        return Vec::new();
    };
    let path = std::path::Path::new(&home).join(".aliyun/config.json");
    let Ok(text) = rkvstore_blocking::local_file::read_to_string(&path, 1 << 20) else {
        return Vec::new();
    };
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Vec::new();
    };
    doc.get("profiles")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|p| p.get("name")?.as_str())
                .filter(|n| !n.trim().is_empty() && !n.chars().any(char::is_control))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
