/// Where a chat is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    /// Visitor and agent are talking.
    Open,
    /// Ended; the reason is stored with it.
    Closed,
}

impl ChatStatus {
    /// The spelling used in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Open => "open",
            ChatStatus::Closed => "closed",
        }
    }

    /// Reads the store's spelling; anything but `open` counts as ended.
    pub fn from_store(text: &str) -> Self {
        if text == "open" {
            ChatStatus::Open
        } else {
            ChatStatus::Closed
        }
    }
}
