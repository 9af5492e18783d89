//! `ssl.enabled.protocols` and `ssl.cipher.suites`: Kafka (Java) names to rustls.
//!
//! Java names cipher suites by their IANA names (`TLS_AES_128_GCM_SHA256`,
//! `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`), which are rustls's names too, so the map is the
//! provider's own list. A name rustls does not implement (CBC suites, RSA key exchange, TLS 1.0)
//! is refused with the list of those it does.

use rustls::SupportedCipherSuite;
use rustls::version::{TLS12, TLS13};

use crate::TlsConfigError;

/// The protocol names `ssl.enabled.protocols` accepts (Kafka's default is both).
pub const SUPPORTED_PROTOCOLS: [&str; 2] = ["TLSv1.2", "TLSv1.3"];

/// Every cipher suite of the provider, by IANA name (rustls spells the TLS 1.3 ones `TLS13_…`;
/// IANA and Java spell them `TLS_…`).
pub fn supported_cipher_suites() -> Vec<(String, SupportedCipherSuite)> {
    rustls::crypto::ring::ALL_CIPHER_SUITES
        .iter()
        .filter_map(|suite| {
            let name = suite.suite().as_str()?;
            let iana = match name.strip_prefix("TLS13_") {
                Some(rest) => format!("TLS_{rest}"),
                None => name.to_owned(),
            };
            Some((iana, *suite))
        })
        .collect()
}

/// `ssl.enabled.protocols` as rustls versions; an empty list means Kafka's default (both).
pub(crate) fn protocol_versions(
    names: &[String],
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsConfigError> {
    if names.is_empty() {
        return Ok(vec![&TLS13, &TLS12]);
    }
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    for name in names {
        let version = match name.as_str() {
            "TLSv1.3" => &TLS13,
            "TLSv1.2" => &TLS12,
            other => {
                return Err(TlsConfigError::invalid(
                    "ssl.enabled.protocols",
                    format!(
                        "unsupported protocol {other:?} (supported: {})",
                        SUPPORTED_PROTOCOLS.join(", ")
                    ),
                ));
            }
        };
        if !versions.iter().any(|v| v.version == version.version) {
            versions.push(version);
        }
    }
    Ok(versions)
}

/// `ssl.cipher.suites` as the provider's suites; an empty list means all of them (Kafka's
/// default: the JVM's defaults). Every enabled protocol must keep at least one suite.
pub(crate) fn cipher_suites(
    names: &[String],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<Vec<SupportedCipherSuite>, TlsConfigError> {
    let known = supported_cipher_suites();
    let chosen: Vec<SupportedCipherSuite> = if names.is_empty() {
        known.iter().map(|(_, suite)| *suite).collect()
    } else {
        let mut chosen = Vec::new();
        for name in names {
            let Some((_, suite)) = known.iter().find(|(known, _)| known == name) else {
                let list: Vec<&str> = known.iter().map(|(name, _)| name.as_str()).collect();
                return Err(TlsConfigError::invalid(
                    "ssl.cipher.suites",
                    format!(
                        "unknown or unsupported cipher suite {name:?} (supported: {})",
                        list.join(", ")
                    ),
                ));
            };
            chosen.push(*suite);
        }
        chosen
    };
    for version in versions {
        if !chosen.iter().any(|suite| suite.version() == *version) {
            return Err(TlsConfigError::invalid(
                "ssl.cipher.suites",
                format!(
                    "no listed suite is usable with {:?}, which ssl.enabled.protocols enables",
                    version.version
                ),
            ));
        }
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn kafka_names_map_to_rustls_suites() {
        let versions = protocol_versions(&names(&["TLSv1.2", "TLSv1.3"])).unwrap();
        let suites = cipher_suites(
            &names(&[
                "TLS_AES_256_GCM_SHA384",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            ]),
            &versions,
        )
        .unwrap();
        let got: Vec<_> = suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            got,
            [
                rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
                rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
            ]
        );
    }

    #[test]
    fn unknown_suite_is_a_clear_error() {
        let versions = protocol_versions(&[]).unwrap();
        let err = cipher_suites(&names(&["TLS_RSA_WITH_AES_128_CBC_SHA"]), &versions).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ssl.cipher.suites: unknown or unsupported cipher suite \"TLS_RSA_WITH_AES_128_CBC_SHA\""), "{text}");
        assert!(text.contains("TLS_AES_128_GCM_SHA256"), "{text}");
    }

    #[test]
    fn each_enabled_protocol_needs_a_suite() {
        let versions = protocol_versions(&[]).unwrap();
        let err = cipher_suites(&names(&["TLS_AES_128_GCM_SHA256"]), &versions).unwrap_err();
        assert!(err.to_string().contains("TLSv1_2"), "{err}");
        let only13 = protocol_versions(&names(&["TLSv1.3"])).unwrap();
        assert!(cipher_suites(&names(&["TLS_AES_128_GCM_SHA256"]), &only13).is_ok());
    }

    #[test]
    fn old_protocols_are_refused() {
        let err = protocol_versions(&names(&["TLSv1.1"])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "ssl.enabled.protocols: unsupported protocol \"TLSv1.1\" (supported: TLSv1.2, TLSv1.3)"
        );
    }
}
