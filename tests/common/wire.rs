//! A small client for the wire protocol of docs/api.md, one server at a time; included by every
//! test binary that speaks to a server over HTTP (each uses a part of it).

use serde_json::{json, Value};

/// A visitor or agent and its token.
#[derive(Debug, Clone)]
pub struct Participant {
    /// Visitor or agent id.
    pub id: String,
    /// Bearer token.
    pub token: String,
}

/// One `/poll` answer.
#[derive(Debug, Clone)]
pub struct PollAnswer {
    /// `ok`, `timeout`, `superseded` or `shutdown`.
    pub status: String,
    /// The cursor to echo.
    pub cursor: String,
    /// The events.
    pub events: Vec<Value>,
}

/// One server's address and an HTTP client for it.
#[derive(Debug, Clone)]
pub struct WireClient {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// HTTP client.
    pub client: reqwest::Client,
}

impl WireClient {
    /// `http://127.0.0.1:PORT{path}`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A new anonymous visitor.
    pub async fn visitor(&self) -> Participant {
        let response = self.client.post(self.url("/api/visitors")).send().await.expect("request");
        assert_eq!(response.status(), 201, "visitor through {}", self.address);
        let body: Value = response.json().await.expect("json");
        Participant { id: text(&body["visitor_id"]), token: text(&body["token"]) }
    }

    /// `POST /api/agent/login`; the participant, or the status when refused.
    pub async fn login(&self, employee_id: &str, password: &str) -> Result<Participant, u16> {
        let login = json!({"employee_id": employee_id, "password": password});
        let (status, body) = self.post_json(None, "/api/agent/login", login).await;
        if status != 200 {
            return Err(status);
        }
        Ok(Participant { id: text(&body["agent_id"]), token: text(&body["token"]) })
    }

    /// `GET /poll` with `cursor` and `timeout` (seconds); the raw response.
    pub async fn poll_raw(
        &self,
        who: &Participant,
        cursor: &str,
        timeout: Option<u64>,
        tab: Option<&str>,
    ) -> reqwest::Response {
        let mut query = vec![("cursor", cursor.to_string())];
        if let Some(timeout) = timeout {
            query.push(("timeout", timeout.to_string()));
        }
        if let Some(tab) = tab {
            query.push(("tab", tab.to_string()));
        }
        self.client
            .get(self.url("/poll"))
            .bearer_auth(&who.token)
            .query(&query)
            .send()
            .await
            .expect("request")
    }

    /// `GET /poll` that must answer 200.
    pub async fn poll(&self, who: &Participant, cursor: &str, timeout: Option<u64>) -> PollAnswer {
        self.poll_tab(who, cursor, timeout, None).await
    }

    /// `GET /poll` from a named tab that must answer 200.
    pub async fn poll_tab(
        &self,
        who: &Participant,
        cursor: &str,
        timeout: Option<u64>,
        tab: Option<&str>,
    ) -> PollAnswer {
        let response = self.poll_raw(who, cursor, timeout, tab).await;
        assert_eq!(response.status(), 200, "poll through {}", self.address);
        let body: Value = response.json().await.expect("json");
        PollAnswer {
            status: text(&body["status"]),
            cursor: text(&body["cursor"]),
            events: body["events"].as_array().cloned().expect("events array"),
        }
    }

    /// `POST /send` as JSON; the raw response.
    pub async fn send_raw(
        &self,
        who: &Participant,
        chat_id: &str,
        client_msg_id: &str,
        body: &str,
    ) -> reqwest::Response {
        self.client
            .post(self.url("/send"))
            .bearer_auth(&who.token)
            .json(&json!({"chat_id": chat_id, "client_msg_id": client_msg_id, "body": body}))
            .send()
            .await
            .expect("request")
    }

    /// `POST /send` that must answer 200; returns the seq.
    pub async fn send(&self, who: &Participant, chat_id: &str, client_msg_id: &str, body: &str) -> i64 {
        let response = self.send_raw(who, chat_id, client_msg_id, body).await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "send through {}: {answer}", self.address);
        answer["seq"].as_i64().expect("seq")
    }

    /// `GET path` with an optional token; the status and the JSON body (`Null` when none).
    pub async fn get_json(&self, who: Option<&Participant>, path: &str) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(who) = who {
            request = request.bearer_auth(&who.token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `POST path` with a JSON body and an optional token; the status and the JSON body.
    pub async fn post_json(&self, who: Option<&Participant>, path: &str, body: Value) -> (u16, Value) {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(who) = who {
            request = request.bearer_auth(&who.token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// A JSON string value as a `String` (panics in the test if it is not one).
pub fn text(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("expected a string, got {value}")).to_string()
}
