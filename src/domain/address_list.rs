//! Lists of client addresses and networks, as the settings give them (`server.trusted_proxies`,
//! `metrics.allowed_from`, `limits.exempt`): parsed once, when the settings are read.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`). In the settings it is
/// written as a list of strings and read back as the same list; an entry that is neither an
/// address nor a network fails to deserialize, naming the entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    /// The entries as given, which is what the settings write back.
    entries: Vec<String>,
    /// The same entries, parsed; a single address is a network of one.
    networks: Vec<IpNet>,
}

impl AddressList {
    /// Parses addresses and networks (surrounding spaces allowed); the error is the entry that
    /// is neither.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, String> {
        let networks = entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| entry.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { entries: entries.iter().map(|entry| entry.as_ref().to_string()).collect(), networks })
    }

    /// Whether `address` is one of the list or inside one of its networks (`::ffff:1.2.3.4`
    /// counts as `1.2.3.4`).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = canonical_ip(address);
        self.networks.iter().any(|net| net.contains(&address))
    }

    /// The entries as given.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }

    /// True when the list has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Single addresses, written as their usual text (`127.0.0.1`, `::1`).
impl FromIterator<IpAddr> for AddressList {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(addresses: I) -> Self {
        let (entries, networks) =
            addresses.into_iter().map(|address| (address.to_string(), IpNet::from(address))).unzip();
        Self { entries, networks }
    }
}

/// `::ffff:1.2.3.4` is `1.2.3.4`, so one client is one key whichever way it connected.
pub fn canonical_ip(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// What the error of a bad entry says, after the name of the setting.
fn not_an_address(entry: &str) -> String {
    format!("{entry:?} is neither an IP address nor a CIDR network")
}

impl Serialize for AddressList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AddressList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Vec::<String>::deserialize(deserializer)?;
        Self::parse(&entries).map_err(|bad| serde::de::Error::custom(not_an_address(&bad)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn addresses_and_networks_contain_what_they_name() {
        let list = AddressList::parse(&["10.0.0.0/8", " 192.0.2.1 ", "::1", "fd00::/8"]).expect("valid");
        for inside in ["10.1.2.3", "192.0.2.1", "::ffff:10.0.0.1", "::1", "fd00::5"] {
            assert!(list.contains(ip(inside)), "{inside}");
        }
        for outside in ["11.0.0.1", "192.0.2.2", "::2", "fe00::1"] {
            assert!(!list.contains(ip(outside)), "{outside}");
        }
        assert!(!AddressList::default().contains(ip("10.0.0.1")));
    }

    #[test]
    fn single_addresses_read_as_their_text_would() {
        let list: AddressList = [ip("127.0.0.1"), ip("::1")].into_iter().collect();
        assert_eq!(list, AddressList::parse(&["127.0.0.1", "::1"]).expect("valid"));
    }

    #[test]
    fn an_entry_that_is_no_address_is_refused() {
        assert_eq!(AddressList::parse(&["10.0.0.1", "nginx"]).expect_err("bad"), "nginx");
        assert_eq!(AddressList::parse(&["10.0.0.0/33"]).expect_err("bad"), "10.0.0.0/33");
    }

    #[test]
    fn it_reads_and_writes_the_list_as_given_and_names_a_bad_entry() {
        let list: AddressList = serde_json::from_str(r#"["10.0.0.0/8", "::1"]"#).expect("valid");
        assert_eq!(list.entries(), ["10.0.0.0/8", "::1"]);
        assert_eq!(serde_json::to_string(&list).expect("serialises"), r#"["10.0.0.0/8","::1"]"#);
        let error = serde_json::from_str::<AddressList>(r#"["10.0.0.1", "localhost"]"#).expect_err("bad");
        assert!(error.to_string().contains(r#""localhost" is neither an IP address"#), "{error}");
    }
}
