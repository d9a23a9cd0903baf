//! The emulator's own certificate authority (`endpoints.md` §3), on disk in `--ca-dir` as
//! `ca.pem` and `ca-key.pem`: created once when both are absent, reused on every later
//! start, never overwritten. It signs the leaves of the proxy's tunnels and of
//! `--tls-listen`.
//!
//! The extensions are the ones strict verifiers require (Python 3.13 sets
//! `VERIFY_X509_STRICT` by default): the CA has a critical `basicConstraints` CA:true,
//! `keyUsage` keyCertSign and cRLSign, and a subject key identifier; a leaf has its names as
//! SANs, `extendedKeyUsage` serverAuth and an authority key identifier. Keys are ECDSA P-256
//! (rcgen's default: fast to make per host, accepted by every client tested).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// The CA certificate's file in `--ca-dir`.
pub const CERT_FILE: &str = "ca.pem";
/// The CA key's file in `--ca-dir`, readable by its owner only.
pub const KEY_FILE: &str = "ca-key.pem";
/// The CA's common name.
pub const NAME: &str = "ecs-emulator local CA";
/// How long the CA is valid: 10 years.
const CA_DAYS: i64 = 3650;
/// How long a leaf is valid: a year.
const LEAF_DAYS: i64 = 365;

/// A loaded CA: its certificate, and the issuer that signs leaves with its key.
pub struct Authority {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    cert_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// A leaf certificate and its key, in DER.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
}

/// The folder the CA lives in when `--ca-dir` is not given: the platform's data folder
/// (`~/.local/share/ecs-emulator` on Linux), else `./ecs-emulator-ca`.
pub fn default_dir() -> PathBuf {
    dirs::data_dir().map_or_else(
        || PathBuf::from("ecs-emulator-ca"),
        |dir| dir.join("ecs-emulator"),
    )
}

impl Authority {
    /// The CA in `dir`: loaded when both files are there, created when neither is. A missing
    /// half, an unreadable or corrupt file, or a key that is not the certificate's is an
    /// error that names the file; nothing is ever overwritten.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let cert_path = dir.join(CERT_FILE);
        let key_path = dir.join(KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&cert_path, &key_path),
            (false, false) => match Self::create(dir, &cert_path, &key_path) {
                Ok(()) => Self::load(&cert_path, &key_path),
                // Another process (`env --proxy` beside a starting server) made it first.
                Err(error) => match made_meanwhile(&cert_path, &key_path) {
                    true => Self::load(&cert_path, &key_path),
                    false => Err(error),
                },
            },
            // Half a CA: another process may be writing it (key first, then certificate).
            _ if made_meanwhile(&cert_path, &key_path) => Self::load(&cert_path, &key_path),
            (true, false) => Err(refusal(&key_path, "is missing (ca.pem is there)")),
            (false, true) => Err(refusal(&cert_path, "is missing (ca-key.pem is there)")),
        }
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, String> {
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| refusal(path, &format!("cannot be read: {e}")))
        };
        let cert_pem = read(cert_path)?;
        let key_pem = read(key_path)?;
        warn_if_readable_by_others(key_path);
        let key = KeyPair::from_pem(&key_pem)
            .map_err(|e| refusal(key_path, &format!("is not a PEM private key ({e})")))?;
        let cert_der = rustls::pki_types::pem::PemObject::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| refusal(cert_path, &format!("is not a PEM certificate ({e})")))?;
        // The key must be the certificate's: rustls compares the public key infos.
        let pkcs8 = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = rustls::crypto::ring::default_provider();
        let certified = rustls::sign::CertifiedKey::from_der(vec![cert_der], pkcs8, &provider)
            .map_err(|e| {
                refusal(
                    cert_path,
                    &format!("and {} do not belong together ({e})", key_path.display()),
                )
            })?;
        let cert_der = certified.cert[0].clone();
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| refusal(cert_path, &format!("is not a usable CA certificate ({e})")))?;
        if !issuer.key_usages().contains(&KeyUsagePurpose::KeyCertSign) {
            return Err(refusal(
                cert_path,
                "is not a CA certificate (no keyCertSign)",
            ));
        }
        Ok(Self {
            cert_pem,
            cert_der,
            cert_path: cert_path.to_owned(),
            issuer,
        })
    }

    /// Makes a new CA and writes it. Each file is written to a temporary name, then linked to
    /// its own: a link never replaces a file, so a CA made by another process at the same
    /// moment is kept (and this one's start fails on the half it finds, or loads it).
    fn create(dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the CA folder {}: {e}", dir.display()))?;
        let key = KeyPair::generate().map_err(|e| format!("cannot make the CA key: {e}"))?;
        let cert = ca_params()
            .self_signed(&key)
            .map_err(|e| format!("cannot make the CA certificate: {e}"))?;
        publish(key_path, key.serialize_pem().as_bytes(), 0o600)?;
        publish(cert_path, cert.pem().as_bytes(), 0o644)?;
        tracing::info!(path = %cert_path.display(), "created the emulator's certificate authority");
        Ok(())
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Where `ca.pem` is.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// A new leaf for `names` (DNS names, or IP addresses), signed by the CA: the first name
    /// is its common name; valid from a day ago (clocks differ) for a year.
    pub fn issue(&self, names: &[String]) -> Result<Leaf, String> {
        let mut params = CertificateParams::new(names.to_vec())
            .map_err(|e| format!("cannot name a certificate {names:?}: {e}"))?;
        let mut subject = DistinguishedName::new();
        subject.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_default(),
        );
        params.distinguished_name = subject;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(serial());
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(LEAF_DAYS);
        let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(|e| format!("cannot sign a certificate for {names:?}: {e}"))?;
        Ok(Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }
}

