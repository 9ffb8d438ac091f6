//! `rkvstore call ACTION --Name value …`.

use rkvstore_blocking::core::{percent, validate, Params};
use rkvstore_blocking::local_file;

use super::{dry_run, print};
use crate::config::Config;
use crate::failure::Failure;
use crate::output;

/// The most the parameters of a call may take once URL-encoded, all together: they travel in the
/// request URL, and a URL much longer than this is refused by HTTP libraries and gateways (the
/// HTTP stack used here stops at 64 KiB, and the signature parameters need room too). A value
/// read with `--Name-FILE` is capped at the same size before it is read whole.
const MAX_PARAMS_BYTES: usize = 32 * 1024;

/// Actions that only read may be retried after an unclear failure; everything else is
/// treated as changing state.
fn is_read_only(action: &str) -> bool {
    ["Describe", "List", "Get", "Query", "Check"]
        .iter()
        .any(|p| action.starts_with(p))
}

pub fn run(config: &Config, action: &str, raw: &[String]) -> Result<(), Failure> {
    validate::token("Action", action)?;
    let params = parse_params(raw)?;
    let (client, _emulator) = config.connect()?;
    let request = client.call_request(action, params)?;
    if config.dry_run {
        return dry_run(&client, &request);
    }
    let value: rkvstore_blocking::core::response::Document =
        client.send(&request, is_read_only(action))?;
    print(|out| output::json(out, &value))
}

/// `--Name value`, `--Name=value` and `--Name-FILE path`, in order.
fn parse_params(raw: &[String]) -> Result<Params, Failure> {
    let mut params = Params::new();
    let mut total = 0usize;
    let mut it = raw.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(Failure::Usage(format!(
                "unexpected {arg:?}: parameters are written --Name value"
            )));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (flag, None),
        };
        if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Err(Failure::Usage(format!(
                "--{name} is not an API parameter (they start with a capital letter, like \
                 --InstanceId); options such as --endpoint go before the command: \
                 rkvstore --endpoint local call ACTION --Name value"
            )));
        }
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| Failure::Usage(format!("--{name} needs a value")))?,
        };
        let (name, value) = match name.strip_suffix("-FILE") {
            Some(base) => {
                // Only a regular file, and only so much of it: /dev/zero or a FIFO given here
                // would otherwise exhaust memory or block forever.
                let text = local_file::read_to_string(value.as_ref(), MAX_PARAMS_BYTES as u64)
                    .map_err(|e| Failure::Usage(format!("--{name}: {e}")))?;
                (base, text)
            }
            None => (name, value),
        };
        let encoded = percent::encode(&value).len();
        // The name, '=', the value and '&', as they will stand in the URL.
        total = total.saturating_add(percent::encode(name).len() + encoded + 2);
        if total > MAX_PARAMS_BYTES {
            return Err(Failure::Usage(format!(
                "--{name} is too long: {} bytes ({encoded} once URL-encoded); the parameters of \
                 a call travel in the request URL, which rkvstore keeps within {} KiB for all \
                 of them together",
                value.len(),
                MAX_PARAMS_BYTES / 1024
            )));
        }
        params.insert(name.to_owned(), value)?;
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Params, Failure> {
        parse_params(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn forms_of_parameters() {
        let p = parse(&["--InstanceId", "r-1", "--Note=a=b c", "--Empty", ""]).unwrap();
        assert_eq!(p.get("InstanceId"), Some("r-1"));
        assert_eq!(p.get("Note"), Some("a=b c"));
        assert_eq!(p.get("Empty"), Some(""));
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, "from a file\n".as_bytes()).unwrap();
        let p = parse(&["--Description-FILE", &file.path().display().to_string()]).unwrap();
        assert_eq!(p.get("Description"), Some("from a file\n"));
    }

    #[test]
    fn mistakes_are_usage_errors() {
        for bad in [
            &["InstanceId"][..],
            &["--InstanceId"],
            &["--endpoint", "x"],
            &["--A", "1", "--A", "2"],
        ] {
            let e = parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}: {e:?}");
        }
        assert!(parse(&["--Description-FILE", "/no/such/file"]).is_err());
        let long = "x".repeat(MAX_PARAMS_BYTES);
        assert_eq!(parse(&["--Description", &long]).unwrap_err().exit_code(), 2);
        assert!(parse(&["--Description", &long[..MAX_PARAMS_BYTES / 2]]).is_ok());
        assert!(is_read_only("DescribeBackups") && !is_read_only("CreateBackup"));
    }
}
