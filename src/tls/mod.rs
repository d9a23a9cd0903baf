//! TLS, terminated by the emulator itself with certificates of its own CA (`endpoints.md` §3):
//! one configuration per tunnelled host (a leaf for that host, made on first use and kept),
//! and one for `--tls-listen` (a leaf naming every host it may be reached as).
//!
//! rustls with the `ring` provider (no C toolchain beyond `cc`, unlike `aws-lc-rs`). Both
//! configurations offer HTTP/1.1 only in ALPN: the pipeline and its limits are HTTP/1.1's.

pub mod ca;

use ca::Authority;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Tunnelled hosts whose configuration is kept; past it the cache starts again (a client
/// naming ever new `*.aliyuncs.com` hosts cannot grow it without bound).
const MAX_CACHED_HOSTS: usize = 1024;

/// The CA and the TLS configurations made from it.
pub struct Tls {
    authority: Authority,
    provider: Arc<CryptoProvider>,
    /// Per tunnelled host: its configuration. One lock for all hosts: taken once per tunnel,
    /// never while a certificate is being made.
    tunnels: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls")
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

/// A server's only certificate.
#[derive(Debug)]
struct Only(Arc<CertifiedKey>);

impl ResolvesServerCert for Only {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

impl Tls {
    /// The CA of `ca_dir` (made there when absent, `ca::Authority::load_or_create`).
    pub fn load_or_create(ca_dir: &Path) -> Result<Self, String> {
        Ok(Self {
            authority: Authority::load_or_create(ca_dir)?,
            provider: Arc::new(rustls::crypto::ring::default_provider()),
            tunnels: Mutex::default(),
        })
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The configuration of a tunnel to `host`: a certificate for `host` alone. The
    /// certificate the client checks is the one for the host it asked to `CONNECT` to,
    /// whatever name its handshake gives.
    pub fn for_tunnel(&self, host: &str) -> Result<Arc<ServerConfig>, String> {
        let cached = self.tunnels().get(host).cloned();
        if let Some(config) = cached {
            return Ok(config);
        }
        let config = self.config(&[host.to_owned()])?;
        let mut tunnels = self.tunnels();
        if tunnels.len() >= MAX_CACHED_HOSTS {
            tunnels.clear();
        }
        Ok(Arc::clone(tunnels.entry(host.to_owned()).or_insert(config)))
    }

    /// The configuration of `--tls-listen`: `localhost`, `127.0.0.1`, `::1`,
    /// `*.aliyuncs.com`, and `*.<region>.aliyuncs.com` for each of `regions`.
    pub fn for_listener<'r>(
        &self,
        regions: impl IntoIterator<Item = &'r str>,
    ) -> Result<Arc<ServerConfig>, String> {
        self.config(&listener_names(regions))
    }

    fn config(&self, names: &[String]) -> Result<Arc<ServerConfig>, String> {
        let leaf = self.authority.issue(names)?;
        let key = CertifiedKey::from_der(vec![leaf.cert], leaf.key, &self.provider)
            .map_err(|e| format!("cannot use the certificate for {names:?}: {e}"))?;
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Only(Arc::new(key))));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    fn tunnels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ServerConfig>>> {
        self.tunnels.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The names of the `--tls-listen` certificate (`endpoints.md` §3). A wildcard covers one
/// label: `*.aliyuncs.com` covers `ecs-cn-hangzhou.aliyuncs.com`, not
/// `ecs.cn-hangzhou.aliyuncs.com`, hence one per region.
pub fn listener_names<'r>(regions: impl IntoIterator<Item = &'r str>) -> Vec<String> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    names.push(format!("*.{}", crate::hosts::DOMAIN));
    names.extend(
        regions
            .into_iter()
            .map(|region| format!("*.{region}.{}", crate::hosts::DOMAIN)),
    );
    names
}
