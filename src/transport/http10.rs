//! HTTP/1.0 `POST`s without a length, as nginx sends a body-less `POST` to its upstream.
//!
//! nginx speaks HTTP/1.0 to an upstream unless told otherwise, and passes a client's body-less
//! `POST` on with neither `Content-Length` nor `Transfer-Encoding`. actix-http's request decoder
//! refuses that (RFC 1945 §7.2.2 asks an HTTP/1.0 `POST` for a length) with a bare `400`, before
//! any middleware of ours could give it the error envelope. [`LengthlessPosts`] sits between the
//! socket and actix: it reads each HTTP/1.0 request head whole and, for exactly that request,
//! adds `Content-Length: 0` — the empty body the request has. Nothing else changes:
//!
//! - the head of every other HTTP/1.0 request passes as it came, and its body (exactly
//!   `Content-Length` bytes; HTTP/1.0 has no chunked bodies) passes unread before the next head
//!   of a keep-alive connection;
//! - from the first HTTP/1.1 request on, and from anything it cannot read as an HTTP/1.0
//!   request it could frame the way actix does (an unreadable or over-long head,
//!   `Transfer-Encoding`, `Upgrade`, `CONNECT`, a bad or repeated `Content-Length`), every
//!   byte passes unchanged until the connection closes, and actix answers as it always did;
//! - writes always pass unchanged.
//!
//! Heads are read with `httparse`, the parser actix-http itself uses, with the same defaults.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, ReadBuf};

/// What is added to the head of an HTTP/1.0 `POST` that has no length.
const EMPTY_BODY: &[u8] = b"Content-Length: 0\r\n";

/// The longest head inspected: actix-http's read limit for a request head (its
/// `MAX_BUFFER_SIZE`, 128 KiB), less [`EMPTY_BODY`] so that a head that grew by it is still
/// within that limit. A longer head passes unchanged, and actix answers it as it always did.
const MAX_HEAD: usize = 131_072 - EMPTY_BODY.len();

/// Headers one head may have: actix-http's own limit (a head with more is refused by it).
const MAX_HEADERS: usize = 96;

/// A connection's byte stream, with `Content-Length: 0` added to every HTTP/1.0 `POST` head
/// that has no length (see the module doc).
pub struct LengthlessPosts<S> {
    inner: S,
    /// What framing HTTP/1.0 requests needs, until every byte passes unchanged: then `None`,
    /// so that a connection held open for long (a held poll) keeps none of it.
    framing: Option<Box<Framing>>,
}

/// Where the incoming bytes are, and those read but not handed on yet.
struct Framing {
    reading: Reading,
    /// Read from `inner`, not decided yet: the start of a request head that is not whole.
    held: BytesMut,
    /// Decided (a head as it came or with the added length, and what followed it), not yet
    /// handed to the reader.
    ready: BytesMut,
    /// How many bytes at the start of `held` were already read as an unfinished head. A head
    /// ends with a line feed, so bytes that bring none cannot finish it: a head trickled a
    /// byte at a time is read once per line, not once per byte.
    unfinished: usize,
}

/// Where the connection's incoming bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// At the start of a request: its head is read whole before it is handed on.
    Head,
    /// Inside an HTTP/1.0 request body: this many more bytes (at least one) pass unchanged
    /// before the next head.
    Body(u64),
    /// Everything passes unchanged until the connection closes.
    PassThrough,
}

/// What the bytes at the start of a request are.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Not a whole head yet: wait for more bytes.
    Incomplete,
    /// A whole HTTP/1.0 head of `len` bytes that actix frames as we do; `add_length` when it
    /// is a `POST` without a length. `then` is what follows it.
    Http10 { len: usize, add_length: bool, then: Reading },
    /// An HTTP/1.1 request, or anything else that is not ours to touch.
    PassThrough,
}

impl<S> LengthlessPosts<S> {
    /// Wraps a freshly accepted connection.
    pub fn new(inner: S) -> Self {
        let framing =
            Framing { reading: Reading::Head, held: BytesMut::new(), ready: BytesMut::new(), unfinished: 0 };
        Self { inner, framing: Some(Box::new(framing)) }
    }

