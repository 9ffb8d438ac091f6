//! `rkvstore call ACTION --Name value …`.

use std::io::Write;

use rkvstore_blocking::core::response::Document;
use rkvstore_blocking::core::{actions, percent, validate, Endpoint, Params, RpcRequest};
use rkvstore_blocking::local_file;
use serde_json::Value;

use super::{dry_run, print};
use crate::config::{Config, Output};
use crate::failure::Failure;
use crate::output;
use crate::pager::Pager;
use crate::waiter::Waiter;

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

/// How `call` sends: another product's API, paging, waiting.
pub struct How<'a> {
    /// `--product` and `--api-version`.
    pub product: Option<(&'a str, &'a str)>,
    /// `--pager`.
    pub pager: Option<&'a str>,
    /// `--waiter`.
    pub waiter: Option<&'a str>,
}

pub fn run(config: &Config, action: &str, raw: &[String], how: &How<'_>) -> Result<(), Failure> {
    validate::token("Action", action)?;
    let params = parse_params(raw)?;
    let pager = how.pager.map(Pager::parse).transpose()?;
    let waiter = how
        .waiter
        .map(|w| Waiter::parse(w, config.is_local()))
        .transpose()?;
    match how.product {
        None => {
            // New actions appear before any list knows them: a warning, then the call.
            if let Some(unknown) = actions::unknown_action(action) {
                if !config.quiet {
                    crate::term::line(format_args!(
                        "warning: {unknown} (sending anyway: new actions appear)"
                    ));
                }
            }
        }
        Some((product, version)) => {
            validate::token("--product", product)?;
            validate::token("--api-version", version)?;
        }
    }
    // Without a region, the central host: R-kvstore's own, or the product's.
    let central = match how.product {
        Some((product, _)) => product_host(product, None),
        None => rkvstore_blocking::core::CENTRAL_HOST.to_owned(),
    };
    let (client, _emulator) = config.connect_or_central(&central)?;
    let request = build_request(config, &client, action, params, how.product)?;
    if config.dry_run {
        return dry_run(&client, &request);
    }
    let read_only = is_read_only(action);
    let typed = how.product.is_none();
    let fetch = |request: &RpcRequest| -> Result<Value, Failure> {
        let doc: Document = client.send(request, read_only)?;
        let mut value: Value = serde_json::from_str(&doc.to_ordered_json())
            .map_err(|e| Failure::Output(std::io::Error::other(e)))?;
        if typed {
            crate::typed::restore(action, &doc, &mut value);
        }
        Ok(value)
    };
    let value = if let Some(pager) = pager {
        pager.collect(|page| match page {
            None => fetch(&request),
            Some((name, value)) => fetch(&with_param(&request, name, &value)?),
        })?
    } else if let Some(waiter) = waiter {
        let quiet = config.quiet;
        waiter.poll(
            || fetch(&request),
            |now| {
                if !quiet {
                    let now = rkvstore_blocking::core::escape::controls(now).into_owned();
                    crate::term::line(format_args!("{}: {now}", waiter.expr()));
                }
            },
        )?
    } else {
        fetch(&request)?
    };
    // JSON unless a table is asked for: `call` is for scripts, whatever stdout is.
    print(|out| match config.output {
        Output::Table if config.output_given => {
            out.write_all(crate::cols::generic_table(&value).as_bytes())
        }
        _ => output::json(out, &value),
    })
}

/// The request: R-kvstore's through the client, or another product's with its own version
/// and endpoint.
fn build_request(
    config: &Config,
    client: &rkvstore_blocking::Client,
    action: &str,
    params: Params,
    product: Option<(&str, &str)>,
) -> Result<RpcRequest, Failure> {
    let Some((product, version)) = product else {
        return Ok(client.call_request(action, params)?);
    };
    let endpoint = if config.has_endpoint() {
        client.endpoint().clone()
    } else {
        Endpoint::parse(&product_host(product, client.region()))
            .map_err(|e| Failure::Usage(e.to_string()))?
    };
    let mut params = params;
    if params.get("RegionId").is_none() {
        if let Some(region) = client.region() {
            params.insert("RegionId", region)?;
        }
    }
    Ok(
        RpcRequest::new(endpoint, version.to_owned(), action.to_owned())?
            .with_format(config.format())
            .with_params(params),
    )
}

/// The host of another product's API: `<product>.<region>.aliyuncs.com`, or the central
/// `<product>.aliyuncs.com` without a region, the product code in lower case. R-kvstore's own
/// table of central regions (from its SDK) is not applied to other products, whose tables
/// differ; every product also answers on its regional host, which is what this picks.
pub fn product_host(product: &str, region: Option<&str>) -> String {
    let product = product.to_ascii_lowercase();
    match region {
        Some(r) => format!("{product}.{r}.aliyuncs.com"),
        None => format!("{product}.aliyuncs.com"),
    }
}

/// `request` with `name` set to `value` (the next page).
fn with_param(request: &RpcRequest, name: &str, value: &str) -> Result<RpcRequest, Failure> {
    let mut params = Params::new();
    for (k, v) in request.params().iter() {
        if k != name {
            params.insert(k.to_owned(), v)?;
        }
    }
    params.insert(name.to_owned(), value)?;
    let mut next = request.clone();
    *next.params_mut() = params;
    Ok(next)
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
                "--{name} is neither an option of rkvstore nor an API parameter (those start \
                 with a capital letter, like --InstanceId)"
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
