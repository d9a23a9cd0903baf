//! The real Alibaba Cloud API hostnames (`endpoints.md` §1): which product and region a host
//! names, whether it is an Alibaba Cloud API host at all (the proxy answers only those,
//! `server::proxy`), and every host form, for `ecs-emulator hosts`.
//!
//! The table is [`TABLE`]: one row per product, with the host forms the SDKs use for it.
//! A host of a row whose product the emulator lacks routes by `Version`, as any other
//! `*.aliyuncs.com` host does.

use crate::actions::Product;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use std::borrow::Cow;
use std::sync::Arc;

/// The domain of every Alibaba Cloud API host.
pub const DOMAIN: &str = "aliyuncs.com";

/// One way a product's host is spelled, for the product's `prefix` (`ecs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `ecs.aliyuncs.com`: the central host, no region.
    Central,
    /// `ecs.<region>.aliyuncs.com`.
    Regional,
    /// `ecs-<region>.aliyuncs.com` (what the tea SDKs pick for ECS from the region).
    Dashed,
    /// `ecs-vpc.<region>.aliyuncs.com`, the VPC endpoint.
    Vpc,
}

/// A product's hosts.
struct Row {
    prefix: &'static str,
    forms: &'static [Form],
    /// The product its hosts route to; `None`: by `Version`, like any other Alibaba Cloud host.
    product: Option<Product>,
}

/// The host table of `endpoints.md` §1, row by row.
const TABLE: &[Row] = &[
    Row {
        prefix: "ecs",
        forms: &[Form::Central, Form::Regional, Form::Dashed, Form::Vpc],
        product: Some(Product::Ecs),
    },
    Row {
        prefix: "kms",
        forms: &[Form::Regional, Form::Vpc],
        product: Some(Product::Kms),
    },
    Row {
        prefix: "sts",
        forms: &[Form::Central, Form::Regional, Form::Vpc],
        product: Some(Product::Sts),
    },
];

/// What a request's host says about where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A product's host, with the region it names (if it names one).
    Product(Product, Option<String>),
    /// Another Alibaba Cloud API host (`ram.aliyuncs.com`, `vpc.<region>.aliyuncs.com`):
    /// routed by `Version`; the proxy answers it.
    Aliyun,
    /// Anything else (`127.0.0.1:8080`, `localhost`, a container's name): routed by `Version`.
    Other,
}

/// The host of a `CONNECT` tunnel, on each request that comes through it: the request's
/// host when it carries no `Host` header.
#[derive(Debug, Clone)]
pub struct TunnelHost(pub Arc<str>);

/// The host (no port, lower case, no trailing dot) of an authority: `host[:port]`, or
/// `[v6]:port` (brackets kept off). Borrowed when already so (every request reads it).
pub fn host_of(authority: &str) -> Cow<'_, str> {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    let host = host.trim_end_matches('.');
    match host.bytes().any(|b| b.is_ascii_uppercase()) {
        true => Cow::Owned(host.to_ascii_lowercase()),
        false => Cow::Borrowed(host),
    }
}

/// The host a request was sent to: its absolute URI's, else its `Host` header's, else its
/// tunnel's (`endpoints.md` §1).
pub fn of_request(parts: &Parts) -> Option<Cow<'_, str>> {
    of(
        &parts.uri,
        &parts.headers,
        parts.extensions.get::<TunnelHost>(),
    )
}

fn of<'r>(
    uri: &'r Uri,
    headers: &'r HeaderMap,
    tunnel: Option<&'r TunnelHost>,
) -> Option<Cow<'r, str>> {
    if let Some(authority) = uri.authority() {
        return Some(host_of(authority.as_str()));
    }
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) {
        return Some(host_of(host));
    }
    tunnel.map(|t| host_of(&t.0))
}

/// Whether `host` (as [`host_of`] gives it) is an Alibaba Cloud API host: a well-formed name
/// under `aliyuncs.com`.
pub fn is_aliyun(host: &str) -> bool {
    host.strip_suffix(DOMAIN)
        .and_then(|stem| stem.strip_suffix('.'))
        .is_some_and(|stem| !stem.is_empty() && stem.split('.').all(is_label))
        && host.len() <= 253
}

/// Where a request to `host` goes: one arm per row kind of `endpoints.md` §1.
pub fn destination(host: &str) -> Destination {
    if !is_aliyun(host) {
        return Destination::Other;
    }
    let stem = &host[..host.len() - DOMAIN.len() - 1];
    for row in TABLE {
        if let Some(region) = row.forms.iter().find_map(|form| matches(row, *form, stem)) {
            return match row.product {
                Some(product) => Destination::Product(product, region.map(str::to_owned)),
                None => Destination::Aliyun,
            };
        }
    }
    Destination::Aliyun
}

/// `Some(region)` when `stem` (the host without `.aliyuncs.com`) is `form` of `row`.
fn matches<'h>(row: &Row, form: Form, stem: &'h str) -> Option<Option<&'h str>> {
    let (first, region) = match stem.split_once('.') {
        Some((first, region)) if !region.contains('.') => (first, Some(region)),
        Some(_) => return None,
        None => (stem, None),
    };
    match (form, region) {
        (Form::Central, None) => (first == row.prefix).then_some(None),
        (Form::Regional, Some(region)) => (first == row.prefix).then_some(Some(region)),
        (Form::Dashed, None) => first
            .strip_prefix(row.prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|region| !region.is_empty())
            .map(Some),
        (Form::Vpc, Some(region)) => first
            .strip_prefix(row.prefix)
            .is_some_and(|rest| rest == "-vpc")
            .then_some(Some(region)),
        _ => None,
    }
}

