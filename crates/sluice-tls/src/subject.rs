//! A certificate subject as RFC 2253 text, the form Java's `X500Principal.getName()` gives and
//! Kafka's `ssl.principal.mapping.rules` match against: RDNs last-first, joined by `,`,
//! multi-valued RDNs by `+`; keywords only for RFC 2253's own (CN, L, ST, O, OU, C, STREET, DC,
//! UID), any other attribute as `<dotted OID>=#<hex of its DER value>`; special characters
//! escaped with a backslash.

use x509_parser::der_parser::asn1_rs::ToDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsConfigError;

const KEYWORDS: [(&str, &str); 9] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.6", "C"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
];

/// The RFC 2253 subject of a DER certificate.
pub fn subject_rfc2253(cert_der: &[u8]) -> Result<String, TlsConfigError> {
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|e| {
        TlsConfigError::invalid("ssl.truststore", format!("unparsable certificate: {e}"))
    })?;
    let rdns: Vec<String> = cert
        .subject()
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type().to_id_string();
                    match (KEYWORDS.iter().find(|(id, _)| *id == oid), atv.as_str()) {
                        (Some((_, keyword)), Ok(value)) => format!("{keyword}={}", escape(value)),
                        _ => {
                            let der = atv.attr_value().to_der_vec().unwrap_or_default();
                            let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
                            format!("{oid}=#{hex}")
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    Ok(rdns.into_iter().rev().collect::<Vec<_>>().join(","))
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_as_rfc_2253() {
        assert_eq!(escape("a,b+c"), r"a\,b\+c");
        assert_eq!(escape("#lead"), r"\#lead");
        assert_eq!(escape(" both "), r"\ both\ ");
        assert_eq!(escape(r#"q"<>;\"#), r#"q\"\<\>\;\\"#);
    }
}
