//! Stage 3, context: the condition keys AWS derives from a request — `aws:SourceIp`,
//! `aws:SecureTransport`, `aws:CurrentTime`, `aws:EpochTime`, `aws:RequestedRegion` (the region the
//! request is served in), `aws:UserAgent`, `aws:Referer`, `aws:RequestTag/*` and `aws:TagKeys` from
//! configured headers, what the identity brings (MFA, session tags), the route's keys. Principal
//! tags come from the store.

use crate::identify::Identity;
use crate::input::{forwarded_for, CheckInput};
use crate::settings::ContextSection;
use iamlet_auth::sigv4::{self, SigV4Error};
use iamlet_engine::{ContextMap, ContextValue, KnownKey};
use iamlet_routes::Mapped;

/// The client's address: `X-Forwarded-For` within `trusted_hops` for a proxied request, else the
/// connection's peer.
pub(crate) fn source_ip(settings: &ContextSection, input: &CheckInput) -> Option<String> {
    if input.origin.proxied() && settings.trusted_hops > 0 {
        if let Some(ip) = input
            .headers
            .get("x-forwarded-for")
            .and_then(|xff| forwarded_for(xff, settings.trusted_hops))
        {
            return Some(ip);
        }
    }
    input.source_address.clone()
}

/// The region this request is served in: the route's `aws:RequestedRegion`, else the configured
/// one; `None` when neither says.
pub(crate) fn served_region<'a>(
    settings: &'a ContextSection,
    mapped: &'a Mapped,
) -> Option<&'a str> {
    mapped
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("aws:RequestedRegion"))
        .map(|(_, v)| v.as_str())
        .or(settings.region.as_deref())
}

/// A SigV4 signature is for one region's endpoint: a scope naming another region than the one this
/// request is served in is refused, as AWS refuses it (the client never picks
/// `aws:RequestedRegion`).
pub(crate) fn check_signed_region(
    settings: &ContextSection,
    identity: &Identity,
    mapped: &Mapped,
) -> Result<(), SigV4Error> {
    match (
        identity.signed_region.as_deref(),
        served_region(settings, mapped),
    ) {
        (Some(signed), Some(served)) => sigv4::check_region(signed, served),
        _ => Ok(()),
    }
}

/// The request's condition keys but the clock's (`aws:CurrentTime`, `aws:EpochTime`: no cached
/// decision depends on them, so they are added only when a decision is made, by
/// [`ContextMap::insert_time`]). `source_ip` is [`source_ip`]'s answer for the input.
pub(crate) fn derive(
    settings: &ContextSection,
    input: &CheckInput,
    source_ip: Option<&str>,
    identity: &Identity,
    mapped: &Mapped,
) -> ContextMap {
    let mut ctx = ContextMap::new();
    if let Some(ip) = source_ip {
        ctx.insert_known(KnownKey::SOURCE_IP, ip);
    }
    let secure = input.scheme.eq_ignore_ascii_case("https") || input.source_principal.is_some();
    ctx.insert_known(KnownKey::SECURE_TRANSPORT, secure);
    if let Some(region) = &settings.region {
        ctx.insert_known(KnownKey::REQUESTED_REGION, region.as_str());
    }
    if let Some(ua) = input.headers.get("user-agent") {
        ctx.insert_known(KnownKey::USER_AGENT, ua.as_str());
    }
    if let Some(r) = input.headers.get("referer") {
        ctx.insert_known(KnownKey::REFERER, r.as_str());
    }
    // Direct clients' headers never become request tags.
    if input.origin.proxied() {
        let mut tag_keys = Vec::new();
        for (header, tag) in &settings.request_tags {
            if let Some(v) = input.headers.get(header.as_str()) {
                ctx.insert(&format!("aws:RequestTag/{tag}"), v.as_str());
                tag_keys.push(tag.clone());
            }
        }
        if !tag_keys.is_empty() {
            ctx.insert_known(KnownKey::TAG_KEYS, ContextValue::multi(tag_keys));
        }
    }
    for (k, v) in &identity.context {
        ctx.insert(k, v.clone());
    }
    for (k, v) in &mapped.context {
        ctx.insert(k, v.as_str());
    }
    ctx
}
