//! One kept-alive HTTP/1.1 connection, written by hand on a tokio `TcpStream`: a request is
//! one `write` of a buffer the connection keeps, an answer is read into a buffer it keeps and
//! parsed with `httparse`. The generator shares the server's two cores, so each microsecond
//! per request matters: reqwest's URL parsing, header maps, pool bookkeeping and the hop to a
//! connection task cost several times what the exchange itself does.
//!
//! Only what the generator needs: `GET` and `POST` with a `Content-Length` body, answers sized
//! by `Content-Length`, chunked or delimited by the close of the connection.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Read buffer grows by this much when full; most answers fit in one read of it.
const READ_CHUNK: usize = 16 * 1024;
/// Headers an answer may carry (actix sends a handful).
const MAX_HEADERS: usize = 32;
/// A connection idle longer than this is checked for a close by the server before reuse
/// (actix closes idle keep-alive connections after 5 s); a busier one is reused as is.
const CHECK_IDLE_AFTER: Duration = Duration::from_millis(100);

/// Why an exchange failed, named as reqwest named it so that error tables stay comparable
/// with earlier runs.
#[derive(Debug)]
pub enum Failure {
    /// The connection could not be made.
    Connect(io::ErrorKind),
    /// Writing the request or reading the answer's head failed.
    Request(Cause),
    /// Reading the answer's body failed.
    Body(Cause),
}

/// What lies under a [`Failure`].
#[derive(Debug)]
pub enum Cause {
    /// An I/O error of this kind.
    Io(io::ErrorKind),
    /// No I/O error: hyper's words for the same condition.
    Other(&'static str),
}

impl Failure {
    /// `connect ConnectionRefused`, `request (connection closed before message completed)` …
    pub fn kind(&self) -> String {
        let (category, cause) = match self {
            Failure::Connect(kind) => return format!("connect {kind:?}"),
            Failure::Request(cause) => ("request", cause),
            Failure::Body(cause) => ("body", cause),
        };
        match cause {
            Cause::Io(kind) => format!("{category} {kind:?}"),
            Cause::Other(words) => format!("{category} ({words})"),
        }
    }
}

/// An answer read whole.
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// `Retry-After` in seconds, when present and numeric.
    pub retry_after: Option<Duration>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// nchan's cursor: the `Last-Modified` and `Etag` headers, when present (Switchboard sends
    /// neither, so its answers pay only the header-name comparison).
    pub cursor: Option<Box<(String, String)>>,
}

/// What a request is.
pub struct Request<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The `Host` header.
    pub host: &'a str,
    /// Path and query, prefix included.
    pub path: &'a str,
    /// The bearer token, if any.
    pub token: Option<&'a str>,
    /// A JSON body, if any.
    pub body: Option<&'a [u8]>,
    /// More headers, as complete lines without the CRLF (e.g. nchan's `If-None-Match: 3`).
    pub extra: &'a [String],
}

/// A kept-alive connection and its buffers.
pub struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet consumed (only within one exchange: nothing is pipelined).
    read: Vec<u8>,
    /// The request being written.
    write: Vec<u8>,
    /// When its last answer was read.
    idle_since: Instant,
}

