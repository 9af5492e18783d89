//! Server configs from Kafka's ssl.* settings, each proven by a handshake with a rustls client
//! in memory: PEM inline and from a file, encrypted PEM keys, PKCS12 from OpenSSL 3 and from
//! keytool, trust stores and client auth, protocols and suites, the client subject in RFC 2253.

mod support;

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, ServerConnection};
use sluice_tls::{ClientAuth, TlsSettings, server_config, subject_rfc2253};
use support::{PASSWORD, Pki};

fn pem_settings(pki: &Pki) -> TlsSettings {
    TlsSettings {
        keystore_type: Some("PEM".into()),
        keystore_certificate_chain: Some(pki.read("server.pem")),
        keystore_key: Some(pki.read("server.key")),
        ..TlsSettings::default()
    }
}

fn client_config(
    trusted: &[CertificateDer<'static>],
    client_cert: Option<(&Pki, &str, &str)>,
) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in trusted {
        roots.add(cert.clone()).unwrap();
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(sluice_tls::ring_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client_cert {
        None => builder.with_no_client_auth(),
        Some((pki, cert, key)) => {
            let chain = CertificateDer::pem_file_iter(pki.path(cert))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_file(pki.path(key)).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    Arc::new(config)
}

fn ca(pki: &Pki) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(pki.path("ca.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Runs a handshake in memory; returns the server side, or the first error either side hit.
fn handshake(
    server: Arc<rustls::ServerConfig>,
    client: Arc<ClientConfig>,
) -> Result<ServerConnection, rustls::Error> {
    let mut server = ServerConnection::new(server)?;
    let mut client = ClientConnection::new(client, ServerName::try_from("localhost").unwrap())?;
    for _ in 0..20 {
        let mut buf = Vec::new();
        while client.wants_write() {
            client.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            server.read_tls(&mut buf.as_slice()).unwrap();
            server.process_new_packets()?;
        }
        let mut buf = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut buf).unwrap();
        }
        if !buf.is_empty() {
            client.read_tls(&mut buf.as_slice()).unwrap();
            client.process_new_packets()?;
        }
        if !server.is_handshaking() && !client.is_handshaking() {
            return Ok(server);
        }
    }
    panic!("handshake did not finish");
}

#[test]
fn pem_inline_and_from_a_file() {
    let pki = Pki::new();
    handshake(
        server_config(&pem_settings(&pki)).unwrap(),
        client_config(&ca(&pki), None),
    )
    .unwrap();
    let combined = format!(
        "{}{}{}",
        pki.read("server.key"),
        pki.read("server.pem"),
        pki.read("ca.pem")
    );
    std::fs::write(pki.path("combined.pem"), combined).unwrap();
    let settings = TlsSettings {
        keystore_type: Some("PEM".into()),
        keystore_location: Some(pki.path_str("combined.pem")),
        ..TlsSettings::default()
    };
    handshake(
        server_config(&settings).unwrap(),
        client_config(&ca(&pki), None),
    )
    .unwrap();
}

#[test]
fn encrypted_pem_key_needs_its_password() {
    let pki = Pki::new();
    let mut settings = pem_settings(&pki);
    settings.keystore_key = Some(std::fs::read_to_string(pki.encrypted_server_key()).unwrap());
    let err = server_config(&settings).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ssl.key.password: the PEM private key is encrypted"),
        "{err}"
    );
    settings.key_password = Some("wrong".into());
    assert!(
        server_config(&settings)
            .unwrap_err()
            .to_string()
            .starts_with("ssl.key.password: cannot decrypt")
    );
    settings.key_password = Some(PASSWORD.into());
    handshake(
        server_config(&settings).unwrap(),
        client_config(&ca(&pki), None),
    )
    .unwrap();
}

#[test]
fn pkcs12_written_by_openssl_3_defaults() {
    let pki = Pki::new();
    let path = pki.openssl_pkcs12();
    // OpenSSL 3 writes PBES2 with AES-256-CBC unless -legacy is given; check we test that.
    let info = std::process::Command::new("openssl")
        .args([
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            path.to_str().unwrap(),
            "-passin",
            &format!("pass:{PASSWORD}"),
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&info.stderr).to_string() + &String::from_utf8_lossy(&info.stdout);
    assert!(
        text.contains("PBES2") && text.contains("AES-256-CBC"),
        "{text}"
    );
    let settings = TlsSettings {
        keystore_type: Some("PKCS12".into()),
        keystore_location: Some(path.to_str().unwrap().into()),
        keystore_password: Some(PASSWORD.into()),
        key_password: Some(PASSWORD.into()),
        ..TlsSettings::default()
    };
    handshake(
        server_config(&settings).unwrap(),
        client_config(&ca(&pki), None),
    )
    .unwrap();
    let wrong = TlsSettings {
        keystore_password: Some("nope".into()),
        key_password: None,
        ..settings
    };
    assert!(
        server_config(&wrong)
            .unwrap_err()
            .to_string()
            .starts_with("ssl.keystore.password: cannot open the PKCS12 store")
    );
}

#[test]
fn pkcs12_written_by_keytool_also_under_kafkas_default_type() {
    let pki = Pki::new();
    let path = pki.keytool_pkcs12();
    // The keytool key is self-signed: the client trusts that certificate itself.
    let exported = pki.path("keytool-cert.pem");
    let out = std::process::Command::new("keytool")
        .args([
            "-exportcert",
            "-rfc",
            "-alias",
            "broker",
            "-keystore",
            path.to_str().unwrap(),
            "-storepass",
            PASSWORD,
            "-file",
            exported.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let trusted: Vec<_> = CertificateDer::pem_file_iter(&exported)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for store_type in [Some("PKCS12"), None] {
        let settings = TlsSettings {
            keystore_type: store_type.map(Into::into),
            keystore_location: Some(path.to_str().unwrap().into()),
            keystore_password: Some(PASSWORD.into()),
            key_password: Some(PASSWORD.into()),
            ..TlsSettings::default()
        };
        handshake(
            server_config(&settings).unwrap(),
            client_config(&trusted, None),
        )
        .unwrap();
    }
}

#[test]
fn jks_files_are_refused_with_the_conversion_command() {
    let pki = Pki::new();
    let path = pki.path("store.jks");
    let out = std::process::Command::new("keytool")
        .args([
            "-genkeypair",
            "-alias",
            "b",
            "-keyalg",
            "RSA",
            "-dname",
            "CN=x",
            "-storetype",
            "JKS",
            "-keystore",
            path.to_str().unwrap(),
            "-storepass",
            PASSWORD,
            "-keypass",
            PASSWORD,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let settings = TlsSettings {
        keystore_location: Some(path.to_str().unwrap().into()),
        keystore_password: Some(PASSWORD.into()),
        ..TlsSettings::default()
    };
    let err = server_config(&settings).unwrap_err().to_string();
    assert!(
        err.contains("is a JKS key store") && err.contains("keytool -importkeystore"),
        "{err}"
    );
}

#[test]
fn client_auth_required_requested_and_the_subject() {
    let pki = Pki::new();
    let mut settings = pem_settings(&pki);
    settings.client_auth = ClientAuth::Required;
    assert!(
        server_config(&settings)
            .unwrap_err()
            .to_string()
            .starts_with("ssl.client.auth: requested/required client auth needs a trust store")
    );
    settings.truststore_type = Some("PKCS12".into());
    settings.truststore_location = Some(pki.keytool_truststore().to_str().unwrap().into());
    settings.truststore_password = Some(PASSWORD.into());
    let required = server_config(&settings).unwrap();
    assert!(
        handshake(required.clone(), client_config(&ca(&pki), None)).is_err(),
        "no client certificate: refused"
    );
    let server = handshake(
        required,
        client_config(&ca(&pki), Some((&pki, "client.pem", "client.key"))),
    )
    .unwrap();
    let peer = &server.peer_certificates().unwrap()[0];
    assert_eq!(
        subject_rfc2253(peer).unwrap(),
        r"CN=alice,OU=eng,O=Acme\, Inc.,C=GB"
    );

    let requested = TlsSettings {
        client_auth: ClientAuth::Requested,
        truststore_type: Some("PEM".into()),
        truststore_location: None,
        truststore_certificates: Some(pki.read("ca.pem")),
        truststore_password: None,
        ..settings
    };
    let config = server_config(&requested).unwrap();
    let anonymous = handshake(config.clone(), client_config(&ca(&pki), None)).unwrap();
    assert!(anonymous.peer_certificates().is_none());
    let with_cert = handshake(
        config,
        client_config(&ca(&pki), Some((&pki, "client.pem", "client.key"))),
    )
    .unwrap();
    assert!(with_cert.peer_certificates().is_some());
}

#[test]
fn protocols_and_suites_limit_the_handshake() {
    let pki = Pki::new();
    let mut settings = pem_settings(&pki);
    settings.enabled_protocols = vec!["TLSv1.2".into()];
    settings.cipher_suites = vec!["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384".into()];
    let server = handshake(
        server_config(&settings).unwrap(),
        client_config(&ca(&pki), None),
    )
    .unwrap();
    assert_eq!(
        server.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(
        server.negotiated_cipher_suite().unwrap().suite(),
        rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    );
}

#[test]
fn key_export_matches_between_the_two_ends() {
    // The kTLS key export: the server's TX crypto_info must carry what the client decrypts with
    // (its RX secrets), and the other way round, for TLS 1.3 and 1.2.
    let pki = Pki::new();
    for protocol in ["TLSv1.3", "TLSv1.2"] {
        let mut settings = pem_settings(&pki);
        settings.enabled_protocols = vec![protocol.into()];
        let mut client = (*client_config(&ca(&pki), None)).clone();
        client.enable_secret_extraction = true;
        let server =
            handshake(server_config(&settings).unwrap(), Arc::new(client.clone())).unwrap();
        let version = server.protocol_version().unwrap();
        let suite = server.negotiated_cipher_suite().unwrap().suite();
        assert_eq!(
            sluice_tls::ktls::decide(&sluice_tls::ktls::KtlsSupport::Available, true, suite),
            sluice_tls::ktls::KtlsDecision::Kernel
        );
        let server_secrets = server.dangerous_extract_secrets().unwrap();
        let tx = sluice_tls::ktls::crypto_info(version, server_secrets.tx.0, &server_secrets.tx.1)
            .unwrap();
        let rx = sluice_tls::ktls::crypto_info(version, server_secrets.rx.0, &server_secrets.rx.1)
            .unwrap();
        assert_ne!(tx, rx, "{protocol}: each direction has its own keys");
        assert!(tx.len() == 40 || tx.len() == 56);
    }
}