    /// The wrapped connection.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl Framing {
    /// Nothing is held and everything passes unchanged from now on.
    fn is_done(&self) -> bool {
        self.reading == Reading::PassThrough && self.ready.is_empty() && self.held.is_empty()
    }

    /// Takes bytes just read from the client: moves what can be decided to `ready` (a whole
    /// head possibly with the added length, body bytes, everything once passing through) and
    /// keeps the start of an unfinished head in `held`.
    fn take(&mut self, input: &[u8]) {
        if self.unfinished > 0 && !input.contains(&b'\n') && self.held.len() + input.len() < MAX_HEAD {
            self.held.extend_from_slice(input);
            return;
        }
        self.held.extend_from_slice(input);
        self.unfinished = 0;
        let mut at = 0;
        while at < self.held.len() {
            let rest = &self.held[at..];
            match self.reading {
                Reading::PassThrough => {
                    self.ready.extend_from_slice(rest);
                    at = self.held.len();
                }
                Reading::Body(left) => {
                    let passed = usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                    self.ready.extend_from_slice(&rest[..passed]);
                    at += passed;
                    // `passed` is at most `left`, so this cannot wrap.
                    let left = left - passed as u64;
                    self.reading = if left == 0 { Reading::Head } else { Reading::Body(left) };
                }
                Reading::Head => match inspect(rest) {
                    Verdict::Incomplete => {
                        self.unfinished = rest.len();
                        break;
                    }
                    Verdict::PassThrough => self.reading = Reading::PassThrough,
                    Verdict::Http10 { len, add_length, then } => {
                        let head = &rest[..len];
                        if add_length {
                            // Before the blank line that ends the head (CRLF or a bare LF).
                            let blank_line = if head.ends_with(b"\r\n") { 2 } else { 1 };
                            let (fields, end) = head.split_at(len - blank_line);
                            self.ready.extend_from_slice(fields);
                            self.ready.extend_from_slice(EMPTY_BODY);
                            self.ready.extend_from_slice(end);
                        } else {
                            self.ready.extend_from_slice(head);
                        }
                        at += len;
                        self.reading = then;
                    }
                },
            }
        }
        // A connection may stay open long after its heads (a held poll): keep no memory for it.
        if at == self.held.len() {
            self.held = BytesMut::new();
        } else {
            self.held.advance(at);
        }
    }

    /// The client closed its side: an unfinished head goes on as it is, and actix sees the
    /// end of input after it.
    fn end_of_input(&mut self) {
        self.ready.extend_from_slice(&self.held.split());
        self.reading = Reading::PassThrough;
    }
}

/// Reads the request head at the start of `bytes` the way actix-http's decoder reads it, and
/// says what to do with it.
fn inspect(bytes: &[u8]) -> Verdict {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Partial) if bytes.len() < MAX_HEAD => return Verdict::Incomplete,
        // Unreadable, longer than inspected, or too many headers: on to actix as it came.
        _ => return Verdict::PassThrough,
    };
    if request.version != Some(0) {
        return Verdict::PassThrough;
    }
    let method = request.method.unwrap_or_default();
    let mut lengths = request.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("content-length"));
    let length = lengths.next();
    let repeated = lengths.next().is_some();
    // actix refuses `Transfer-Encoding` in HTTP/1.0 and reads a `CONNECT` or a WebSocket
    // upgrade until the connection closes: none of them is framed by a length.
    let framed_otherwise = method == "CONNECT"
        || request.headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("transfer-encoding") || h.name.eq_ignore_ascii_case("upgrade")
        });
    if framed_otherwise || repeated {
        return Verdict::PassThrough;
    }
    match length.map(|header| content_length(header.value)) {
        // The one request actix would refuse: a `POST` (exactly; methods are case-sensitive).
        None => Verdict::Http10 { len, add_length: method == "POST", then: Reading::Head },
        Some(Some(0)) => Verdict::Http10 { len, add_length: false, then: Reading::Head },
        Some(Some(body)) => Verdict::Http10 { len, add_length: false, then: Reading::Body(body) },
        // A length actix cannot read either: it refuses the request and closes.
        Some(None) => Verdict::PassThrough,
    }
}