impl Conn {
    /// Connects from `local` (port chosen by the kernel) to `server`, Nagle off.
    pub async fn connect(local: IpAddr, server: SocketAddr) -> Result<Self, Failure> {
        let socket = match local {
            IpAddr::V4(_) => TcpSocket::new_v4(),
            IpAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(|e| Failure::Connect(e.kind()))?;
        socket.bind(SocketAddr::new(local, 0)).map_err(|e| Failure::Connect(e.kind()))?;
        let stream = socket.connect(server).await.map_err(|e| Failure::Connect(e.kind()))?;
        stream.set_nodelay(true).map_err(|e| Failure::Connect(e.kind()))?;
        Ok(Self {
            stream,
            read: Vec::with_capacity(READ_CHUNK),
            write: Vec::with_capacity(1024),
            idle_since: Instant::now(),
        })
    }

    /// Whether a pooled connection may carry another request: not closed by the server while
    /// it sat idle. Checked without a system call unless the socket has become readable.
    pub fn reusable(&self) -> bool {
        if self.idle_since.elapsed() < CHECK_IDLE_AFTER {
            return true;
        }
        let mut byte = [0u8; 1];
        // WouldBlock: nothing arrived, still open. Ok(0) is the server's close; any byte
        // would be an answer to nothing — either way the connection is spent.
        matches!(self.stream.try_read(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Sends `request` and reads its answer; also whether the connection can be reused.
    pub async fn exchange(&mut self, request: &Request<'_>) -> Result<(Answer, bool), Failure> {
        write_head(&mut self.write, request);
        self.stream.write_all(&self.write).await.map_err(|e| Failure::Request(Cause::Io(e.kind())))?;
        self.read.clear();
        let head = self.read_head().await?;
        let body = self.read_body(&head).await?;
        // Bytes past the answer would be an answer to nothing: do not reuse.
        let reusable = head.keep_alive && body.1 == self.read.len();
        self.idle_since = Instant::now();
        let answer =
            Answer { status: head.status, retry_after: head.retry_after, body: body.0, cursor: head.cursor };
        Ok((answer, reusable))
    }

    /// Reads more into `read`; 0 at the end of the stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.read.capacity() - self.read.len() < READ_CHUNK / 4 {
            self.read.reserve(READ_CHUNK);
        }
        self.stream.read_buf(&mut self.read).await
    }

    /// Reads until the answer's head is complete.
    async fn read_head(&mut self) -> Result<Head, Failure> {
        loop {
            if !self.read.is_empty() {
                if let Some(head) = parse_head(&self.read)? {
                    return Ok(head);
                }
            }
            let read = self.fill().await.map_err(|e| Failure::Request(Cause::Io(e.kind())))?;
            if read == 0 {
                return Err(Failure::Request(Cause::Other("connection closed before message completed")));
            }
        }
    }

    /// Reads the body `head` announces; the body and where the answer ends in `read`.
    async fn read_body(&mut self, head: &Head) -> Result<(Vec<u8>, usize), Failure> {
        let start = head.length;
        match head.framing {
            Framing::Length(length) => {
                let end = start + length;
                while self.read.len() < end {
                    if self.fill().await.map_err(|e| Failure::Body(Cause::Io(e.kind())))? == 0 {
                        return Err(Failure::Body(Cause::Io(io::ErrorKind::UnexpectedEof)));
                    }
                }
                Ok((self.read[start..end].to_vec(), end))
            }
            Framing::Chunked => loop {
                if let Some((body, end)) = dechunk(&self.read[start..])? {
                    return Ok((body, start + end));
                }
                if self.fill().await.map_err(|e| Failure::Body(Cause::Io(e.kind())))? == 0 {
                    return Err(Failure::Body(Cause::Io(io::ErrorKind::UnexpectedEof)));
                }
            },
            Framing::UntilClose => {
                while self.fill().await.map_err(|e| Failure::Body(Cause::Io(e.kind())))? > 0 {}
                Ok((self.read[start..].to_vec(), self.read.len()))
            }
        }
    }
}

/// How the body's end is known.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// What the head of an answer says.
struct Head {
    status: u16,
    retry_after: Option<Duration>,
    /// Bytes of the head, up to the body.
    length: usize,
    framing: Framing,
    keep_alive: bool,
    cursor: Option<Box<(String, String)>>,
}

/// Writes the request line, headers and body into `out` (cleared first).
fn write_head(out: &mut Vec<u8>, request: &Request<'_>) {
    out.clear();
    for part in
        [request.method, " ", request.path, " HTTP/1.1\r\nhost: ", request.host, "\r\naccept: */*\r\n"]
    {
        out.extend_from_slice(part.as_bytes());
    }
    if let Some(token) = request.token {
        for part in ["authorization: Bearer ", token, "\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
    }
    for line in request.extra {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(body) = request.body {
        out.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
        push_decimal(out, body.len());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
}

/// Appends `value` in decimal, without going through `fmt`.
fn push_decimal(out: &mut Vec<u8>, value: usize) {
    let start = out.len();
    let mut rest = value;
    loop {
        out.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out[start..].reverse();
}

/// Parses a complete head out of `data`; `None` while more is needed. 1xx heads are not
/// expected (no `Expect` is ever sent) and are refused as invalid.
fn parse_head(data: &[u8]) -> Result<Option<Head>, Failure> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(data) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(Failure::Request(Cause::Other("invalid HTTP response parsed"))),
    };
    let status = response.code.unwrap_or(0);
    let mut keep_alive = response.version == Some(1);
    let mut content_length = None;
    let mut chunked = false;
    let mut retry_after = None;
    let (mut last_modified, mut etag) = (None, None);
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            content_length = std::str::from_utf8(header.value).ok().and_then(|v| v.trim().parse().ok());
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = header.value.eq_ignore_ascii_case(b"chunked");
        } else if name.eq_ignore_ascii_case("connection") {
            keep_alive = !header.value.eq_ignore_ascii_case(b"close");
        } else if name.eq_ignore_ascii_case("retry-after") {
            retry_after = std::str::from_utf8(header.value)
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
        } else if name.eq_ignore_ascii_case("last-modified") {
            last_modified = std::str::from_utf8(header.value).ok();
        } else if name.eq_ignore_ascii_case("etag") {
            etag = std::str::from_utf8(header.value).ok();
        }
    }
    let cursor =
        last_modified.map(|modified| Box::new((modified.to_string(), etag.unwrap_or("").to_string())));
    if (100..200).contains(&status) {
        return Err(Failure::Request(Cause::Other("unexpected informational answer")));
    }
    let framing = if status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(Some(Head { status, retry_after, length, framing, keep_alive, cursor }))
}

/// Decodes a chunked body at the start of `data`: the body and the bytes it took, or `None`
/// while incomplete. Trailers are skipped.
fn dechunk(data: &[u8]) -> Result<Option<(Vec<u8>, usize)>, Failure> {
    let invalid = || Failure::Body(Cause::Other("invalid chunk size line"));
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some(line_end) = find_crlf(&data[at..]) else { return Ok(None) };
        let line = &data[at..at + line_end];
        let size_text = line.split(|b| *b == b';').next().unwrap_or_default();
        let size_text = std::str::from_utf8(size_text).map_err(|_| invalid())?;
        let size = usize::from_str_radix(size_text.trim(), 16).map_err(|_| invalid())?;
        at += line_end + 2;
        if size == 0 {
            // Trailers, each ending in CRLF, then an empty line.
            loop {
                let Some(end) = find_crlf(&data[at..]) else { return Ok(None) };
                at += end + 2;
                if end == 0 {
                    return Ok(Some((body, at)));
                }
            }
        }
        if data.len() < at + size + 2 {
            return Ok(None);
        }
        body.extend_from_slice(&data[at..at + size]);
        at += size + 2;
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|pair| pair == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sized_head_is_read_with_its_retry_after() {
        let text = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 5\r\nRetry-After: 2\r\n\r\nhello";
        let head = parse_head(text).ok().flatten().expect("complete head");
        assert_eq!(head.status, 503);
        assert_eq!(head.retry_after, Some(Duration::from_secs(2)));
        assert!(matches!(head.framing, Framing::Length(5)));
        assert!(head.keep_alive);
        assert_eq!(&text[head.length..], b"hello");
    }

    #[test]
    fn nchan_s_cursor_headers_are_kept_and_a_408_is_an_empty_answer() {
        let text = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nLast-Modified: Mon, 07 Dec 2026 09:16:41 GMT\r\nEtag: 2\r\n\r\nabc";
        let head = parse_head(text).ok().flatten().expect("complete head");
        let cursor = head.cursor.expect("cursor");
        assert_eq!((cursor.0.as_str(), cursor.1.as_str()), ("Mon, 07 Dec 2026 09:16:41 GMT", "2"));
        let timeout = b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nEtag: 2\r\n\r\n";
        let head = parse_head(timeout).ok().flatten().expect("complete head");
        assert_eq!(head.status, 408);
        assert!(head.cursor.is_none(), "no Last-Modified: the cursor stays");
        assert!(head.keep_alive);
    }

    #[test]
    fn a_partial_head_asks_for_more() {
        assert!(matches!(parse_head(b"HTTP/1.1 200 OK\r\ncontent-le"), Ok(None)));
    }

    #[test]
    fn a_chunked_body_is_joined_and_its_end_found() {
        let data = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\nNEXT";
        let (body, end) = dechunk(data).ok().flatten().expect("complete body");
        assert_eq!(body, b"hello world");
        assert_eq!(&data[end..], b"NEXT");
        assert!(matches!(dechunk(&data[..10]), Ok(None)));
    }

    #[test]
    fn a_request_head_is_written_whole() {
        let mut out = Vec::new();
        let request = Request {
            method: "POST",
            host: "127.0.0.1:80",
            path: "/send",
            token: Some("t"),
            body: Some(b"{}"),
            extra: &["if-none-match: 3".to_string()],
        };
        write_head(&mut out, &request);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(text.starts_with("POST /send HTTP/1.1\r\nhost: 127.0.0.1:80\r\n"));
        assert!(text.contains("authorization: Bearer t\r\n"));
        assert!(text.contains("\r\nif-none-match: 3\r\n"));
        assert!(text.ends_with("content-length: 2\r\n\r\n{}"));
        let mut digits = Vec::new();
        push_decimal(&mut digits, 0);
        push_decimal(&mut digits, 1234);
        assert_eq!(digits, b"01234");
    }
}
