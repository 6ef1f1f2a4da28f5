//! Where a webhook call may go: unless `webhooks.allow_private_targets`, only to public
//! addresses (`domain::is_public_address`). Checked when an endpoint is registered ([`check`])
//! and at every call, by the HTTP client's resolver ([`PublicResolver`]) — the addresses a call
//! connects to are the ones checked, so a name that resolves elsewhere later (DNS rebinding) is
//! refused too — and for a URL that names an address, by the courier before it connects.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::{is_public_address, WebhookUrl};

/// Why a call was not made: its host is, or resolves only to, non-public addresses.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct PrivateTarget(pub String);

/// Resolves `url`'s host and refuses it unless every address it resolves to is public.
pub async fn check(url: &WebhookUrl) -> Result<(), String> {
    if let Some(ip) = url.ip_host() {
        return match is_public_address(ip) {
            true => Ok(()),
            false => Err(format!("must not point at a private, loopback or link-local address ({ip})")),
        };
    }
    let (host, port) = url.host_and_port();
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| format!("names a host that does not resolve ({host}: {e})"))?
        .collect();
    match addresses.iter().find(|address| !is_public_address(address.ip())) {
        Some(private) => Err(format!(
            "must not point at a private, loopback or link-local address ({host} is {})",
            private.ip()
        )),
        None if addresses.is_empty() => Err(format!("names a host that does not resolve ({host})")),
        None => Ok(()),
    }
}

/// The HTTP client's resolver when private targets are not allowed: the system's answer
/// without its non-public addresses, and an error ([`PrivateTarget`]) when none is left.
#[derive(Debug, Clone, Default)]
pub struct PublicResolver;

impl PublicResolver {
    /// The resolver, shared as the client wants it.
    pub fn shared() -> Arc<Self> {
        Arc::new(Self)
    }
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> =
                resolved.iter().copied().filter(|address| is_public_address(address.ip())).collect();
            if public.is_empty() {
                let found: Vec<String> = resolved.iter().map(|address| address.ip().to_string()).collect();
                let error = PrivateTarget(format!(
                    "{host} resolves only to private, loopback or link-local addresses ({})",
                    found.join(", ")
                ));
                return Err(Box::new(error) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}
