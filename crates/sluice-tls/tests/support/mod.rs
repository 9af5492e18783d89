//! Test certificates, made at test time with the openssl and keytool binaries (never committed):
//! a CA, a server certificate for localhost/127.0.0.1 and a client certificate, all signed by
//! the CA, as PEM files, plus PKCS12 files written by OpenSSL 3's defaults and by keytool.

#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Pki {
    pub dir: tempfile::TempDir,
}

pub const PASSWORD: &str = "s3cret-pass";

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ssl = |args: &[&str]| run(Command::new("openssl").args(args).current_dir(d));
        ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=Sluice Test CA",
        ]);
        std::fs::write(
            d.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        ssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost/O=Sluice",
        ]);
        ssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        ssl(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "client.key",
            "-out",
            "client.csr",
            "-subj",
            "/C=GB/O=Acme, Inc./OU=eng/CN=alice",
        ]);
        std::fs::write(d.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
        ssl(&[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "client.pem",
            "-days",
            "2",
            "-extfile",
            "client.ext",
        ]);
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn path_str(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    /// server key + chain as a PKCS12 file with OpenSSL 3's defaults (PBES2, PBKDF2, AES-256-CBC).
    pub fn openssl_pkcs12(&self) -> PathBuf {
        run(Command::new("openssl").current_dir(self.dir.path()).args([
            "pkcs12",
            "-export",
            "-in",
            "server.pem",
            "-inkey",
            "server.key",
            "-certfile",
            "ca.pem",
            "-name",
            "server",
            "-out",
            "openssl.p12",
            "-passout",
            &format!("pass:{PASSWORD}"),
        ]));
        self.path("openssl.p12")
    }

    /// A key pair made and stored by Java's keytool (its own PKCS12 writer).
    pub fn keytool_pkcs12(&self) -> PathBuf {
        run(Command::new("keytool").current_dir(self.dir.path()).args([
            "-genkeypair",
            "-alias",
            "broker",
            "-keyalg",
            "RSA",
            "-keysize",
            "2048",
            "-dname",
            "CN=localhost",
            "-ext",
            "SAN=dns:localhost,ip:127.0.0.1",
            "-validity",
            "2",
            "-storetype",
            "PKCS12",
            "-keystore",
            "keytool.p12",
            "-storepass",
            PASSWORD,
            "-keypass",
            PASSWORD,
        ]));
        self.path("keytool.p12")
    }

    /// The CA as a keytool trust store (a trusted certificate entry).
    pub fn keytool_truststore(&self) -> PathBuf {
        run(Command::new("keytool").current_dir(self.dir.path()).args([
            "-importcert",
            "-noprompt",
            "-alias",
            "ca",
            "-file",
            "ca.pem",
            "-storetype",
            "PKCS12",
            "-keystore",
            "truststore.p12",
            "-storepass",
            PASSWORD,
        ]));
        self.path("truststore.p12")
    }

    /// The server key as encrypted PKCS#8 PEM (PBES2 AES-256).
    pub fn encrypted_server_key(&self) -> PathBuf {
        run(Command::new("openssl").current_dir(self.dir.path()).args([
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            "server.key",
            "-out",
            "server-enc.key",
            "-passout",
            &format!("pass:{PASSWORD}"),
        ]));
        self.path("server-enc.key")
    }

    pub fn dir_path(&self) -> &Path {
        self.dir.path()
    }
}
