//! A hostile HTTP server on loopback, for tests: it answers each request with the next scripted
//! reply, whatever the request was, the way a captive portal, a broken proxy or an attacker
//! would. The last reply repeats. It is shared by the blocking client's and the CLI's tests.

#![allow(dead_code, unreachable_pub)] // Each test crate uses a different part of it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send only this many bytes of the body, then close (Content-Length still says all).
    pub cut_after: Option<usize>,
    /// Send only this many bytes of the body, then go quiet with the connection open.
    pub stall_after: Option<usize>,
    /// Send no Content-Length: the body ends when the connection closes.
    pub no_length: bool,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            cut_after: None,
            stall_after: None,
            no_length: false,
        }
    }

    /// A reply with only these headers (no default Content-Type).
    pub fn bare(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Reply {
            headers: Vec::new(),
            ..Reply::new(status, body)
        }
    }

    pub fn cut_after(mut self, bytes: usize) -> Self {
        self.cut_after = Some(bytes);
        self
    }

    pub fn stall_after(mut self, bytes: usize) -> Self {
        self.stall_after = Some(bytes);
        self
    }

    pub fn no_length(mut self) -> Self {
        self.no_length = true;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The running server; dropping it stops it.
pub struct Hostile {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hostile {
    pub fn start(replies: Vec<Reply>) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                // Stalled connections stay open, silent, until the server stops.
                let mut held: Vec<TcpStream> = Vec::new();
                let mut n = 0usize;
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let reply = replies
                        .get(n)
                        .or(replies.last())
                        .cloned()
                        .unwrap_or_else(|| Reply::new(500, ""));
                    if let Some(stalled) = serve(stream, &reply, &requests) {
                        held.extend(stalled);
                        n += 1;
                    }
                }
            })
        };
        Hostile {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests that arrived, each as its request line, headers and body.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn hits(&self) -> usize {
        self.requests().len()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request (head and `Content-Length` body), records it in `requests` and writes
/// `reply`; `None` when the connection closed before a whole request arrived. The request is
/// recorded before the reply goes out, so that a client that has its answer always finds its
/// request recorded. A stalled reply hands its connection back, to be held open.
fn serve(
    stream: TcpStream,
    reply: &Reply,
    requests: &Mutex<Vec<String>>,
) -> Option<Option<TcpStream>> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut head = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
        if line == "\r\n" || line == "\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    head.push_str(&String::from_utf8_lossy(&body));
    requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(head);
    let mut out = stream;
    let mut response = format!("HTTP/1.1 {} Scripted\r\n", reply.status);
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    if !reply.no_length {
        response.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    response.push_str("Connection: close\r\n\r\n");
    let _ = out.write_all(response.as_bytes());
    let sent = reply
        .cut_after
        .or(reply.stall_after)
        .unwrap_or(reply.body.len())
        .min(reply.body.len());
    let _ = out.write_all(reply.body.get(..sent).unwrap_or_default());
    let _ = out.flush();
    let held = reply.stall_after.map(|_| out);
    Some(held)
}
