//! The LSP byte stream: `Content-Length` framing over stdin/stdout, robust to a client that sends
//! a bad frame.
//!
//! lsp-server's reader thread ends on the first frame it cannot read (invalid JSON, a missing
//! header), which ends the server with it, and allocates whatever `Content-Length` says. This
//! reader instead answers a frame it cannot use and keeps serving:
//! - a body that is not JSON gets a `-32700` Parse error reply when its request id can still be
//!   read from it; JSON that is not a JSON-RPC message gets `-32600` Invalid Request when it has an
//!   id; anything else is logged on stderr and skipped;
//! - a header block without a usable `Content-Length` (missing, negative, not a number) or with one
//!   above [`MAX_BODY`] is logged, and the stream is read on from the next `Content-Length:`
//!   header, in bounded memory;
//! - a body shorter than announced leaves its tail in front of the next header, which is skipped
//!   the same way.

use std::io::{self, BufRead, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, RequestId, Response};

/// The largest body read; a bigger one is refused without allocating it.
pub const MAX_BODY: usize = 64 * 1024 * 1024;
/// Where a header block starts.
const HEADER: &[u8] = b"Content-Length:";
/// A header line longer than this is not a header.
const MAX_HEADER_LINE: usize = 1024;

/// A connection over stdin/stdout, and the threads serving it.
pub fn stdio() -> (Connection, IoThreads) {
    let (writer_sender, writer_receiver) = crossbeam_channel::unbounded::<Message>();
    let (reader_sender, reader_receiver) = crossbeam_channel::unbounded::<Message>();
    let (replies, replies_receiver) = crossbeam_channel::unbounded::<Message>();
    let writer = std::thread::spawn(move || {
        write_all(&writer_receiver, replies_receiver, &mut io::stdout().lock())
    });
    let reader = std::thread::spawn(move || {
        read_all(&mut io::stdin().lock(), &reader_sender, &replies, &mut io::stderr())
    });
    let connection = Connection { sender: writer_sender, receiver: reader_receiver };
    (connection, IoThreads { reader, writer })
}

pub struct IoThreads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl IoThreads {
    /// Wait for the writer to flush what the server sent (call after dropping the connection).
    /// The reader is not waited for: it may sit in a read of stdin that only the client can end.
    pub fn join(self) -> io::Result<()> {
        let result = self.writer.join().unwrap_or_else(|_| Err(io::Error::other("LSP writer panicked")));
        if self.reader.is_finished() {
            self.reader.join().unwrap_or_else(|_| Err(io::Error::other("LSP reader panicked")))?;
        }
        result
    }
}

/// Write what the server sends, and the reader's replies to frames it could not use, until the
/// server hangs up (the reader may still be waiting on stdin: it does not keep the writer alive).
fn write_all(server: &Receiver<Message>, mut replies: Receiver<Message>, out: &mut impl Write) -> io::Result<()> {
    loop {
        crossbeam_channel::select! {
            recv(server) -> message => match message {
                Ok(message) => message.write(out)?,
                Err(_) => return Ok(()),
            },
            recv(replies) -> message => match message {
                Ok(message) => message.write(out)?,
                Err(_) => replies = crossbeam_channel::never(),
            },
        }
    }
}

/// Read frames until the end of input or the `exit` notification: messages go to `messages`,
/// replies to unusable requests to `replies`, notes on what was skipped to `log`.
pub fn read_all(
    input: &mut impl BufRead,
    messages: &Sender<Message>,
    replies: &Sender<Message>,
    log: &mut impl Write,
) -> io::Result<()> {
    let mut frames = FrameReader::new(input);
    loop {
        match frames.next()? {
            Frame::End => return Ok(()),
            Frame::Message(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if messages.send(message).is_err() || exit {
                    return Ok(());
                }
            }
            Frame::Unusable { problem, reply } => match reply {
                Some((id, code)) => {
                    let _ = writeln!(log, "dockopt lsp: {problem}; answered request {id}");
                    let response = Response::new_err(id, code as i32, problem);
                    let _ = replies.send(Message::Response(response));
                }
                None => {
                    let _ = writeln!(log, "dockopt lsp: {problem}; skipped");
                }
            },
        }
    }
}

/// What one frame of the stream held.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// Not a message the server can use; the error reply to send, when the request id is known.
    Unusable { problem: String, reply: Option<(RequestId, ErrorCode)> },
    End,
}

pub struct FrameReader<'a, R: BufRead> {
    input: &'a mut R,
    /// Bytes already taken from `input` that are read again first (a header found inside
    /// something else).
    carry: Vec<u8>,
    /// After a bad frame: skip to the next `Content-Length:` before reading headers.
    resync: bool,
}

impl<'a, R: BufRead> FrameReader<'a, R> {
    pub fn new(input: &'a mut R) -> Self {
        FrameReader { input, carry: Vec::new(), resync: false }
    }

    pub fn next(&mut self) -> io::Result<Frame> {
        if std::mem::take(&mut self.resync) && !self.skip_to_header()? {
            return Ok(Frame::End);
        }
        let length = match self.headers()? {
            Headers::End => return Ok(Frame::End),
            Headers::Bad(problem) => {
                self.resync = true;
                return Ok(Frame::Unusable { problem, reply: None });
            }
            Headers::Length(length) => length,
        };
        let mut body = vec![0; length];
        if let Err(e) = self.input.read_exact(&mut body) {
            return match e.kind() {
                io::ErrorKind::UnexpectedEof => Ok(Frame::End),
                _ => Err(e),
            };
        }
        let value: serde_json::Value = match serde_json::from_slice(&body) {
            Ok(value) => value,
            Err(e) => {
                // Too short a Content-Length leaves the rest of this body before the next header.
                self.resync = true;
                let reply = sniff_id(&body).map(|id| (id, ErrorCode::ParseError));
                return Ok(Frame::Unusable { problem: format!("Parse error: the message is not JSON ({e})"), reply });
            }
        };
        let id = value.get("id").cloned();
        match serde_json::from_value::<Message>(value) {
            Ok(message) => Ok(Frame::Message(message)),
            Err(e) => {
                let reply = id.and_then(|id| serde_json::from_value(id).ok()).map(|id| (id, ErrorCode::InvalidRequest));
                Ok(Frame::Unusable { problem: format!("Invalid Request: not a JSON-RPC message ({e})"), reply })
            }
        }
    }