/// Whether both files appear within a second (the other process writes the key, then the
/// certificate).
fn made_meanwhile(cert_path: &Path, key_path: &Path) -> bool {
    for _ in 0..20 {
        if cert_path.exists() && key_path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// The CA's parameters (`endpoints.md` §3).
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, NAME);
    subject.push(DnType::OrganizationName, "ecs-emulator");
    params.distinguished_name = subject;
    // rcgen marks basicConstraints critical and writes a subject key identifier.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.serial_number = Some(serial());
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_DAYS);
    params
}

/// A random positive serial number of 16 bytes (RFC 5280 allows up to 20).
fn serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

/// Writes `bytes` to `path`, which must not exist yet, with `mode` from its creation (the
/// key is never readable by others, not even for a moment).
fn publish(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temporary = dir.join(format!(
        ".{}.{}.{:016x}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("ca"),
        std::process::id(),
        rand::random::<u64>()
    ));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let mut file = options.open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&temporary, path)
    })();
    let _ = std::fs::remove_file(&temporary);
    written.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "the CA key is readable by others than its owner; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

fn refusal(path: &Path, what: &str) -> String {
    format!(
        "the emulator's CA file {} {what}; refusing to start and leaving it untouched \
         (move the CA folder away to make a new CA, which every client must then trust again)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("ecs-emulator-ca-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_ca_is_made_once_then_reused() {
        let dir = folder("reuse");
        let first = Authority::load_or_create(&dir).unwrap();
        let again = Authority::load_or_create(&dir).unwrap();
        assert_eq!(first.cert_pem(), again.cert_pem());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let leaf = again
            .issue(&["ecs.cn-hangzhou.aliyuncs.com".to_owned()])
            .unwrap();
        assert!(!leaf.cert.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn processes_making_the_ca_at_once_share_one() {
        let dir = folder("race");
        let makers: Vec<_> = (0..4)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || Authority::load_or_create(&dir).map(|a| a.cert_pem))
            })
            .collect();
        let pems: Vec<String> = makers
            .into_iter()
            .map(|m| m.join().unwrap().unwrap())
            .collect();
        assert!(pems.windows(2).all(|w| w[0] == w[1]), "one CA");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_ca_is_refused_and_left_as_it_is() {
        let dir = folder("broken");
        Authority::load_or_create(&dir).unwrap();
        let other = folder("other");
        Authority::load_or_create(&other).unwrap();
        // Another CA's key.
        std::fs::copy(other.join(KEY_FILE), dir.join(KEY_FILE)).unwrap();
        let error = Authority::load_or_create(&dir).unwrap_err();
        assert!(error.contains("do not belong together"), "{error}");
        for (file, text, expected) in [
            (CERT_FILE, "garbage", "is not a PEM certificate"),
            (KEY_FILE, "garbage", "is not a PEM private key"),
        ] {
            let dir = folder("garbage");
            Authority::load_or_create(&dir).unwrap();
            std::fs::write(dir.join(file), text).unwrap();
            let error = Authority::load_or_create(&dir).unwrap_err();
            assert!(
                error.contains(expected) && error.contains("refusing to start"),
                "{error}"
            );
            assert_eq!(std::fs::read_to_string(dir.join(file)).unwrap(), text);
            std::fs::remove_dir_all(&dir).unwrap();
        }
        std::fs::remove_file(dir.join(KEY_FILE)).unwrap();
        let error = Authority::load_or_create(&dir).unwrap_err();
        assert!(error.contains("is missing"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&other).unwrap();
    }
}
