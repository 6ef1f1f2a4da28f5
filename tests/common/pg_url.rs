//! PostgreSQL URLs for test processes; included by every test binary that connects.

/// `url` with TLS and GSSAPI encryption off unless it sets them. libpq tears OpenSSL and
/// Kerberos down at process exit; a pool thread of a server still winding down that is
/// connecting at that moment crashed the test binary after every test had passed ("double free
/// or corruption", reproduced in C: 19 of 100 exits with four threads connecting, 0 of 100 with
/// both off). The test servers are local, so nothing is lost by not encrypting.
pub fn without_tls(url: &str) -> String {
    let mut url = url.to_string();
    for (key, value) in [("sslmode", "disable"), ("gssencmode", "disable")] {
        if !url.contains(&format!("{key}=")) {
            let separator = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{separator}{key}={value}");
        }
    }
    url
}