/// A DNS label: 1 to 63 of `a-z0-9-`, not beginning or ending with `-`.
fn is_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Every host of the table for `regions`: each product's central host, then each regional
/// form per region (`ecs-emulator hosts`).
pub fn names<'r>(regions: impl IntoIterator<Item = &'r str> + Clone) -> Vec<String> {
    let mut names = Vec::new();
    for row in TABLE {
        let prefix = row.prefix;
        for form in row.forms {
            match form {
                Form::Central => names.push(format!("{prefix}.{DOMAIN}")),
                Form::Regional => names.extend(
                    regions
                        .clone()
                        .into_iter()
                        .map(|r| format!("{prefix}.{r}.{DOMAIN}")),
                ),
                Form::Dashed => names.extend(
                    regions
                        .clone()
                        .into_iter()
                        .map(|r| format!("{prefix}-{r}.{DOMAIN}")),
                ),
                Form::Vpc => names.extend(
                    regions
                        .clone()
                        .into_iter()
                        .map(|r| format!("{prefix}-vpc.{r}.{DOMAIN}")),
                ),
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(p: Product, region: Option<&str>) -> Destination {
        Destination::Product(p, region.map(str::to_owned))
    }

    /// The rows of `endpoints.md` §1, one assertion each.
    #[test]
    fn hosts_route_as_the_table_says() {
        let hz = Some("cn-hangzhou");
        for (host, expected) in [
            ("ecs.aliyuncs.com", product(Product::Ecs, None)),
            ("ecs.cn-hangzhou.aliyuncs.com", product(Product::Ecs, hz)),
            ("ecs-cn-hangzhou.aliyuncs.com", product(Product::Ecs, hz)),
            (
                "ecs-vpc.cn-hangzhou.aliyuncs.com",
                product(Product::Ecs, hz),
            ),
            ("kms.cn-hangzhou.aliyuncs.com", product(Product::Kms, hz)),
            (
                "kms-vpc.cn-hangzhou.aliyuncs.com",
                product(Product::Kms, hz),
            ),
            ("sts.aliyuncs.com", product(Product::Sts, None)),
            ("sts.cn-hangzhou.aliyuncs.com", product(Product::Sts, hz)),
            (
                "sts-vpc.cn-hangzhou.aliyuncs.com",
                product(Product::Sts, hz),
            ),
            // Forms a product does not have, and other products.
            ("kms.aliyuncs.com", Destination::Aliyun),
            ("kms-cn-hangzhou.aliyuncs.com", Destination::Aliyun),
            ("ecs.a.b.aliyuncs.com", Destination::Aliyun),
            ("ecsx.cn-hangzhou.aliyuncs.com", Destination::Aliyun),
            ("ram.aliyuncs.com", Destination::Aliyun),
            ("vpc.cn-hangzhou.aliyuncs.com", Destination::Aliyun),
            // Not Alibaba Cloud API hosts.
            ("aliyuncs.com", Destination::Other),
            (".aliyuncs.com", Destination::Other),
            ("ecs.aliyuncs.com.evil.example", Destination::Other),
            ("evilaliyuncs.com", Destination::Other),
            ("ecs..aliyuncs.com", Destination::Other),
            ("-x.aliyuncs.com", Destination::Other),
            ("127.0.0.1", Destination::Other),
            ("localhost", Destination::Other),
            ("ecs-emulator", Destination::Other),
        ] {
            assert_eq!(destination(host), expected, "{host}");
        }
    }

    #[test]
    fn hosts_are_read_from_the_uri_then_the_host_header_then_the_tunnel() {
        assert_eq!(
            host_of("ECS.cn-hangzhou.aliyuncs.com.:443"),
            "ecs.cn-hangzhou.aliyuncs.com"
        );
        assert_eq!(host_of("[::1]:8080"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
        let mut headers = HeaderMap::new();
        let tunnel = TunnelHost("kms.cn-shanghai.aliyuncs.com".into());
        let origin: Uri = "/?Action=X".parse().unwrap();
        assert_eq!(
            of(&origin, &headers, Some(&tunnel)).as_deref(),
            Some("kms.cn-shanghai.aliyuncs.com")
        );
        headers.insert(header::HOST, "ecs.aliyuncs.com".parse().unwrap());
        assert_eq!(
            of(&origin, &headers, Some(&tunnel)).as_deref(),
            Some("ecs.aliyuncs.com")
        );
        let absolute: Uri = "http://ecs-cn-hangzhou.aliyuncs.com/?A=1".parse().unwrap();
        assert_eq!(
            of(&absolute, &headers, None).as_deref(),
            Some("ecs-cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(of(&origin, &HeaderMap::new(), None), None);
    }

    #[test]
    fn every_listed_name_routes_back_to_its_row() {
        let names = names(["cn-hangzhou", "cn-shanghai"]);
        assert_eq!(names.len(), 1 + 3 * 2 + 2 * 2 + 1 + 2 * 2);
        assert!(names.contains(&"ecs.aliyuncs.com".to_owned()));
        assert!(names.contains(&"sts.aliyuncs.com".to_owned()));
        assert!(names.contains(&"ecs-cn-shanghai.aliyuncs.com".to_owned()));
        for name in &names {
            assert!(is_aliyun(name), "{name}");
            let product = match &name[..3] {
                "kms" => Product::Kms,
                "sts" => Product::Sts,
                _ => Product::Ecs,
            };
            let region = ["cn-hangzhou", "cn-shanghai"]
                .into_iter()
                .find(|r| name.contains(r));
            let expected = Destination::Product(product, region.map(str::to_owned));
            assert_eq!(destination(name), expected, "{name}");
        }
    }
}
