//! Trusting an identity provider's TLS as IAM does: a certificate chain that a CA the system trusts
//! signs is trusted; otherwise only through the provider's thumbprints, each the SHA-1 of the
//! certificate at the top of the chain the host serves. A matching top certificate is not enough by
//! itself (anyone can serve a public CA certificate after their own leaf): it becomes the trust
//! anchor, and the chain must verify up to it, for the host's name, as any chain does.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::{Arc, OnceLock};

/// The system's root certificates, loaded once (none when the system has none: then only
/// thumbprints trust a provider).
fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            let loaded = rustls_native_certs::load_native_certs();
            for cert in loaded.certs {
                // A certificate the system lists but webpki cannot read is skipped, as browsers do.
                let _ = roots.add(cert);
            }
            Arc::new(roots)
        })
        .clone()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The thumbprint IAM stores for a certificate: SHA-1 of its DER, lower-case hex.
pub(crate) fn thumbprint(cert: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// A verifier for one provider: the system's CAs, then its thumbprints.
#[derive(Debug)]
pub(crate) struct IdpVerifier {
    system: Option<Arc<WebPkiServerVerifier>>,
    thumbprints: Vec<String>,
    provider: Arc<CryptoProvider>,
}

impl IdpVerifier {
    /// A verifier trusting the system's CAs and these thumbprints (40 hex digits each).
    pub(crate) fn new(thumbprints: &[String]) -> IdpVerifier {
        let provider = provider();
        let roots = system_roots();
        let system = if roots.is_empty() {
            None
        } else {
            WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .ok()
        };
        IdpVerifier {
            system,
            thumbprints: thumbprints.iter().map(|t| t.to_ascii_lowercase()).collect(),
            provider,
        }
    }

    /// A rustls client configuration that verifies with this verifier.
    pub(crate) fn client_config(self) -> Result<rustls::ClientConfig, rustls::Error> {
        let provider = self.provider.clone();
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(self))
            .with_no_client_auth())
    }
}

impl ServerCertVerifier for IdpVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let by_system = match &self.system {
            Some(v) => {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            }
            None => Err(rustls::Error::General("the system trusts no CA".into())),
        };
        let system_error = match by_system {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
        };
        let top = intermediates.last().unwrap_or(end_entity);
        if !self.thumbprints.contains(&thumbprint(top)) {
            return Err(system_error);
        }
        // The pinned certificate becomes the only anchor, and the chain must verify up to it.
        let mut roots = RootCertStore::empty();
        roots
            .add(top.clone())
            .map_err(|e| rustls::Error::General(format!("the thumbprinted certificate: {e}")))?;
        let pinned =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let below: Vec<CertificateDer<'_>> = match intermediates.split_last() {
            Some((_, rest)) => rest.to_vec(),
            None => Vec::new(),
        };
        if intermediates.is_empty() {
            // A host serving only its own certificate, and that very certificate is pinned: the
            // handshake's signature proves the host holds its key.
            return Ok(ServerCertVerified::assertion());
        }
        pinned.verify_server_cert(end_entity, &below, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_are_sha1_hex() {
        // SHA-1("abc").
        assert_eq!(
            thumbprint(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
