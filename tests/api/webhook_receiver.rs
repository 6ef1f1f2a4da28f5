//! A real HTTP receiver of webhook calls for the tests, on 127.0.0.1: it checks each call's
//! signature, can fail on purpose (the first tries of each event, or every call), can answer
//! slowly, and counts per event id the calls it took (answered 2xx), so duplicates show.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One call as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// `Webhook-Id`.
    pub id: i64,
    /// The body, parsed.
    pub body: Value,
    /// Whether the signature was right for the secret and the timestamp recent.
    pub signed: bool,
    /// The status it answered.
    pub answered: u16,
    /// When it arrived.
    pub at: Instant,
}

/// How the receiver answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// Answer 503 to the first this many tries of each event id.
    pub fail_first: u32,
    /// Answer 500 to every call.
    pub always_fail: bool,
    /// Wait this long before answering.
    pub delay: Duration,
}

#[derive(Default)]
struct State {
    behaviour: Behaviour,
    secret: String,
    calls: Vec<Call>,
    tries: HashMap<i64, u32>,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    /// Starts a receiver that answers as `behaviour` says.
    pub async fn start(behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let port = listener.local_addr().expect("address").port();
        let state = Arc::new(Mutex::new(State { behaviour, ..State::default() }));
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((connection, _)) = listener.accept().await {
                tokio::spawn(serve(connection, Arc::clone(&serving)));
            }
        });
        Self { url: format!("http://127.0.0.1:{port}/hook"), state }
    }

    /// The secret signatures are checked with (the endpoint's, once it is registered).
    pub fn set_secret(&self, secret: &str) {
        self.state.lock().expect("state").secret = secret.to_string();
    }

    /// Answers as `behaviour` says from now on.
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.state.lock().expect("state").behaviour = behaviour;
    }

    /// Every call so far, in order of arrival.
    pub fn calls(&self) -> Vec<Call> {
        self.state.lock().expect("state").calls.clone()
    }

    /// How many calls of each event id it took (answered 2xx).
    pub fn taken(&self) -> HashMap<i64, u32> {
        let mut taken = HashMap::new();
        for call in self.calls().iter().filter(|call| (200..300).contains(&call.answered)) {
            *taken.entry(call.id).or_insert(0) += 1;
        }
        taken
    }

    /// Waits (at most `within`) until `done` holds for the calls; false when it never did.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[Call]) -> bool) -> bool {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if done(&self.calls()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        done(&self.calls())
    }
}

/// Whether `signature` is the HMAC-SHA256 of `timestamp.body` with `secret` (as docs/webhooks.md
/// tells receivers to check it).
pub fn signature_is_valid(secret: &str, timestamp: &str, body: &[u8], signature: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    let recent = timestamp.parse::<i64>().is_ok_and(|at| {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        (at - i64::try_from(now).expect("secs")).abs() <= 300
    });
    recent && signature == format!("v1={expected}")
}

/// Reads one request, answers it, closes the connection.
async fn serve(mut connection: TcpStream, state: Arc<Mutex<State>>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let Ok(read) = connection.read(&mut chunk).await else { return };
        if read == 0 {
            return;
        }
        bytes.extend_from_slice(&chunk[..read]);
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (end + 4, length);
        }
    };
    while bytes.len() < head_end + length {
        let Ok(read) = connection.read(&mut chunk).await else { return };
        if read == 0 {
            return;
        }
        bytes.extend_from_slice(&chunk[..read]);
    }
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_string();
    let header = |name: &str| {
        head.lines()
            .find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
            })
            .unwrap_or_default()
    };
    let body = &bytes[head_end..head_end + length];
    let id = header("webhook-id").parse::<i64>().unwrap_or(-1);
    let (answered, delay) = {
        let mut state = state.lock().expect("state");
        let signed = signature_is_valid(
            &state.secret,
            &header("webhook-timestamp"),
            body,
            &header("webhook-signature"),
        );
        let tries = {
            let tries = state.tries.entry(id).or_insert(0);
            *tries += 1;
            *tries
        };
        let answered = if state.behaviour.always_fail {
            500
        } else if tries <= state.behaviour.fail_first {
            503
        } else if !signed {
            401
        } else {
            200
        };
        let body = serde_json::from_slice(body).unwrap_or(Value::Null);
        let delay = state.behaviour.delay;
        // Counted when it arrives: a sender killed while it waits for the answer has delivered.
        state.calls.push(Call { id, body, signed, answered, at: Instant::now() });
        (answered, delay)
    };
    tokio::time::sleep(delay).await;
    let answer = format!("HTTP/1.1 {answered} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    let _ = connection.write_all(answer.as_bytes()).await;
    let _ = connection.shutdown().await;
}