    /// Read a header block up to its empty line.
    fn headers(&mut self) -> io::Result<Headers> {
        let mut length: Option<Result<usize, String>> = None;
        let mut first = true;
        loop {
            let Some(line) = self.line()? else {
                return Ok(Headers::End);
            };
            let line = line.trim_ascii();
            if line.is_empty() {
                // Blank lines before a header block are noise, not an empty header block.
                if first {
                    continue;
                }
                break;
            }
            first = false;
            let colon = line.iter().position(|&b| b == b':');
            let name = &line[..colon.unwrap_or(line.len())];
            let glued = find(line, HEADER).filter(|&at| at > 0);
            if glued.is_some() || colon.is_none() || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-') {
                // Not a header: noise, perhaps with a header after it on the same line.
                if let Some(at) = glued {
                    self.carry = line[at..].to_vec();
                    self.carry.push(b'\n');
                }
                let noise = &line[..glued.unwrap_or(line.len())];
                let shown: String = String::from_utf8_lossy(noise).chars().take(60).collect();
                return Ok(Headers::Bad(format!("malformed header `{shown}`")));
            }
            let value = String::from_utf8_lossy(line[name.len() + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"Content-Length") {
                length = Some(match value.parse::<u64>() {
                    Ok(n) if n > MAX_BODY as u64 => {
                        Err(format!("Content-Length {n} is over the {} MB limit", MAX_BODY >> 20))
                    }
                    Ok(n) => Ok(n as usize),
                    Err(_) => Err(format!("invalid Content-Length `{value}`")),
                });
            }
        }
        Ok(match length {
            Some(Ok(length)) => Headers::Length(length),
            Some(Err(problem)) => Headers::Bad(problem),
            None => Headers::Bad("a header block without Content-Length".to_string()),
        })
    }

    /// One header line (with its line break); `None` at the end of input. It stops after
    /// MAX_HEADER_LINE bytes: a longer line is no header.
    fn line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = std::mem::take(&mut self.carry);
        if line.ends_with(b"\n") {
            return Ok(Some(line));
        }
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok((!line.is_empty()).then_some(line));
            }
            let through_newline = available.iter().position(|&b| b == b'\n').map(|i| i + 1);
            let room = (MAX_HEADER_LINE + 1).saturating_sub(line.len());
            let n = through_newline.unwrap_or(available.len()).min(room);
            line.extend_from_slice(&available[..n]);
            self.input.consume(n);
            if line.ends_with(b"\n") || line.len() > MAX_HEADER_LINE {
                return Ok(Some(line));
            }
        }
    }

    /// Discard input up to the next `Content-Length:`, which is left to be read, holding at most
    /// one buffer. `false` at the end of input.
    fn skip_to_header(&mut self) -> io::Result<bool> {
        if let Some(at) = find(&self.carry, HEADER) {
            self.carry.drain(..at);
            return Ok(true);
        }
        self.carry.clear();
        // How much of HEADER the bytes seen so far end with.
        let mut matched = 0;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(false);
            }
            for (i, &b) in available.iter().enumerate() {
                // HEADER has a single `C`, at its start: a mismatch restarts at 0 or 1.
                matched = match b {
                    _ if b == HEADER[matched] => matched + 1,
                    b'C' => 1,
                    _ => 0,
                };
                if matched == HEADER.len() {
                    if i + 1 >= HEADER.len() {
                        // All of it in this buffer: leave it there.
                        self.input.consume(i + 1 - HEADER.len());
                    } else {
                        // It began in a buffer already consumed: read it again from `carry`.
                        self.input.consume(i + 1);
                        self.carry = HEADER.to_vec();
                    }
                    return Ok(true);
                }
            }
            let n = available.len();
            self.input.consume(n);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

enum Headers {
    Length(usize),
    Bad(String),
    End,
}

/// The `id` of a request whose JSON is broken, when its top-level object shows one before the
/// break: `{"jsonrpc":"2.0","id":7,"method":…` cut anywhere after the 7.
fn sniff_id(body: &[u8]) -> Option<RequestId> {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&body[..e.valid_up_to()]).ok()?,
    };
    let mut depth = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            '"' => {
                let end = string_end(text, at)?;
                if depth == 1 && &text[at..end] == "\"id\"" {
                    let rest = text[end..].trim_start().strip_prefix(':')?.trim_start();
                    return parse_id(rest);
                }
                while chars.peek().is_some_and(|(i, _)| *i < end) {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    None
}

/// The byte after the closing quote of the string starting at `start`.
fn string_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// A request id at the start of `text`: an integer or a string, complete.
fn parse_id(text: &str) -> Option<RequestId> {
    if text.starts_with('"') {
        let end = string_end(text, 0)?;
        let id: String = serde_json::from_str(&text[..end]).ok()?;
        return Some(RequestId::from(id));
    }
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(text.len());
    // A number cut by the end of the body may be another number.
    if end == text.len() {
        return None;
    }
    text[..end].parse::<i32>().ok().map(RequestId::from)
}