/// A `Content-Length` value as actix-http reads it: digits, with optional whitespace around.
fn content_length(value: &[u8]) -> Option<u64> {
    let value = std::str::from_utf8(value).ok()?.trim();
    // `u64::from_str` takes a leading `+`; actix does not.
    if value.starts_with('+') {
        return None;
    }
    value.parse().ok()
}

impl Framing {
    /// Hands `buf` what is decided, reading more from `inner` when nothing is: `Some` with what
    /// `poll_read` answers, or `None` when everything passes unchanged from now on.
    fn poll_read<S: AsyncRead + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Option<Poll<io::Result<()>>> {
        loop {
            if !self.ready.is_empty() {
                let handed = self.ready.len().min(buf.remaining());
                buf.put_slice(&self.ready[..handed]);
                if handed == self.ready.len() {
                    self.ready = BytesMut::new();
                } else {
                    self.ready.advance(handed);
                }
                return Some(Poll::Ready(Ok(())));
            }
            // Nothing is held once passing through (see `take`): straight from the socket.
            if self.reading == Reading::PassThrough {
                return None;
            }
            if buf.remaining() == 0 {
                return Some(Poll::Ready(Ok(())));
            }
            // Read into the reader's free space, then take the bytes back to decide on them.
            let start = buf.filled().len();
            match Pin::new(&mut *inner).poll_read(cx, buf) {
                Poll::Ready(Ok(())) => {}
                other => return Some(other),
            }
            if buf.filled().len() == start {
                self.end_of_input();
                if self.ready.is_empty() {
                    return Some(Poll::Ready(Ok(())));
                }
                continue;
            }
            self.take(&buf.filled()[start..]);
            buf.set_filled(start);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LengthlessPosts<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(framing) = this.framing.as_deref_mut() {
            let answer = framing.poll_read(&mut this.inner, cx, buf);
            if framing.is_done() {
                // A held poll may keep the connection open for long: keep no memory for it.
                this.framing = None;
            }
            if let Some(answer) = answer {
                return answer;
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

super::writes_pass_through!(LengthlessPosts);

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use tokio::io::AsyncWrite;

    use super::*;

    const LENGTHLESS_POST: &[u8] = b"POST /api/visitors HTTP/1.0\r\nHost: x\r\n\r\n";
    const WITH_EMPTY_BODY: &[u8] = b"POST /api/visitors HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n";

    /// A client that sends `chunks`, one per read, then closes (or, when `stays_open`, sends
    /// nothing more); every other read is `Pending` (with a wake-up), as a socket whose next
    /// bytes have not come yet.
    struct Client {
        chunks: VecDeque<Vec<u8>>,
        stays_open: bool,
        pending_next: bool,
    }

    impl AsyncRead for Client {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            this.pending_next = !this.pending_next;
            if this.pending_next || (this.chunks.is_empty() && this.stays_open) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if let Some(mut chunk) = this.chunks.pop_front() {
                let fits = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..fits]);
                if fits < chunk.len() {
                    this.chunks.push_front(chunk.split_off(fits));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// What actix reads when the client sends `chunks` and closes, in reads of at most
    /// `read_size` bytes.
    fn read_through(chunks: &[&[u8]], read_size: usize) -> Vec<u8> {
        read_from(chunks, read_size, false)
    }

    /// What actix reads when the client sends `chunks` and then waits with the connection open.
    fn read_while_open(chunks: &[&[u8]]) -> Vec<u8> {
        read_from(chunks, 8192, true)
    }

    fn read_from(chunks: &[&[u8]], read_size: usize, stays_open: bool) -> Vec<u8> {
        // An empty read means the end of input: a cut at either end sends nothing there.
        let chunks = chunks.iter().filter(|c| !c.is_empty()).map(|c| c.to_vec()).collect();
        let client = Client { chunks, stays_open, pending_next: false };
        let mut stream = LengthlessPosts::new(client);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut seen = Vec::new();
        loop {
            let mut space = vec![0; read_size];
            let mut buf = ReadBuf::new(&mut space);
            match Pin::new(&mut stream).poll_read(&mut cx, &mut buf) {
                Poll::Pending if stays_open && stream.get_ref().chunks.is_empty() => return seen,
                Poll::Pending => continue,
                Poll::Ready(result) => result.expect("no read fails"),
            }
            if buf.filled().is_empty() {
                return seen;
            }
            seen.extend_from_slice(buf.filled());
        }
    }

    /// Every way of cutting `bytes` in two reads, and one byte per read.
    fn every_split(bytes: &[u8]) -> Vec<Vec<&[u8]>> {
        let mut splits: Vec<Vec<&[u8]>> =
            (0..=bytes.len()).map(|at| vec![&bytes[..at], &bytes[at..]]).collect();
        splits.push(bytes.chunks(1).collect());
        splits
    }

    fn assert_read_as(sent: &[u8], expected: &[u8]) {
        for chunks in every_split(sent) {
            let cut: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
            for read_size in [1, 7, 8192] {
                assert_eq!(
                    String::from_utf8_lossy(&read_through(&chunks, read_size)),
                    String::from_utf8_lossy(expected),
                    "sent in reads of {cut:?}, read {read_size} bytes at a time"
                );
            }
        }
    }

    fn concat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn an_http_1_0_post_without_a_length_gets_an_empty_body_wherever_its_head_is_cut() {
        assert_read_as(LENGTHLESS_POST, WITH_EMPTY_BODY);
    }

    #[test]
    fn the_added_length_is_one_that_actix_reads_as_an_empty_body() {
        let mut headers = [httparse::EMPTY_HEADER; 4];
        let mut request = httparse::Request::new(&mut headers);
        assert_eq!(request.parse(WITH_EMPTY_BODY), Ok(httparse::Status::Complete(WITH_EMPTY_BODY.len())));
        let length: Vec<_> = request.headers.iter().filter(|h| h.name == "Content-Length").collect();
        assert_eq!((length.len(), length[0].value), (1, &b"0"[..]));
    }

    #[test]
    fn a_head_with_bare_line_feeds_gets_the_length_before_its_blank_line() {
        assert_read_as(b"POST / HTTP/1.0\nHost: x\n\n", b"POST / HTTP/1.0\nHost: x\nContent-Length: 0\r\n\n");
        assert_read_as(b"POST / HTTP/1.0\r\n\r\n", b"POST / HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn an_http_1_0_post_with_a_content_length_and_its_body_pass_unchanged() {
        let sent = b"POST /send HTTP/1.0\r\nContent-Length: 11\r\n\r\n{\"a\": true}";
        assert_read_as(sent, sent);
        let sent = b"POST /send HTTP/1.0\r\ncontent-length:  0 \r\n\r\n";
        assert_read_as(sent, sent);
    }

    #[test]
    fn other_methods_without_a_length_pass_unchanged_as_actix_reads_them_as_empty() {
        for sent in
            [&b"GET /poll HTTP/1.0\r\n\r\n"[..], b"PUT /x HTTP/1.0\r\n\r\n", b"post /x HTTP/1.0\r\n\r\n"]
        {
            assert_read_as(sent, sent);
        }
    }

    #[test]
    fn an_http_1_1_request_passes_unchanged_and_so_does_the_rest_of_its_connection() {
        let after_get = concat(&[b"GET /poll HTTP/1.1\r\nHost: x\r\n\r\n", LENGTHLESS_POST]);
        assert_read_as(&after_get, &after_get);
        let sent =
            concat(&[b"POST /send HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", LENGTHLESS_POST]);
        assert_read_as(&sent, &sent);
        let chunked = concat(&[
            b"POST /send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            LENGTHLESS_POST,
        ]);
        assert_read_as(&chunked, &chunked);
    }

    #[test]
    fn an_http_1_0_keep_alive_connection_is_read_request_by_request() {
        // The first body looks like a lengthless POST: it is a body, and passes unchanged.
        let sent = concat(&[
            b"POST /send HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 40\r\n\r\n",
            LENGTHLESS_POST,
            b"GET /poll HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            LENGTHLESS_POST,
        ]);
        let expected = concat(&[
            b"POST /send HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 40\r\n\r\n",
            LENGTHLESS_POST,
            b"GET /poll HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
            WITH_EMPTY_BODY,
        ]);
        assert_eq!(LENGTHLESS_POST.len(), 40);
        assert_read_as(&sent, &expected);
        let twice = concat(&[LENGTHLESS_POST, LENGTHLESS_POST]);
        assert_read_as(&twice, &concat(&[WITH_EMPTY_BODY, WITH_EMPTY_BODY]));
    }

    #[test]
    fn a_head_longer_than_actix_reads_passes_unchanged_and_so_does_the_rest() {
        let filler = format!("X-Filler: {}\r\n", "a".repeat(MAX_HEAD));
        let sent = concat(&[b"POST / HTTP/1.0\r\n", filler.as_bytes(), b"\r\n", LENGTHLESS_POST]);
        let read = read_through(&[&sent], 8192);
        assert!(read == sent, "an over-long head was changed");
        let read = read_through(&sent.chunks(1000).collect::<Vec<_>>(), 8192);
        assert!(read == sent, "an over-long head sent in parts was changed");
    }

    #[test]
    fn an_unfinished_head_is_held_back_until_it_reaches_actix_s_limit() {
        let unfinished = b"POST /api/visitors HTTP/1.0\r\nHost: x\r\n";
        assert_eq!(read_while_open(&[unfinished]), b"");
        // Past the limit actix sees it all (and answers 431 as it always did).
        let endless = concat(&[b"POST / HTTP/1.0\r\nX-Filler: ", "a".repeat(MAX_HEAD).as_bytes()]);
        let read = read_while_open(&endless.chunks(1000).collect::<Vec<_>>());
        assert!(read == endless, "an endless head was held back");
    }

    #[test]
    fn what_actix_refuses_or_reads_to_the_end_passes_unchanged() {
        for sent in [
            concat(&[b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", LENGTHLESS_POST]),
            concat(&[b"POST / HTTP/1.0\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", LENGTHLESS_POST]),
            concat(&[b"POST / HTTP/1.0\r\nContent-Length: +1\r\n\r\nx", LENGTHLESS_POST]),
            concat(&[b"GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n", LENGTHLESS_POST]),
            concat(&[b"CONNECT x:1 HTTP/1.0\r\n\r\n", LENGTHLESS_POST]),
            concat(&[b"NOT HTTP AT ALL\r\n\r\n", LENGTHLESS_POST]),
            concat(&[b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", LENGTHLESS_POST]),
        ] {
            assert_read_as(&sent, &sent);
        }
    }

    #[test]
    fn an_unfinished_head_is_handed_on_as_it_is_when_the_client_closes() {
        assert_read_as(b"POST /api/visitors HTTP/1.0\r\nHo", b"POST /api/visitors HTTP/1.0\r\nHo");
        assert_read_as(b"", b"");
    }

    #[test]
    fn writes_pass_unchanged() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut stream = LengthlessPosts::new(Vec::new());
        // Even bytes that would be changed on the way in.
        let written = Pin::new(&mut stream).poll_write(&mut cx, LENGTHLESS_POST);
        assert!(matches!(written, Poll::Ready(Ok(n)) if n == LENGTHLESS_POST.len()));
        assert!(matches!(Pin::new(&mut stream).poll_flush(&mut cx), Poll::Ready(Ok(()))));
        assert_eq!(stream.get_ref().as_slice(), LENGTHLESS_POST);
    }
}
