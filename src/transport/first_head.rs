//! The first request head of a connection, checked before actix-http reads it, so that the
//! requests actix-http refuses before any code of ours runs still get the error envelope.
//!
//! actix-http answers a request head it cannot read with a bare status and no body, then closes
//! the connection: `400` for a malformed request line, URI (longer than 65,534 bytes, say) or
//! header (a NUL byte in it), `431` for a head longer than 128 KiB or with more than 96 header
//! fields, `408` for a head that does not arrive within `server.client_request_timeout_secs`.
//! Its answers are fixed in its dispatcher; no setting or middleware reaches them.
//! [`FirstHead`] sits between the connection and actix for the first head only:
//!
//! - it holds the incoming bytes until the head is whole, and decodes them with actix-http's
//!   own request decoder (`h1::Codec`), so that it refuses exactly what actix would refuse;
//! - a head that decodes is handed on, with everything after it, and from then on every byte
//!   passes unchanged;
//! - a head that does not decode, or that has not arrived when the head timeout fires, is
//!   answered here — the same status, with `{"error":{"code","message"}}` and
//!   `Connection: close` — and actix sees the end of the input, so it answers nothing.
//!   The rest of the client's request is read and dropped for a moment before the close, so
//!   that a client still sending reads the answer instead of a reset connection.
//!
//! Later requests on a keep-alive connection are not checked: actix may still be writing the
//! answer to the one before, and a second writer would interleave with it. Those few cases
//! keep actix's bare answer; docs/api.md lists them.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use actix_codec::Decoder as _;
use actix_http::error::ParseError;
use actix_http::h1::Codec;
use actix_http::{ServiceConfig, StatusCode};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Sleep};

use crate::http::error::ApiError;

/// How long the client's unread input is drained after a refusal before the connection closes
/// (actix-http's `client_disconnect_timeout` as the transport sets it).
const DRAIN_FOR: Duration = Duration::from_secs(1);

/// actix-http's read limit for a request head (its decoder's `MAX_BUFFER_SIZE`): at this many
/// bytes without a whole head it refuses with `431`.
const HEAD_LIMIT: usize = 131_072;

/// A connection whose first request head is checked as described in the module doc.
pub struct FirstHead<S> {
    inner: S,
    /// What checking the first head needs, until every byte passes unchanged: then `None`, so
    /// that a connection held open long after its first head (a held poll) keeps none of it.
    check: Option<Box<Check>>,
}

/// The first head's check: where it is, and what it holds.
struct Check {
    state: State,
    /// Read from the client while the first head was not whole yet.
    held: BytesMut,
    /// When the first head must have arrived; `None` without a head timeout.
    deadline: Option<Pin<Box<Sleep>>>,
    /// The head timeout, for the refusal's message.
    head_timeout: Duration,
    /// The settings the decoder is built with (see [`decoder_settings`]).
    decoder: ServiceConfig,
}

enum State {
    /// Holding bytes until the first head is whole.
    Reading,
    /// The head was whole and readable: `held` goes to actix, then every byte as it comes.
    Passing,
    /// Writing the refusal; `written` bytes of it are out.
    Answering { answer: Vec<u8>, written: usize },
    /// The refusal is out and our side is shut: reading and dropping what the client still
    /// sends until it closes or `until`.
    Draining { until: Pin<Box<Sleep>> },
    /// Nothing more for actix to read.
    Ended,
}

impl<S> FirstHead<S> {
    /// Wraps a freshly accepted connection; `head_timeout` is `server.client_request_timeout_secs`
    /// (zero: none), `decoder` the worker's [`decoder_settings`].
    pub fn new(inner: S, head_timeout: Duration, decoder: ServiceConfig) -> Self {
        let deadline = (!head_timeout.is_zero()).then(|| Box::pin(sleep(head_timeout)));
        let check = Check { state: State::Reading, held: BytesMut::new(), deadline, head_timeout, decoder };
        Self { inner, check: Some(Box::new(check)) }
    }

    /// The wrapped connection.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl Check {
    /// Decides on the bytes held so far, `fresh` of them just read: hand them on, refuse them,
    /// or wait for more. A head ends with a line feed, so only bytes that bring one (or reach
    /// actix's limit) can change the verdict: a head sent a byte at a time is decoded once per
    /// line, not once per byte.
    fn decide(&mut self, fresh: usize) {
        let can_end = self.held[self.held.len() - fresh..].contains(&b'\n') || self.held.len() >= HEAD_LIMIT;
        if !can_end {
            return;
        }
        if let Some(refusal) = match verdict(&self.held, &self.decoder) {
            Verdict::Incomplete => return,
            Verdict::Readable => None,
            Verdict::Refused(refusal) => Some(refusal),
        } {
            self.refuse(refusal);
        } else {
            self.state = State::Passing;
            self.deadline = None;
        }
    }

    fn refuse(&mut self, refusal: ApiError) {
        log::debug!("first request head refused: {} {}", refusal.status.as_u16(), refusal.code);
        self.held = BytesMut::new();
        self.deadline = None;
        self.state = State::Answering { answer: answer_bytes(&refusal), written: 0 };
    }
}

/// What the bytes at the start of a connection are to actix-http.
enum Verdict {
    /// Not a whole head yet, and not too long to become one.
    Incomplete,
    /// A head actix-http reads.
    Readable,
    /// A head actix-http would answer with a bare error; here is that error with its envelope.
    Refused(ApiError),
}

