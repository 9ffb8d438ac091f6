//! `call --waiter expr=JMESPATH,to=VALUE[,timeout=S][,interval=S]`: the aliyun CLI's waiter,
//! polling a read action until the expression's value, as text, equals `to`.
//!
//! As in the aliyun CLI the timeout is 1 to 600 seconds (default 180) and the interval 2 to 10
//! (default 5); unlike it, fractions are allowed, and against `--endpoint local` the interval
//! may be as short as 0.05 s, since the in-process emulator costs nothing to ask.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cols::fields;
use crate::failure::Failure;
use crate::query::Query;

/// A parsed `--waiter`.
#[derive(Debug)]
pub struct Waiter {
    expr: Query,
    expr_text: String,
    to: String,
    timeout: Duration,
    interval: Duration,
}

impl Waiter {
    pub fn parse(text: &str, local: bool) -> Result<Self, Failure> {
        let (mut expr, mut to, mut timeout, mut interval) = (None, None, 180.0, 5.0);
        for (k, v) in fields(text, &["expr", "to", "timeout", "interval"]) {
            match k.as_str() {
                "expr" => expr = Some(v),
                "to" => to = Some(v),
                "timeout" => timeout = seconds("timeout", &v, 1.0, 600.0)?,
                "interval" => {
                    let least = if local { 0.05 } else { 2.0 };
                    interval = seconds("interval", &v, least, 10.0)?;
                }
                other => {
                    return Err(Failure::Usage(format!(
                        "--waiter {other}= is not known: use expr=JMESPATH,to=VALUE[,timeout=S]\
                         [,interval=S]"
                    )))
                }
            }
        }
        let (Some(expr_text), Some(to)) = (expr, to) else {
            return Err(Failure::Usage(
                "--waiter needs expr= and to=, such as expr=InstanceStatus,to=Normal".into(),
            ));
        };
        Ok(Waiter {
            expr: Query::parse("--waiter expr", &expr_text)?,
            expr_text,
            to,
            timeout: Duration::from_secs_f64(timeout),
            interval: Duration::from_secs_f64(interval),
        })
    }

    /// Calls `fetch` until the expression matches, and returns that answer; a timeout is exit 4.
    pub fn poll(
        &self,
        mut fetch: impl FnMut() -> Result<Value, Failure>,
        mut seen: impl FnMut(&str),
    ) -> Result<Value, Failure> {
        let start = Instant::now();
        let mut last_shown = None;
        loop {
            let answer = fetch()?;
            let now = text(&self.expr.apply(&answer)?);
            if last_shown.as_deref() != Some(now.as_str()) {
                seen(&now);
                last_shown = Some(now.clone());
            }
            if now == self.to {
                return Ok(answer);
            }
            if start.elapsed() + self.interval > self.timeout {
                return Err(Failure::Exit {
                    code: 4,
                    message: format!(
                        "--waiter gave up after {} s: {} is {now:?}, not {:?}",
                        self.timeout.as_secs_f64(),
                        self.expr_text,
                        self.to
                    ),
                });
            }
            std::thread::sleep(self.interval);
        }
    }

    /// The expression, for progress lines.
    pub fn expr(&self) -> &str {
        &self.expr_text
    }
}

/// A value as the text `to=` is compared with: text bare, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn seconds(name: &str, v: &str, least: f64, most: f64) -> Result<f64, Failure> {
    match v.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (least..=most).contains(&s) => Ok(s),
        _ => Err(Failure::Usage(format!(
            "--waiter {name}={v} must be a number of seconds from {least} to {most}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn waits_until_the_value_and_times_out_with_status_4() {
        let w = Waiter::parse("expr=Instances[0].Status,to=Normal,interval=0.05", true).unwrap();
        let mut n = 0;
        let mut seen = Vec::new();
        let done = w
            .poll(
                || {
                    n += 1;
                    Ok(json!({"Instances": [{"Status": if n < 3 { "Restoring" } else { "Normal" }}]}))
                },
                |s| seen.push(s.to_owned()),
            )
            .unwrap();
        assert_eq!(done["Instances"][0]["Status"], "Normal");
        assert_eq!(seen, ["Restoring", "Normal"]);
        let w = Waiter::parse("expr=Count\0to=3\0timeout=1\0interval=0.5", true).unwrap();
        let e = w.poll(|| Ok(json!({"Count": 2})), |_| {}).unwrap_err();
        assert_eq!(e.exit_code(), 4);
        assert!(
            e.render().contains("Count is \"2\", not \"3\""),
            "{}",
            e.render()
        );
        assert_eq!(Waiter::parse("expr=A", false).unwrap_err().exit_code(), 2);
        assert_eq!(
            Waiter::parse("expr=A,to=B,interval=1", false)
                .unwrap_err()
                .exit_code(),
            2
        );
    }
}