/// The settings [`FirstHead`]'s decoder is built with, made once per worker thread: making
/// them starts a clock task of actix-http's (its `Date` header), which one per connection
/// would start and stop again for nothing. They only shape keep-alive and timeouts, never what
/// the decoder accepts.
pub fn decoder_settings() -> ServiceConfig {
    ServiceConfig::default()
}

/// Decodes the start of `bytes` with actix-http's request decoder, as its dispatcher will.
fn verdict(bytes: &[u8], settings: &ServiceConfig) -> Verdict {
    // The decoder consumes what it reads; it reads a copy.
    let mut copy = BytesMut::from(bytes);
    match Codec::new(settings.clone()).decode(&mut copy) {
        Ok(None) => Verdict::Incomplete,
        Ok(Some(_)) => Verdict::Readable,
        Err(ParseError::TooLarge) => Verdict::Refused(ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "head_too_large",
            "The request head is longer than 131,072 bytes or has more than 96 header fields.",
        )),
        Err(error) => Verdict::Refused(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            format!("The request head is not valid HTTP/1.x ({}).", describe(&error)),
        )),
    }
}

/// What is wrong with a head, in a few words.
fn describe(error: &ParseError) -> &'static str {
    match error {
        ParseError::Method => "request method",
        ParseError::Uri(_) => "request target: malformed or longer than 65,534 bytes",
        ParseError::Version => "protocol version",
        ParseError::Header => "the request line or a header field",
        _ => "unreadable",
    }
}

/// The refusal as bytes on the wire: status line, headers, envelope.
fn answer_bytes(refusal: &ApiError) -> Vec<u8> {
    let body = refusal.envelope_json();
    let status = refusal.status;
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body.as_bytes());
    answer
}

impl Check {
    /// Writes the refusal to `inner` and shuts our side; `Ready` once both are done.
    fn poll_answer<S: AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while let State::Answering { answer, written } = &mut self.state {
            if *written < answer.len() {
                let n = ready!(Pin::new(&mut *inner).poll_write(cx, &answer[*written..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *written += n;
            } else {
                ready!(Pin::new(&mut *inner).poll_shutdown(cx))?;
                self.state = State::Draining { until: Box::pin(sleep(DRAIN_FOR)) };
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Reads and drops what the client still sends on `inner` until it closes or the drain
    /// time is up.
    fn poll_drain<S: AsyncRead + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        let State::Draining { until } = &mut self.state else { return Poll::Ready(Ok(())) };
        if until.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        let mut scratch = [0u8; 8192];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            ready!(Pin::new(&mut *inner).poll_read(cx, &mut buf))?;
            if buf.filled().is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }

    /// One step of reading through the check: `Some` with what `poll_read` answers, or `None`
    /// to look again (the state moved on, or every byte passes unchanged from now on).
    fn poll_read<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        inner: &mut S,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Option<Poll<io::Result<()>>> {
        match &mut self.state {
            // Nothing held is left: the caller drops the check.
            State::Passing if self.held.is_empty() => None,
            State::Passing => {
                let handed = self.held.len().min(buf.remaining());
                buf.put_slice(&self.held[..handed]);
                self.held.advance(handed);
                Some(Poll::Ready(Ok(())))
            }
            State::Answering { .. } => match self.poll_answer(inner, cx) {
                Poll::Ready(Ok(())) => None,
                other => Some(other),
            },
            State::Draining { .. } => {
                // Errors while draining change nothing: the answer is out.
                if self.poll_drain(inner, cx).is_pending() {
                    return Some(Poll::Pending);
                }
                self.state = State::Ended;
                None
            }
            State::Ended => Some(Poll::Ready(Ok(()))),
            State::Reading => {
                if let Some(deadline) = self.deadline.as_mut() {
                    if deadline.as_mut().poll(cx).is_ready() {
                        self.refuse(head_timeout(self.head_timeout));
                        return None;
                    }
                }
                if buf.remaining() == 0 {
                    return Some(Poll::Ready(Ok(())));
                }
                // Read into the reader's free space, then take the bytes back to decide.
                let start = buf.filled().len();
                match Pin::new(&mut *inner).poll_read(cx, buf) {
                    Poll::Ready(Ok(())) => {}
                    other => return Some(other),
                }
                if buf.filled().len() == start {
                    // The client closed before its head was whole: actix sees what came,
                    // then the end, as it would have without us.
                    self.state = State::Passing;
                    self.deadline = None;
                    return None;
                }
                let fresh = buf.filled().len() - start;
                self.held.extend_from_slice(&buf.filled()[start..]);
                buf.set_filled(start);
                self.decide(fresh);
                None
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for FirstHead<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while let Some(check) = this.check.as_deref_mut() {
            let answer = check.poll_read(&mut this.inner, cx, buf);
            if matches!(check.state, State::Passing) && check.held.is_empty() {
                // Every byte passes unchanged from now on: the check is dropped.
                this.check = None;
            }
            if let Some(answer) = answer {
                return answer;
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

/// The refusal of a head that did not arrive within `timeout`.
fn head_timeout(timeout: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "head_timeout",
        format!(
            "The request head did not arrive within {} s (server.client_request_timeout_secs).",
            timeout.as_secs()
        ),
    )
}

super::writes_pass_through!(FirstHead, shutdown: |this: &mut FirstHead<S>, cx| {
    if this.check.as_ref().is_some_and(|check| matches!(check.state, State::Ended)) {
        // Our side was shut after the refusal.
        return Poll::Ready(Ok(()));
    }
    Pin::new(&mut this.inner).poll_shutdown(cx)
});
